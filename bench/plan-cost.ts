import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpuSeconds } from './proc-cpu';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { QueryRunner } from 'typeorm';
import { createDataSource } from '../ormconfig';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { uuidv7 } from '../src/common/ids';
import { AccountType, LotState, emptyChanges, memberEntries } from '../src/modules/ledger/ledger.rules';
import { TRANSACTION_COLUMNS, lockMembers, writePosting } from '../src/modules/ledger/ledger.store';
import { MEMBER_STORED_COLUMNS } from '../src/modules/member/member.row';
import { transactionPostedEvents } from '../src/modules/posting/transaction.events';

/**
 * `node dist/bench/plan-cost.js` — PostgreSQL's own CPU for one single purchase's lock and write
 * statements (the service's SQL, named prepared statements), read from /proc for the backend that
 * ran them: with the default plan cache (custom plans for the first five calls, then the generic plan
 * when it costs no more) against plans made once per
 * connection (force_generic_plan). On a table that does not grow the generic plans cost less; in the
 * bench, where batches grow the tables, they cost more, so the service does not force them (README,
 * Measured) — measured while the bench analyzed its empty posting tables first, which made plans
 * kept from the first calls scan them (bench.ts, setup), and may have been the whole difference;
 * not measured again since. CPU time of one backend, so it
 * holds on a loaded machine where throughput does not. Not part of the tests.
 */
const N = Number(process.env.PLAN_COST_N ?? 2000);
/** A process's CPU time in ms, from /proc. */
const cpuMs = (pid: number) => cpuSeconds(pid) * 1000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coalition-hub-plan-'));
  const pg = await startEmbeddedPostgres({ dir });
  try {
    const db = createDataSource(pg.url, 2);
    await db.initialize();
    await db.runMigrations();
    await db.destroy();
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    const partnerId = uuidv7();
    await client.query(`INSERT INTO partner (id, code, code_key, name, redemption_value_per_point, issuance_price_per_point, earn_rule) VALUES ($1, 'plan', 'PLAN', 'Plan', 0.01, 0.01, '{"pointsPerUnit":"1","minSpend":null,"categoryMultipliers":[],"maxPointsPerTransaction":null,"maxPointsPerMemberPerDay":null,"firstPurchaseBonus":null,"everyNthVisit":null,"visitBonus":null,"pointsValidityDays":365}')`, [partnerId]);
    const members = Array.from({ length: Number(process.env.PLAN_COST_MEMBERS ?? 1000) }, () => uuidv7());
    await client.query(`INSERT INTO member (id, member_code, referral_code) SELECT id, lpad(n::text, 12, '0'), 'P' || lpad(n::text, 7, '0') FROM unnest($1::uuid[]) WITH ORDINALITY AS m(id, n)`, [members]);
    await client.query('INSERT INTO member_partner_link (member_id, partner_id) SELECT id, $1 FROM member', [partnerId]);
    // The filled tables only: analyzed empty, the posting tables would get sequential-scan plans (bench.ts, setup).
    await client.query('ANALYZE partner, member, member_partner_link');
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const raw = { databaseConnection: client } as unknown as QueryRunner;
    const caller = `partner:${partnerId}`;
    let n = 0;
    const one = async (generic: boolean) => {
      const memberId = members[n++ % members.length]!;
      const key = `k-${n}`;
      const now = new Date();
      await client.query(generic ? 'START TRANSACTION; SET LOCAL plan_cache_mode = force_generic_plan' : 'START TRANSACTION');
      const locked = await lockMembers(raw, [memberId], partnerId, caller, [{ memberId, key }]);
      const member = locked.get(memberId)!;
      const txId = uuidv7();
      const lot: LotState = { id: uuidv7(), transactionId: txId, issuer: { partnerId }, points: 12, remaining: 12,
        expiresAt: new Date(now.getTime() + 365 * 86_400_000), createdAt: now, isNew: true, dirty: true };
      const changes = emptyChanges();
      changes.entries.push(...memberEntries(memberId, txId, 12, { type: AccountType.PARTNER, id: partnerId }));
      const transactions = [{ member_id: memberId, id: txId, type: 'PURCHASE', partner_id: partnerId, caller, idempotency_key: key, request_hash: 'raw',
        points: 12, amount_minor: '1234', reverses_id: null, bonus_action: null, description: null, breakdown: [], occurred_at: now, posted_at: now }];
      await writePosting(raw, { transactions, events: transactionPostedEvents(transactions, { code: 'EUR', exponent: 2 }), changes, lots: [lot],
        lotOwner: new Map([[lot, memberId]]), debts: [], commissions: [], changedCommissions: [], donations: [], campaigns: [],
        members: [{ id: memberId, balance: Number(member.balance) + 12, debt: 0, tier: member.tier, successfulReferrals: member.successful_referrals,
          referralRewardedAt: member.referral_rewarded_at }] }, now);
      await client.query('COMMIT');
    };
    // The two modes use different statement names in the service; here one connection each would do
    // the same: alternate rounds so both see the same table sizes and the same machine load.
    const spent = { custom: 0, generic: 0 };
    for (let i = 0; i < 20; i++) await one(false);
    for (let round = 0; round < 10; round++) {
      for (const mode of ['custom', 'generic'] as const) {
        if (mode === 'generic') await client.query("SET plan_cache_mode = force_generic_plan"); else await client.query('RESET plan_cache_mode');
        const before = cpuMs(backend);
        for (let i = 0; i < N / 10; i++) await one(false);
        spent[mode] += cpuMs(backend) - before;
      }
    }
    await client.query('RESET plan_cache_mode');
    // The batch lock (500 members, 500 keys): the probe as it was (each locked member unnests all
    // the batch's keys) against lockMembers (each key probed once), in a transaction rolled back.
    const before = `SELECT ${MEMBER_STORED_COLUMNS},
            ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM member_partner_link l WHERE l.member_id = m.id AND l.partner_id = $2)) AS linked,
            (SELECT json_agg(t) FROM (SELECT ${TRANSACTION_COLUMNS.split(', ').map((c) => `t.${c.trim()}`).join(', ')}
              FROM unnest($4::uuid[], $5::text[]) AS k(m, key) JOIN ledger_transaction t ON t.member_id = k.m AND t.caller = $3 AND t.idempotency_key = k.key
              WHERE k.m = m.id) t) AS earlier
     FROM member m WHERE m.id = ANY($1::uuid[]) ORDER BY m.id FOR UPDATE OF m`;
    const lockSpent = { before: 0, now: 0 };
    const BATCHES = Number(process.env.PLAN_COST_BATCHES ?? 40);
    for (let round = 0; round < BATCHES; round++) {
      const batch = members.slice(0, 500).map((memberId, k) => ({ memberId, key: k % 2 ? `k-${k + 1}` : `absent-${round}-${k}` }));
      const ids = batch.map((b) => b.memberId).sort();
      for (const mode of ['before', 'now'] as const) {
        await client.query('START TRANSACTION');
        const t0 = cpuMs(backend);
        if (mode === 'before') await client.query({ name: 'lock-before', text: before, values: [ids, partnerId, caller, batch.map((b) => b.memberId), batch.map((b) => b.key)] });
        else await lockMembers(raw, ids, partnerId, caller, batch);
        lockSpent[mode] += cpuMs(backend) - t0;
        await client.query('ROLLBACK');
      }
    }
    console.log(`PostgreSQL backend CPU per batch lock of 500 members and keys (${BATCHES} each): probe per member over all keys ${(lockSpent.before / BATCHES).toFixed(1)} ms, each key probed once ${(lockSpent.now / BATCHES).toFixed(1)} ms`);
    console.log(`PostgreSQL backend CPU per single purchase (lock + write + commit, ${N} each): custom plans ${(spent.custom / N * 1000).toFixed(0)} µs, generic plans ${(spent.generic / N * 1000).toFixed(0)} µs`);
    await client.end();
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
