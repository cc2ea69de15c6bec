import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAppSchema, printAppSchema } from '../../src/api/schema';
import { TestHub, startTestHub } from '../support/hub';

let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

it('the migrations build exactly the tables the entities describe (nothing for migration:generate to do)', async () => {
  const pending = await hub.db.driver.createSchemaBuilder().log();
  expect(pending.upQueries.map((q) => q.query)).toEqual([]);
});

it('the committed schema/schema.graphql is the schema the code builds', async () => {
  const committed = readFileSync(join(__dirname, '../../schema/schema.graphql'), 'utf8');
  expect(printAppSchema(await buildAppSchema())).toBe(committed);
});

it('every member-scoped table has member_id first in its primary key and unique constraints (docs/rules.md, Growing past one machine)', async () => {
  const constraints: { table_name: string; constraint_type: string; first_column: string }[] = await hub.db.query(`
    SELECT tc.table_name, tc.constraint_type, (array_agg(kcu.column_name ORDER BY kcu.ordinal_position))[1] AS first_column
    FROM information_schema.table_constraints tc
    JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name
    WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
      AND tc.table_name IN ('ledger_transaction', 'ledger_entry', 'lot', 'lot_movement', 'member_debt', 'obligation', 'member_partner_link', 'member_preference', 'event', 'event_pending', 'club_membership', 'voucher')
    GROUP BY tc.table_name, tc.constraint_name, tc.constraint_type`);
  expect(constraints.length).toBeGreaterThanOrEqual(10);
  for (const c of constraints) expect({ table: c.table_name, first: c.first_column }).toEqual({ table: c.table_name, first: 'member_id' });
});
