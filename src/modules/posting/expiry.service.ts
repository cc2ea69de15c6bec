import { DataSource } from 'typeorm';
import { inTransaction, rows } from '../../db/transaction';
import { Logger, createLogger } from '../../common/logger';
import type { Config } from '../../config';
import { uuidv7 } from '../../common/ids';
import { EARLIEST_INSTANT } from '../../common/decimal';
import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { countJobRun } from '../../api/metrics';
import { loadTerms } from './posting-terms.store';
import { TransactionType } from '../ledger/ledger.types';
import { PostingRun, SYSTEM_CALLER } from './posting-run';
import { PostingRequest } from './posting.types';
import { QUALIFYING_POINTS_SQL } from '../earning/earn-history.store';
import { nextTier } from '../earning/tier.rules';
import { tierChangedEvent } from '../earning/tier.events';
import { loadMemberLinks } from '../member/member-links.store';
import { recordEvents } from '../webhook/webhook.store';
import { clock } from '../../common/clock';

/** The operator's run of the expiry job: `asOf` between 2000 and now. */
export async function runExpiryAsOf(ctx: { db: DataSource; config: Pick<Config, 'logLevel'> }, asOf: Date): Promise<Outcome<ExpiryResult>> {
  if (asOf.getTime() > Date.now() + 1000) return fail(userError(ErrorCode.INVALID_INPUT, 'asOf may not be in the future', ['input', 'asOf']));
  if (!(asOf.getTime() >= EARLIEST_INSTANT.getTime())) return fail(userError(ErrorCode.INVALID_INPUT, `asOf must be after ${EARLIEST_INSTANT.toISOString()}`, ['input', 'asOf']));
  return ok(await runExpiry(ctx.db, asOf, createLogger(ctx.config.logLevel)));
}

/** Members handled in one database transaction of the expiry job. */
const CHUNK = 200;

export interface ExpiryResult {
  expiredPoints: bigint;
  expiredLots: number;
  tierChanges: number;
  /** Members whose processing failed: logged, skipped, and tried again by the next run. */
  skippedMembers: number;
  /** Vouchers still ISSUED at their expiry that this run expired (their points given back). */
  expiredVouchers: number;
}

const NO_LOG: Logger = { info: () => undefined, error: () => undefined };

/**
 * Runs `work` on a chunk of members in one transaction; should it throw, runs it on each member
 * alone, so one member's data never stops a job that works on all members (docs/rules.md, Tiers):
 * a member that still fails is logged and skipped, and the next run tries it again.
 */
async function eachMemberSafely<T>(ids: string[], work: (ids: string[]) => Promise<T>, log: Logger, what: string,
  onSkip: (id: string) => void): Promise<T[]> {
  try {
    return [await work(ids)];
  } catch (error) {
    if (ids.length === 1) {
      log.error(`${what}: member ${ids[0]} skipped`, error);
      onSkip(ids[0]!);
      return [];
    }
    const done: T[] = [];
    for (const id of ids) done.push(...(await eachMemberSafely([id], work, log, what, onSkip)));
    return done;
  }
}

/**
 * The expiry job (docs/rules.md, Expiry; Tiers): every lot past its expiry at `asOf` gives what is left
 * of it to breakage, one EXPIRY transaction a member; then every tier is set to what the trailing
 * window qualifies for now (downgrades happen here). Members locked by a posting are skipped
 * (SKIP LOCKED) and picked up by the next run, so several servers may run it at once. Running it
 * twice expires nothing twice: an expired lot has nothing left. A member whose processing fails
 * is logged and skipped; the others are processed.
 */
export async function runExpiry(db: DataSource, asOf: Date, log: Logger = NO_LOG): Promise<ExpiryResult> {
  const result: ExpiryResult = { expiredPoints: 0n, expiredLots: 0, tierChanges: 0, skippedMembers: 0, expiredVouchers: 0 };
  const skipped = new Set<string>();
  const terms = await loadTerms(db, []);
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const due = await rows<{ member_id: string }>(db,
      `SELECT DISTINCT member_id FROM lot WHERE remaining > 0 AND expires_at <= $1 AND member_id > $2 ORDER BY member_id LIMIT ${CHUNK}`,
      [asOf.toISOString(), after]);
    if (!due.length) break;
    after = due[due.length - 1]!.member_id;
    const posted = await eachMemberSafely(due.map((d) => d.member_id), async (ids) => {
      const requests: PostingRequest[] = ids.map((memberId) => ({
        kind: TransactionType.EXPIRY, memberId, partnerId: null, asOf,
        // Not a retry key: what makes the job idempotent is that an expired lot has nothing left. A key
        // shared by runs with the same asOf would replay an old expiry instead of expiring points a
        // returned reward restored since.
        idempotencyKey: `expiry:${uuidv7()}`, requestHash: asOf.toISOString(),
      }));
      const outcome = await inTransaction(db, async (q) => {
        const run = await new PostingRun(q, terms, { caller: SYSTEM_CALLER, linkPartnerId: null, skipLocked: true }).run(requests);
        return { ok: true as const, value: run };
      });
      return outcome.ok ? outcome.value : [];
    }, log, 'expiry job', (id) => skipped.add(id));
    for (const posting of posted.flat()) {
      if (!posting.ok) continue;
      result.expiredPoints += BigInt(-posting.value.transaction.points);
      result.expiredLots += posting.value.expiredLots ?? 0;
    }
  }
  // After the lots: a voucher's points go back to their lots, and a lot past expiry meanwhile keeps
  // them until the next run moves them to breakage (docs/rules.md, Vouchers).
  result.expiredVouchers = await expireVouchers(db, terms, asOf, log, (id) => skipped.add(id));
  const tiers = await settleTiers(db, terms.coalition.tiers, log, (id) => skipped.add(id));
  result.tierChanges = tiers;
  result.skippedMembers = skipped.size;
  return result;
}

/**
 * Expires every voucher still ISSUED at its expiry at `asOf` (docs/rules.md, Vouchers): each one a
 * REVERSAL of its claim posted by the reward step (points back to the lots they came from, REWARD
 * obligations reversed, voucher EXPIRED, voucher.expired), keyed `voucher-expiry:<voucher id>` so
 * a run that overlaps another posts it once. A member locked by a posting is skipped and picked up
 * by the next run. Returns the number expired.
 */
async function expireVouchers(db: DataSource, terms: Awaited<ReturnType<typeof loadTerms>>, asOf: Date, log: Logger, onSkip: (id: string) => void): Promise<number> {
  let expired = 0;
  let after = { memberId: '00000000-0000-0000-0000-000000000000', id: '00000000-0000-0000-0000-000000000000' };
  for (;;) {
    const due = await rows<{ member_id: string; id: string; transaction_id: string }>(db,
      `SELECT member_id, id, transaction_id FROM voucher WHERE state = 'ISSUED' AND expires_at <= $1 AND (member_id, id) > ($2::uuid, $3::uuid)
       ORDER BY member_id, id LIMIT ${CHUNK}`, [asOf.toISOString(), after.memberId, after.id]);
    if (!due.length) break;
    const last = due[due.length - 1]!;
    after = { memberId: last.member_id, id: last.id };
    for (const v of due) {
      const done = await eachMemberSafely([v.member_id], async () => {
        const request: PostingRequest = {
          kind: TransactionType.REVERSAL, memberId: v.member_id, partnerId: null, originalId: v.transaction_id, refundMinor: null,
          voucher: { id: v.id, to: 'EXPIRED' }, idempotencyKey: `voucher-expiry:${v.id}`, requestHash: v.id,
        };
        const outcome = await inTransaction(db, async (q) => ({ ok: true as const,
          value: await new PostingRun(q, terms, { caller: SYSTEM_CALLER, linkPartnerId: null, skipLocked: true }).run([request]) }));
        return outcome.ok && outcome.value[0]!.ok ? 1 : 0;
      }, log, 'expiry job, vouchers', onSkip);
      expired += done.reduce((sum: number, n) => sum + n, 0);
    }
  }
  return expired;
}

/**
 * Sets every tiered member's tier to what its trailing window qualifies for now (a tier is a
 * present state, whatever `asOf` the lots were expired at). Members without a tier are upgraded by
 * their next purchase, so they need no visit here. Returns the number of tiers changed.
 */
async function settleTiers(db: DataSource, tiers: Parameters<typeof nextTier>[2], log: Logger, onSkip: (id: string) => void): Promise<number> {
  let changes = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    // Candidates first, without a lock; each chunk then locks and reads them in its own transaction.
    const candidates = await rows<{ id: string }>(db, `SELECT m.id FROM member m WHERE m.id > $1 AND m.tier IS NOT NULL ORDER BY m.id LIMIT ${CHUNK}`, [after]);
    if (!candidates.length) break;
    after = candidates[candidates.length - 1]!.id;
    const changed = await eachMemberSafely(candidates.map((c) => c.id), (ids) => settleTierChunk(db, tiers, ids), log, 'expiry job, tiers', onSkip);
    changes += changed.reduce((sum, n) => sum + n, 0);
  }
  return changes;
}

async function settleTierChunk(db: DataSource, tiers: Parameters<typeof nextTier>[2], ids: string[]): Promise<number> {
  const outcome = await inTransaction(db, async (q) => {
    // Lock first, then read: a statement's snapshot predates its lock waits, and a purchase that
    // upgraded a member meanwhile must be counted.
    const lockedIds = await rows<{ id: string }>(q,
      'SELECT m.id FROM member m WHERE m.id = ANY($1::uuid[]) AND m.tier IS NOT NULL ORDER BY m.id FOR UPDATE OF m SKIP LOCKED', [ids]);
    const members = lockedIds.length ? await rows<{ id: string; tier: string | null; qualifying: string }>(q,
      `SELECT m.id, m.tier, ${QUALIFYING_POINTS_SQL('m.id', 'now()')}::text AS qualifying FROM member m WHERE m.id = ANY($1::uuid[]) ORDER BY m.id`,
      [lockedIds.map((m) => m.id)]) : [];
    const changed = members.flatMap((m) => {
      const tier = nextTier(m.tier, Number(m.qualifying), tiers, true);
      return tier === m.tier ? [] : [{ id: m.id, from: m.tier, tier }];
    });
    if (changed.length) {
      await rows(q, `UPDATE member SET tier = v.tier FROM unnest($1::uuid[], $2::text[]) AS v(id, tier) WHERE member.id = v.id`,
        [changed.map((c) => c.id), changed.map((c) => c.tier)]);
      // Downgrades are tier changes like any other: tier.changed to the operator and every linked partner, in this transaction.
      const links = await loadMemberLinks(q, changed.map((c) => c.id));
      const at = clock.now();
      await recordEvents(q, changed.map((c) => tierChangedEvent(c.id, c.from, c.tier, (links.get(c.id) ?? []).map((l) => l.partnerId), at)));
    }
    return { ok: true as const, value: changed.length };
  });
  return outcome.ok ? outcome.value : 0;
}

/** Runs the expiry job every `intervalSeconds` in this server (0: never). Returns a stop function. */
export function startExpiryScheduler(db: DataSource, intervalSeconds: number, log: Logger): () => void {
  if (intervalSeconds <= 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runExpiry(db, new Date(), log)
      .then((r) => { countJobRun('expiry', 'ok'); return r; }, (error: unknown) => { countJobRun('expiry', 'failed'); throw error; })
      .then((r) => { if (r.expiredLots || r.tierChanges || r.skippedMembers) log.info('expiry job', { expiredPoints: r.expiredPoints.toString(), expiredLots: r.expiredLots, tierChanges: r.tierChanges, skippedMembers: r.skippedMembers }); })
      .catch((error: unknown) => log.error('expiry job failed', error))
      .finally(() => { running = false; });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
