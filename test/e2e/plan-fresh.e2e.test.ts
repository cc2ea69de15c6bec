import { Client } from 'pg';
import { nearLotsStatement } from '../../src/modules/ledger/ledger.store';
import { TestHub, startTestHub } from '../support/hub';
import { explainPrepared, insertLots, testMember } from '../support/lot-plans';

/**
 * Plans a connection keeps on a fresh install. A prepared statement's generic plan is made from the
 * statistics of its first calls and kept for the connection. Right after the migrations the posting
 * tables have never been analyzed, and PostgreSQL assumes a few pages of them: a purchase's near-lots
 * read (lockMembers) gets its index plan even when the lot table holds one row, and keeps reading a
 * few buffers once it holds 40 lots a member. Had the tables been analyzed while empty (as the bench's
 * setup once did with a database-wide ANALYZE), the plan kept would be a sequential scan of the whole
 * table: the second test shows that case, which README "Database statistics" tells operators to avoid.
 * Its own database (not plan-drift's, which analyzes the lot table).
 */
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

/**
 * The near-lots read of one member, prepared as `name` and called eight times (past the five after
 * which a connection may keep a generic plan) while the lot table holds one row (tag `<prefix>1`),
 * then explained once the table holds 40 lots for each of 3,200 members (tag `<prefix>2`).
 */
async function preparedSmallThenGrown(client: Client, prefix: string, name: string) {
  await insertLots(client, `${prefix}1`, 1, 1);
  const statement = nearLotsStatement([testMember(`${prefix}1`, 1)], new Date());
  for (let i = 0; i < 8; i++) await client.query({ name, text: statement.sql, values: statement.params });
  await insertLots(client, `${prefix}2`, 3200, 40);
  const generic = async () => Number((await client.query(`SELECT generic_plans FROM pg_prepared_statements WHERE name = $1`, [name])).rows[0].generic_plans);
  const before = await generic();
  const kept = await explainPrepared(client, name, statement.params);
  // The plan explained is the generic one kept from the one-row calls, not a custom plan made now.
  expect(before).toBeGreaterThan(0);
  expect(await generic()).toBe(before + 1);
  return { kept, statement };
}

it('right after the migrations, the near-lots read prepared on a one-row lot table keeps an index plan as the table grows', async () => {
  const client = new Client({ connectionString: hub.databaseUrl });
  await client.connect();
  try {
    // First in this file, on its fresh database: nothing has analyzed the lot table yet.
    const analyzed = (await client.query(`SELECT reltuples FROM pg_class WHERE relname = 'lot'`)).rows[0].reltuples;
    expect(analyzed).toBe(-1); // never analyzed: the migrations leave it so
    // No autoanalyze in between (it would replan the kept statement from fresh statistics, and pass for the wrong reason).
    await client.query('ALTER TABLE lot SET (autovacuum_enabled = false)');
    const { kept } = await preparedSmallThenGrown(client, 'f1f', 'near_lots');
    expect(kept.seqScan).toBe(false);
    expect(kept.buffers).toBeLessThanOrEqual(12);
  } finally {
    await client.query(`DELETE FROM lot WHERE member_id::text LIKE '0190a0a0-0000-7000-8000-f1f%'`);
    await client.query('ALTER TABLE lot RESET (autovacuum_enabled)');
    await client.end();
  }
}, 60_000);

it('analyzed while empty, the same read prepared on a one-row table keeps a sequential scan (what the bench\'s setup did)', async () => {
  const client = new Client({ connectionString: hub.databaseUrl });
  await client.connect();
  try {
    // No autoanalyze in between (it would replan the kept statement): the 128,000 rows below would call one.
    await client.query('ALTER TABLE lot SET (autovacuum_enabled = false)');
    await client.query('VACUUM lot');
    await client.query('ANALYZE lot');
    expect((await client.query(`SELECT reltuples FROM pg_class WHERE relname = 'lot'`)).rows[0].reltuples).toBe(0);
    const { kept, statement } = await preparedSmallThenGrown(client, 'f2f', 'near_lots_empty');
    expect(kept.seqScan).toBe(true);
    expect(kept.buffers).toBeGreaterThan(500); // the whole table, against ≤ 12 above
    // A fresh plan of the same statement reads the table's current size and takes the index.
    await client.query(`PREPARE near_lots_fresh AS ${statement.sql}`);
    expect((await explainPrepared(client, 'near_lots_fresh', statement.params)).seqScan).toBe(false);
  } finally {
    await client.query(`DELETE FROM lot WHERE member_id::text LIKE '0190a0a0-0000-7000-8000-f2f%'`);
    await client.query('ALTER TABLE lot RESET (autovacuum_enabled)');
    await client.end();
  }
}, 60_000);
