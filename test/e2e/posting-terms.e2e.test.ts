import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, createPartner, enroll, ledgerCheck, purchase, unique } from '../support/scenario';

/**
 * The terms a purchase reads are kept by the server between purchases (docs/rules.md, How a posting
 * runs): a change to them — here made straight in the database, as another server instance's commit
 * would be, so this server learns of it only through `terms_version` — counts from the next posting.
 */
let hub: TestHub;
let partner: TestPartner;
let member: TestMember;
const DAY = 86_400_000;

beforeAll(async () => {
  hub = await startTestHub();
  partner = await createPartner(hub, { pointsPerUnit: '1' });
  member = await enroll(hub, partner);
});
afterAll(() => hub.close());
afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

async function version(): Promise<number> {
  return Number((await hub.db.query('SELECT version FROM terms_version WHERE id = 1'))[0].version);
}

it('an earn rule changed in the database by someone else counts from the next purchase, single and batched', async () => {
  expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(10);
  expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(10);
  const before = await version();
  await hub.db.query(`UPDATE partner SET earn_rule = jsonb_set(earn_rule, '{pointsPerUnit}', '"3"') WHERE id = $1`, [partner.id]);
  expect(await version()).toBe(before + 1);
  expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(30);
  const res = await hub.gql(`mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { transaction { points } userErrors { code } } }`,
    { inputs: [{ idempotencyKey: unique('k'), memberId: member.id, amount: '2.00' }, { idempotencyKey: unique('k'), memberId: member.id, amount: '1.00' }] }, partner.token);
  expect(res.data.recordPurchases).toEqual([{ transaction: { points: 6 }, userErrors: [] }, { transaction: { points: 3 }, userErrors: [] }]);
});

it('a backdating limit raised in the database by someone else admits a purchase the kept terms would refuse', async () => {
  await hub.db.query('UPDATE coalition SET max_backdate_days = 5 WHERE id = 1');
  const tenDaysAgo = new Date(Date.now() - 10 * DAY).toISOString();
  const refused = await purchase(hub, partner, member, '10.00', { occurredAt: tenDaysAgo });
  expect(refused.userErrors.map((e: { code: string }) => e.code)).toEqual(['INVALID_INPUT']);
  expect((await purchase(hub, partner, member, '1.00')).userErrors).toEqual([]); // keeps the terms with the limit at 5 days
  await hub.db.query('UPDATE coalition SET max_backdate_days = 30 WHERE id = 1');
  const admitted = await purchase(hub, partner, member, '10.00', { occurredAt: tenDaysAgo });
  expect(admitted.userErrors).toEqual([]);
  expect(admitted.transaction.occurredAt).toBe(tenDaysAgo);
});

it('columns the terms do not read leave the version alone', async () => {
  const before = await version();
  await hub.db.query(`UPDATE partner SET name = 'Renamed' WHERE id = $1`, [partner.id]);
  expect(await version()).toBe(before);
});
