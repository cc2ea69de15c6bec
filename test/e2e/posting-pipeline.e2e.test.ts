import { preparedRows, preparedStatements } from '../../src/db/transaction';
import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, createPartner, enroll, ledgerCheck, purchase } from '../support/scenario';

/**
 * The posting pipeline's edges (src/db/transaction.ts, posting-terms.store.ts): statements sent
 * several under one Sync, on node-postgres's internals (pg pinned), and terms kept between postings.
 * One connection in the pool, so each test's next statement runs on the connection the failure used.
 */
let hub: TestHub;
let partner: TestPartner;
let member: TestMember;

beforeAll(async () => {
  hub = await startTestHub({ poolSize: 1 });
  partner = await createPartner(hub, { pointsPerUnit: '1' });
  member = await enroll(hub, partner);
});
afterAll(() => hub.close(), 20_000);

it('a pipeline failing at its first or its last statement leaves the pooled connection usable, its statements prepared or not as the server has them', async () => {
  const q = hub.db.createQueryRunner();
  await q.connect();
  const a = 'SELECT $1::int + 1 AS v /* pipeline-a */';
  const b = 'SELECT $1::int * 2 AS v /* pipeline-b */';
  await expect(preparedStatements(q, [{ sql: a, params: [1] }, { sql: 'SELECT 1 / $1::int AS boom', params: [0] }])).rejects.toThrow(/division by zero/);
  await expect(preparedStatements(q, [{ sql: 'SELECT 1 / $1::int AS boom', params: [0] }, { sql: b, params: [1] }])).rejects.toThrow(/division by zero/);
  expect(await preparedRows(q, a, [1])).toEqual([{ v: 2 }]);
  expect(await preparedRows(q, b, [2])).toEqual([{ v: 4 }]);
  expect(await preparedStatements(q, [{ sql: a, params: [5] }, { sql: b, params: [5] }])).toEqual([[{ v: 6 }], [{ v: 10 }]]);
  await q.release();
  expect((await purchase(hub, partner, member, '3.00')).transaction.points).toBe(3);
});

it('a value that cannot be encoded fails the pipeline before anything is sent: the connection answers the next statement at once', async () => {
  const q = hub.db.createQueryRunner();
  await q.connect();
  const bad = { toPostgres() { throw new Error('cannot encode'); } };
  await expect(preparedStatements(q, [{ sql: 'SELECT $1::int AS a /* pipeline-c */', params: [1] }, { sql: 'SELECT $1::text AS b /* pipeline-d */', params: [bad] }]))
    .rejects.toThrow(/cannot encode/);
  const next = Promise.race([q.query('SELECT 1 AS ok'), new Promise((_, reject) => setTimeout(() => reject(new Error('the connection hung after the failed pipeline')), 3000))]);
  await expect(next).resolves.toEqual([{ ok: 1 }]);
  await q.release();
});

it('with the terms version row missing, kept terms are not trusted: an earn rule changed in the database counts at the next purchase', async () => {
  expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(10);
  await hub.db.query('DELETE FROM terms_version');
  try {
    expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(10);
    await hub.db.query(`UPDATE partner SET earn_rule = jsonb_set(earn_rule, '{pointsPerUnit}', '"3"') WHERE id = $1`, [partner.id]);
    expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(30);
  } finally {
    await hub.db.query('INSERT INTO terms_version (id, version) VALUES (1, 1000) ON CONFLICT DO NOTHING');
  }
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});
