import { Client } from 'pg';

/**
 * Helpers of the plan tests (plan-drift, plan-fresh): test lots written straight into the lot table,
 * and what a prepared statement's plan reads.
 */

/** The id of test member `n` (1-based) of tag `tag` (4 hex digits): `0190a0a0-0000-7000-8000-<tag><n, 8 digits>`. */
export const testMember = (tag: string, n: number) => `0190a0a0-0000-7000-8000-${tag}${String(n).padStart(8, '0')}`;

/** `perMember` open lots for each of members 1…`members` of tag `tag` (testMember), far from expiry, none pending. */
export async function insertLots(client: Client, tag: string, members: number, perMember: number): Promise<void> {
  await client.query(`INSERT INTO lot (member_id, id, transaction_id, issuer_type, issuer_id, points, remaining, expires_at, created_at)
    SELECT ('0190a0a0-0000-7000-8000-${tag}' || lpad(m::text, 8, '0'))::uuid, gen_random_uuid(), gen_random_uuid(), 'PARTNER', NULL, 10, 10, now() + interval '365 days', now()
    FROM generate_series(1, $1::int) m, generate_series(1, $2::int) k`, [members, perMember]);
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of prepared statement `name` executed with `params` (as text literals):
 * the shared buffers (hit or read) its plan read, and whether the plan scans a table sequentially.
 */
export async function explainPrepared(client: Client, name: string, params: unknown[]): Promise<{ buffers: number; seqScan: boolean }> {
  const literal = (v: unknown) => `'${String(v).replace(/'/g, "''")}'`;
  const [explained] = (await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE ${name}(${params.map(literal).join(', ')})`)).rows;
  const plan = explained['QUERY PLAN'][0].Plan;
  return { buffers: (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0), seqScan: JSON.stringify(plan).includes('"Seq Scan"') };
}
