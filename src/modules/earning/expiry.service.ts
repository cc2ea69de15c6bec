import { DataSource } from 'typeorm';
import { inTransaction, rows } from '../../db/transaction';
import { Logger } from '../../common/logger';
import { uuidv7 } from '../../common/ids';
import { EARLIEST_INSTANT } from '../../common/decimal';
import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { countJobRun } from '../../api/metrics';
import { loadTerms } from '../ledger/ledger.store';
import { TransactionType } from '../ledger/ledger.types';
import { PostingRun, SYSTEM_CALLER } from '../ledger/posting-run';
import { PostingRequest } from '../ledger/posting.types';
import { QUALIFYING_POINTS_SQL } from './earn-history.store';
import { nextTier } from './tier.rules';

/** The operator's run of the expiry job: `asOf` between 2000 and now. */
export async function runExpiryAsOf(ctx: { db: DataSource }, asOf: Date): Promise<Outcome<ExpiryResult>> {
  if (asOf.getTime() > Date.now() + 1000) return fail(userError(ErrorCode.INVALID_INPUT, 'asOf may not be in the future', ['input', 'asOf']));
  if (!(asOf.getTime() >= EARLIEST_INSTANT.getTime())) return fail(userError(ErrorCode.INVALID_INPUT, `asOf must be after ${EARLIEST_INSTANT.toISOString()}`, ['input', 'asOf']));
  return ok(await runExpiry(ctx.db, asOf));
}

/** Members handled in one database transaction of the expiry job. */
const CHUNK = 200;

export interface ExpiryResult {
  expiredPoints: bigint;
  expiredLots: number;
  tierChanges: number;
}

/**
 * The expiry job (DESIGN.md, Expiry; Tiers): every lot past its expiry at `asOf` gives what is left
 * of it to breakage, one EXPIRY transaction a member; then every tier is set to what the trailing
 * window qualifies for now (downgrades happen here). Members locked by a posting are skipped
 * (SKIP LOCKED) and picked up by the next run, so several servers may run it at once. Running it
 * twice expires nothing twice: an expired lot has nothing left.
 */
export async function runExpiry(db: DataSource, asOf: Date): Promise<ExpiryResult> {
  const result: ExpiryResult = { expiredPoints: 0n, expiredLots: 0, tierChanges: 0 };
  const terms = await loadTerms(db, []);
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const due = await rows<{ member_id: string }>(db,
      `SELECT DISTINCT member_id FROM lot WHERE remaining > 0 AND expires_at <= $1 AND member_id > $2 ORDER BY member_id LIMIT ${CHUNK}`,
      [asOf.toISOString(), after]);
    if (!due.length) break;
    after = due[due.length - 1]!.member_id;
    const requests: PostingRequest[] = due.map((d) => ({
      kind: TransactionType.EXPIRY, memberId: d.member_id, partnerId: null, asOf,
      // Not a retry key: what makes the job idempotent is that an expired lot has nothing left. A key
      // shared by runs with the same asOf would replay an old expiry instead of expiring points a
      // returned reward restored since.
      idempotencyKey: `expiry:${uuidv7()}`, requestHash: asOf.toISOString(),
    }));
    const outcome = await inTransaction(db, async (q) => {
      const posted = await new PostingRun(q, terms, { caller: SYSTEM_CALLER, linkPartnerId: null, skipLocked: true }).run(requests);
      return { ok: true as const, value: posted };
    });
    if (!outcome.ok) continue;
    for (const posted of outcome.value) {
      if (!posted.ok) continue;
      result.expiredPoints += BigInt(-posted.value.transaction.points);
      result.expiredLots += posted.value.expiredLots ?? 0;
    }
  }
  result.tierChanges = await settleTiers(db, terms.coalition.tiers);
  return result;
}

/**
 * Sets every tiered member's tier to what its trailing window qualifies for now (a tier is a
 * present state, whatever `asOf` the lots were expired at). Members without a tier are upgraded by
 * their next purchase, so they need no visit here.
 */
async function settleTiers(db: DataSource, tiers: Parameters<typeof nextTier>[2]): Promise<number> {
  let changes = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const outcome = await inTransaction(db, async (q) => {
      // Lock first, then read: a statement's snapshot predates its lock waits, and a purchase that
      // upgraded a member meanwhile must be counted.
      const lockedIds = await rows<{ id: string }>(q,
        `SELECT m.id FROM member m WHERE m.id > $1 AND m.tier IS NOT NULL ORDER BY m.id LIMIT ${CHUNK} FOR UPDATE OF m SKIP LOCKED`, [after]);
      const members = lockedIds.length ? await rows<{ id: string; tier: string | null; qualifying: number }>(q,
        `SELECT m.id, m.tier, ${QUALIFYING_POINTS_SQL('m.id', 'now()')} AS qualifying FROM member m WHERE m.id = ANY($1::uuid[]) ORDER BY m.id`,
        [lockedIds.map((m) => m.id)]) : [];
      const changed = members.flatMap((m) => {
        const tier = nextTier(m.tier, m.qualifying, tiers, true);
        return tier === m.tier ? [] : [{ id: m.id, tier }];
      });
      if (changed.length) {
        await rows(q, `UPDATE member SET tier = v.tier FROM unnest($1::uuid[], $2::text[]) AS v(id, tier) WHERE member.id = v.id`,
          [changed.map((c) => c.id), changed.map((c) => c.tier)]);
      }
      return { ok: true as const, value: { last: members.at(-1)?.id, changed: changed.length } };
    });
    if (!outcome.ok || !outcome.value.last) break;
    changes += outcome.value.changed;
    after = outcome.value.last;
  }
  return changes;
}

/** Runs the expiry job every `intervalSeconds` in this server (0: never). Returns a stop function. */
export function startExpiryScheduler(db: DataSource, intervalSeconds: number, log: Logger): () => void {
  if (intervalSeconds <= 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runExpiry(db, new Date())
      .then((r) => { countJobRun('expiry', 'ok'); return r; }, (error: unknown) => { countJobRun('expiry', 'failed'); throw error; })
      .then((r) => { if (r.expiredLots || r.tierChanges) log.info('expiry job', { expiredPoints: r.expiredPoints.toString(), expiredLots: r.expiredLots, tierChanges: r.tierChanges }); })
      .catch((error: unknown) => log.error('expiry job failed', error))
      .finally(() => { running = false; });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
