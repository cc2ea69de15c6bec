import { Client } from 'pg';
import { nearLotsStatement } from '../../src/modules/ledger/ledger.store';
import { TestHub, startTestHub } from '../support/hub';
import { explainPrepared, insertLots } from '../support/lot-plans';

/**
 * Plans a connection keeps. The service's statements are named prepared statements: after five
 * calls a connection may keep one generic plan for good, made from the statistics of that moment.
 * A statement whose generic plan made on small tables reads more rows as the tables grow goes
 * slower and slower through a server's life (the bench's near-lots read: 79 → 373 µs a purchase
 * within one run). Each test prepares a statement on a small table, grows the table, and counts the
 * buffers one call reads.
 */
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

it('a purchase\'s near-lots read (lockMembers) prepared while members had one lot each still reads only a few buffers at 40 lots a member, and finds the lots it should', async () => {
  const client = new Client({ connectionString: hub.databaseUrl });
  await client.connect();
  try {
    await insertLots(client, 'e1e1', 3200, 1);
    await client.query('ANALYZE lot');
    const member = '0190a0a0-0000-7000-8000-e1e100000007';
    const statement = nearLotsStatement([member], new Date());
    // As a service connection calls it: named, prepared once; past five calls its plan may stay generic.
    for (let i = 0; i < 8; i++) expect((await client.query({ name: 'near_lots', text: statement.sql, values: statement.params })).rows).toEqual([]);
    await insertLots(client, 'e1e1', 3200, 39);
    const { buffers } = await explainPrepared(client, 'near_lots', statement.params);
    // One index probe a half (a few pages): the OR's plan, kept from the small table, read the member's every open lot (42).
    expect(buffers).toBeLessThanOrEqual(12);
    // Still right: a lot expiring within the window, and a pending one, are found (once each).
    await client.query(`UPDATE lot SET expires_at = now() + interval '10 seconds' WHERE member_id = $1 AND id = (SELECT id FROM lot WHERE member_id = $1 ORDER BY id LIMIT 1)`, [member]);
    await client.query(`UPDATE lot SET available_at = now() + interval '30 days' WHERE member_id = $1 AND id = (SELECT id FROM lot WHERE member_id = $1 ORDER BY id OFFSET 1 LIMIT 1)`, [member]);
    const found = (await client.query({ name: 'near_lots', text: statement.sql, values: statement.params })).rows;
    expect(found).toHaveLength(2);
    expect(found.filter((l: { available_at: Date | null }) => l.available_at !== null)).toHaveLength(1);
  } finally {
    await client.query(`DELETE FROM lot WHERE member_id::text LIKE '0190a0a0-0000-7000-8000-e1e1%'`);
    await client.end();
  }
}, 60_000);
