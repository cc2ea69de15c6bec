import { QueryRunner } from 'typeorm';
import { commitWithNextStatement } from '../../db/transaction';
import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { MAX_INT32 } from '../../common/decimal';
import { uuidv7 } from '../../common/ids';
import { DEFAULT_POINTS_VALIDITY_DAYS, EarnResult } from '../earning/earn-rule';
import { History, NO_HISTORY_ROWS, isEmpty, loadHistory } from '../earning/earn-history.store';
import { Member } from '../member/member.types';
import { toMember } from '../member/member.service';
import { DebtState, LotState, MemberBook, emptyChanges, refundPoints } from '../ledger/ledger.rules';
import {
  Posting, TransactionRow, findTransaction, loadConsumption, loadExpiredPoints, loadLots, loadOpenDebts, loadOwnLot,
  DonationRow, LockedMember, NEAR_LOTS_WINDOW_MS, expiredAndPending, findByKeys, lockMembers, reversalTotals, writePosting,
} from '../ledger/ledger.store';
import { loadPartnerTerms } from './posting-terms.store';
import { loadCommissions } from '../affiliate/commission.store';
import { loadCauses } from '../charity/donation.store';
import { Claims, emptyClaims, loadClaims } from '../reward/claim.store';
import { postingEffectEvents, transactionPostedEvents } from './transaction.events';
import { MemberLink, loadMemberLinks } from '../member/member-links.store';
import { TransactionType } from '../ledger/ledger.types';
import { PartnerTerms, PostingRequest, PostingTerms, ReversalOriginal } from './posting.types';
import { Applied, CauseRow, Effects, MemberState, NeedView, Needs, PostingStep, RunOptions, StaleTerms, StepScope } from './posting-step';
import { POSTING_STEPS } from './steps';
import { SYSTEM_CALLER, referralBonusKey } from './steps/referral.step';

export { SYSTEM_CALLER };
export type { RunOptions };

const DAY_MS = 86_400_000;

export interface RawPosted {
  transaction: TransactionRow;
  member: Member;
  earned?: EarnResult;
  /** A purchase: when its points become available (the posting time when there is no return window). */
  availableAt?: Date;
  expiredLots?: number;
  donation?: DonationRow;
}

/**
 * One batch of postings inside one database transaction: lock the members in id order, read what
 * the rules need of them after the lock (the core's loads plus what the steps declared, batched:
 * history only when a rule asks), apply each request in order to the members' books (each judged on
 * its own against what the requests before it left), then write every row the successful requests
 * produced in one statement (writePosting). The pure-ledger kinds (bonus, redemption, reversal,
 * expiry) are posted here; the others by the steps of POSTING_STEPS, which also act on purchases
 * and refunds (posting-step.ts). Results are in request order: Outcome values for expected
 * failures (nothing of that request written); throws for bugs and infrastructure faults.
 */
export class PostingRun implements StepScope {
  /** Set again once the members are locked, so posted_at is close to the commit (settlement closes by posting time). */
  now = new Date();
  private readonly changes = emptyChanges();
  private readonly books = new Map<string, MemberBook>();
  private readonly members = new Map<string, MemberState>();
  private readonly written: TransactionRow[] = [];
  private readonly byKey = new Map<string, TransactionRow>();
  private readonly partners: Map<string, PartnerTerms>;
  history: History = NO_HISTORY_ROWS;
  private lots = new Map<string, LotState[]>();
  private debts = new Map<string, DebtState[]>();
  /** Members whose open lots were loaded; for the others, the points of their lots past expiry now and still pending now. */
  private lotsLoaded = new Set<string>();
  private expiredNotLoaded = new Map<string, { expired: number; pending: number }>();
  private originals = new Map<PostingRequest, ReversalOriginal>();
  /** In-batch additions to the history, so two purchases in one batch see each other. */
  private readonly batchCounts = new Map<string, number>();
  causes = new Map<string, CauseRow>();
  claims: Claims = emptyClaims();
  readonly effects: Effects = { commissions: [], changedCommissions: [], donations: [], campaigns: [], events: [] };

  /** The run's own copy of the terms (they may be kept for other postings): the lock statement fills its referrals. */
  readonly terms: PostingTerms;

  constructor(private readonly q: QueryRunner, terms: PostingTerms, readonly options: RunOptions,
    private readonly steps: readonly PostingStep[] = POSTING_STEPS) {
    this.terms = { ...terms, referrers: new Map(), rewardedReferrers: new Map() };
    this.partners = new Map(terms.partners);
  }

  async run(requests: PostingRequest[]): Promise<Outcome<RawPosted>[]> {
    // Reversals are judged against totals read before the loop: one a batch (reverseTransaction is single).
    if (requests.filter((r) => r.kind === TransactionType.REVERSAL).length > 1) throw new Error('one reversal a posting run');
    await this.load(requests);
    const results: (Outcome<Applied> & { memberId: string })[] = [];
    for (const r of requests) results.push({ ...this.apply(r), memberId: r.memberId });
    for (const step of this.steps) await step.finish?.(this, this.q);
    if (!this.options.dryRun) {
      await this.replayRacedKeys(requests, results);
      // tier.changed goes to every partner linked to the member: read the links only when a tier changed.
      const tierChanged = [...this.members].filter(([, state]) => state.tier !== state.row.tier).map(([id]) => id);
      const links = tierChanged.length ? await loadMemberLinks(this.q, tierChanged) : new Map<string, MemberLink[]>();
      // The write is the run's last statement: the transaction's COMMIT goes with it (one round trip less).
      commitWithNextStatement(this.q);
      await writePosting(this.q, this.posting(links), this.now);
    }
    // The member after the batch, once per member (a batch may post many times for one member).
    const outs = new Map<string, Member>();
    const memberOut = (id: string) => outs.get(id) ?? outs.set(id, this.memberOut(id)).get(id)!;
    return results.map((result) => (result.ok ? ok({ ...result.value, member: memberOut(result.memberId) }) : result));
  }

  /**
   * The earlier transactions came with the lock statement, whose snapshot predates the wait for
   * the lock: a same-key request that committed meanwhile is not among them. A request it made
   * fail (the points are gone now) must still get the original result, so failed requests look
   * their keys up again, now. (One it let succeed hits the unique constraint and is retried.)
   */
  private async replayRacedKeys(requests: PostingRequest[], results: (Outcome<Applied> & { memberId: string })[]): Promise<void> {
    const failed = requests.flatMap((r, i) => (!results[i]!.ok && r.kind !== TransactionType.EXPIRY && this.members.get(r.memberId)?.row.linked ? [i] : []));
    if (!failed.length) return;
    const found = await findByKeys(this.q, this.options.caller, failed.map((i) => ({ memberId: requests[i]!.memberId, key: requests[i]!.idempotencyKey })));
    for (const i of failed) {
      const r = requests[i]!;
      const previous = found.get(`${r.memberId}|${r.idempotencyKey}`);
      if (!previous) continue;
      results[i] = previous.request_hash === r.requestHash ? { ...ok({ transaction: previous }), memberId: r.memberId }
        : { ...fail(userError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This idempotency key was used with different input', ['input', 'idempotencyKey'])), memberId: r.memberId };
    }
  }

  private async load(requests: PostingRequest[]): Promise<void> {
    // A purchase may reward a referral, a refund cancel one: either way the lock statement locks the referrer with the member.
    const requested = [...new Set(requests.map((r) => r.memberId))].sort();
    const referrals = { purchases: requests.filter((r) => r.kind === TransactionType.PURCHASE).map((r) => r.memberId),
      refunds: requests.filter((r) => r.kind === TransactionType.REVERSAL).map((r) => r.memberId) };
    const keys = this.options.dryRun ? [] : requests.map((r) => ({ memberId: r.memberId, key: r.idempotencyKey }));
    // Purchases and bonuses do not load the member's lots, only what of them is expired or pending
    // now: those lots come with the lock, in its round trip (lockMembers' nearLots).
    const crediting = this.options.dryRun ? [] : [...new Set(requests.filter((r) => r.kind === TransactionType.PURCHASE || r.kind === TransactionType.BONUS).map((r) => r.memberId))];
    const lockAskedAt = new Date();
    const locked = await lockMembers(this.q, requested, this.options.linkPartnerId, this.options.caller, keys, this.options.skipLocked ?? false, referrals,
      crediting.length ? { memberIds: crediting, from: lockAskedAt } : undefined);
    // Kept terms stand only when the version is known and unchanged: a missing version row (null) counts as stale.
    const version = locked.values().next().value?.terms_version;
    if (this.options.termsVersion !== undefined && (version == null || version !== this.options.termsVersion)) throw new StaleTerms();
    const memberIds = [...new Set([...requested, ...locked.keys()])].sort();
    this.now = new Date();
    for (const row of locked.values()) {
      if (!row.referral) continue;
      (row.referral.rewarded ? this.terms.rewardedReferrers : this.terms.referrers).set(row.id, row.referral.referrerId);
    }
    for (const row of locked.values()) {
      this.members.set(row.id, { row, tier: row.tier, successfulReferrals: row.successful_referrals, referralRewardedAt: row.referral_rewarded_at });
      for (const t of row.earlier) this.byKey.set(`${t.member_id}|${t.idempotency_key}`, t);
    }
    for (const r of requests) {
      if (r.kind !== TransactionType.REVERSAL || !locked.get(r.memberId)?.linked) continue;
      const row = await findTransaction(this.q, r.memberId, r.originalId);
      if (!row) continue;
      const consumption = row.type === TransactionType.REDEMPTION || row.type === TransactionType.REWARD ? await loadConsumption(this.q, r.memberId, r.originalId) : undefined;
      const commissions = row.type === TransactionType.PURCHASE ? await loadCommissions(this.q, r.memberId, r.originalId) : [];
      const ownLot = row.type === TransactionType.PURCHASE || row.type === TransactionType.BONUS || row.type === TransactionType.REFERRAL
        ? await loadOwnLot(this.q, r.memberId, r.originalId) : undefined;
      const referral = row.type === TransactionType.PURCHASE ? await this.pendingReferral(r.memberId, row, ownLot, locked) : undefined;
      this.originals.set(r, { row, totals: await reversalTotals(this.q, r.memberId, r.originalId), consumption, commissions, ownLot, referral });
    }
    const needs = this.needs(requests, { now: this.now, terms: this.terms, options: this.options, member: (id) => locked.get(id), original: (r) => this.originals.get(r) });
    if (needs.causes.size && !this.options.dryRun) this.causes = await loadCauses(this.q, [...needs.causes]);
    if ((needs.rewards.size || needs.vouchers.length) && !this.options.dryRun) {
      const claiming = [...new Set(requests.filter((r) => r.kind === TransactionType.REWARD && locked.get(r.memberId)?.linked).map((r) => r.memberId))];
      this.claims = await loadClaims(this.q, [...needs.rewards].sort(), claiming, needs.vouchers, this.now);
    }
    const referralBonuses = [...this.originals.values()].flatMap((o) => o.referral?.bonuses ?? []);
    const lotMembers = [...new Set([...requests.filter((r) => r.kind !== TransactionType.PURCHASE && r.kind !== TransactionType.BONUS).map((r) => r.memberId),
      ...referralBonuses.map((b) => b.row.member_id)])];
    const lotIds = [...this.originals.values()].flatMap((o) => [...(o.consumption?.movements.map((m) => m.lotId) ?? []), ...(o.ownLot ? [o.ownLot.id] : [])]);
    lotIds.push(...referralBonuses.flatMap((b) => (b.ownLotId ? [b.ownLotId] : [])));
    if (lotMembers.length) this.lots = await loadLots(this.q, lotMembers, lotIds);
    this.lotsLoaded = new Set(lotMembers);
    // Members whose lots this posting does not load (purchases, bonuses): what of their balance is expired or pending now.
    const unloaded = memberIds.filter((id) => !this.lotsLoaded.has(id) && locked.has(id));
    if (unloaded.length && !this.options.dryRun) {
      const near = this.now.getTime() >= lockAskedAt.getTime() && this.now.getTime() - lockAskedAt.getTime() <= NEAR_LOTS_WINDOW_MS;
      const rest: string[] = [];
      for (const id of unloaded) {
        const lots = near ? locked.get(id)!.nearLots : undefined;
        if (!lots) rest.push(id);
        else {
          const sums = expiredAndPending(lots, this.now);
          if (sums) this.expiredNotLoaded.set(id, sums);
        }
      }
      if (rest.length) for (const [id, sums] of await loadExpiredPoints(this.q, rest, this.now)) this.expiredNotLoaded.set(id, sums);
    }
    this.debts = await loadOpenDebts(this.q, memberIds.filter((id) => Number(locked.get(id)?.debt ?? 0) > 0));
    if (!isEmpty(needs.history)) this.history = await loadHistory(this.q, needs.history);
    const missing = new Set<string>();
    for (const list of this.debts.values()) for (const d of list) if (d.creditorPartnerId) missing.add(d.creditorPartnerId);
    for (const o of this.originals.values()) if (o.row.partner_id) missing.add(o.row.partner_id);
    for (const r of requests) if (r.partnerId) missing.add(r.partnerId);
    for (const id of this.partners.keys()) missing.delete(id);
    for (const [id, t] of await loadPartnerTerms(this.q, [...missing])) this.partners.set(id, t);
  }

  /**
   * The referral a purchase being refunded rewarded, while the purchase's points are still pending
   * (docs/rules.md, Referrals): the purchase rewarded it when the member's referral_rewarded_at is its
   * posting time. Brings the REFERRAL bonuses it paid (keys `referral:<purchase>:<kind>`, posted by the
   * hub) that are not reversed yet, with their own lots, so a full refund can cancel them. Undefined
   * otherwise (no extra reads for a purchase that rewarded nothing or whose window has ended).
   */
  private async pendingReferral(memberId: string, purchase: TransactionRow, ownLot: ReversalOriginal['ownLot'],
    locked: Map<string, LockedMember>): Promise<ReversalOriginal['referral']> {
    const member = locked.get(memberId);
    const rewardedAt = member?.referral_rewarded_at;
    if (!rewardedAt || rewardedAt.getTime() !== purchase.posted_at.getTime()) return undefined;
    if (!ownLot?.availableAt || ownLot.availableAt.getTime() <= this.now.getTime()) return undefined;
    const referrerId = this.terms.rewardedReferrers.get(memberId);
    const lockedReferrer = referrerId && locked.has(referrerId) ? referrerId : null;
    const pairs = [{ memberId, key: referralBonusKey(purchase.id, 'referee') }];
    if (lockedReferrer) pairs.push(...(['referrer', 'milestone'] as const).map((kind) => ({ memberId: lockedReferrer, key: referralBonusKey(purchase.id, kind) })));
    const found = await findByKeys(this.q, SYSTEM_CALLER, pairs);
    const bonuses: NonNullable<ReversalOriginal['referral']>['bonuses'] = [];
    for (const row of found.values()) {
      if ((await reversalTotals(this.q, row.member_id, row.id)).count > 0) continue;
      const lot = await loadOwnLot(this.q, row.member_id, row.id);
      bonuses.push({ row, ownLotId: lot?.id });
    }
    return { referrerId: lockedReferrer, bonuses };
  }

  /**
   * What the steps need loaded for these requests, batched: only what this batch's rules need, so a
   * plain purchase at a plain partner reads nothing more. Bonus limits are the core's own need.
   */
  private needs(requests: PostingRequest[], view: NeedView): Needs {
    const pairs = new Set<string>();
    const needs: Needs = {
      history: { counts: [], days: [], qualifying: [], bonuses: [], memberships: [], clubIds: new Set(), asOf: this.now },
      causes: new Set(),
      rewards: new Set(),
      vouchers: [],
      counts: (memberId, partnerId) => {
        const key = `${memberId}|${partnerId}`;
        if (pairs.has(key)) return;
        pairs.add(key);
        needs.history.counts.push({ memberId, partnerId });
      },
    };
    for (const r of requests) {
      pairs.clear();
      for (const step of this.steps) step.need?.(r, needs, view);
      if (r.kind === TransactionType.BONUS && r.partnerId) {
        const limit = this.terms.partners.get(r.partnerId)?.bonus_limits.find((l) => l.action === r.action);
        if (limit) needs.history.bonuses.push({ memberId: r.memberId, partnerId: r.partnerId, action: r.action, since: new Date(this.now.getTime() - limit.periodDays * DAY_MS) });
      }
    }
    return needs;
  }

  member(memberId: string): MemberState | undefined {
    return this.members.get(memberId);
  }

  original(r: PostingRequest): ReversalOriginal | undefined {
    return this.originals.get(r);
  }

  partner(partnerId: string): PartnerTerms | undefined {
    return this.partners.get(partnerId);
  }

  count(key: string): number {
    return this.batchCounts.get(key) ?? 0;
  }

  add(key: string, n: number): void {
    this.batchCounts.set(key, this.count(key) + n);
  }

  book(memberId: string): MemberBook {
    let book = this.books.get(memberId);
    if (!book) {
      const row = this.members.get(memberId)!.row;
      book = new MemberBook(memberId, Number(row.balance), Number(row.debt), this.lots.get(memberId) ?? [], this.debts.get(memberId) ?? [], this.changes,
        (partnerId) => this.partners.get(partnerId)!.redemption_value_per_point, this.now, this.expiredNotLoaded.get(memberId)?.expired ?? 0,
        this.expiredNotLoaded.get(memberId)?.pending ?? 0,
        { model: this.terms.coalition.settlementModel, issuancePrice: (partnerId) => this.partners.get(partnerId)!.issuance_price_per_point });
      this.books.set(memberId, book);
    }
    return book;
  }

  newTransaction(r: { memberId: string; idempotencyKey: string; requestHash: string; partnerId: string | null }, type: TransactionType, caller = this.options.caller): TransactionRow {
    return {
      member_id: r.memberId, id: uuidv7(this.now.getTime()), type, partner_id: r.partnerId, caller, idempotency_key: r.idempotencyKey, request_hash: r.requestHash,
      points: 0, amount_minor: null, reverses_id: null, bonus_action: null, description: null, breakdown: [], occurred_at: this.now, posted_at: this.now,
    };
  }

  expiry(partnerId: string | null, availableAt: Date | null = null): Date {
    const days = partnerId ? this.partners.get(partnerId)!.earn_rule.pointsValidityDays : DEFAULT_POINTS_VALIDITY_DAYS;
    return new Date((availableAt ?? this.now).getTime() + days * DAY_MS);
  }

  /** A member's balance is an Int on the API: a credit that would carry it past 2,147,483,647 is refused. */
  overflows(memberId: string, points: number): boolean {
    return this.book(memberId).balance + points > MAX_INT32;
  }

  private tooManyPoints(): Outcome<never> {
    return fail(userError(ErrorCode.LIMIT_EXCEEDED, `A member's balance may not exceed ${MAX_INT32} points`, ['input', 'points']));
  }

  record(row: TransactionRow): TransactionRow {
    this.written.push(row);
    this.byKey.set(`${row.member_id}|${row.idempotency_key}`, row);
    return row;
  }

  private apply(r: PostingRequest): Outcome<Applied> {
    const member = this.members.get(r.memberId);
    if (!member?.row.linked) {
      return r.kind === TransactionType.REVERSAL ? fail(userError(ErrorCode.NOT_FOUND, 'No such transaction', ['input', 'transactionId']))
        : fail(userError(ErrorCode.NOT_FOUND, 'No such member', ['input', 'memberId']));
    }
    if (!this.options.dryRun) {
      const previous = this.byKey.get(`${r.memberId}|${r.idempotencyKey}`);
      if (previous) {
        return previous.request_hash === r.requestHash ? ok({ transaction: previous })
          : fail(userError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This idempotency key was used with different input', ['input', 'idempotencyKey']));
      }
    }
    for (const step of this.steps) {
      const posted = step.post?.(this, r);
      if (!posted) continue;
      if (posted.purchased) for (const after of this.steps) after.purchased?.(this, posted.purchased);
      return posted.outcome;
    }
    switch (r.kind) {
      case TransactionType.PURCHASE:
      case TransactionType.DONATION:
      case TransactionType.REWARD:
        throw new Error(`no posting step posts ${r.kind}`);
      case TransactionType.BONUS: {
        const limit = r.partnerId ? this.partners.get(r.partnerId)?.bonus_limits.find((l) => l.action === r.action) : undefined;
        if (limit) {
          const key = `bonus|${r.memberId}|${r.partnerId}|${r.action}`;
          const count = this.history.bonusCount(r.memberId, r.partnerId!, r.action) + (this.batchCounts.get(key) ?? 0);
          if (count >= limit.maxCount) {
            return fail(userError(ErrorCode.LIMIT_EXCEEDED, `At most ${limit.maxCount} ${r.action} bonus${limit.maxCount === 1 ? '' : 'es'} per ${limit.periodDays} day${limit.periodDays === 1 ? '' : 's'} from this partner`, ['input', 'action']));
          }
          this.batchCounts.set(key, (this.batchCounts.get(key) ?? 0) + 1);
        }
        if (this.overflows(r.memberId, r.points)) return this.tooManyPoints();
        const tx = this.newTransaction(r, TransactionType.BONUS);
        this.book(r.memberId).credit(tx.id, uuidv7(this.now.getTime()), { partnerId: r.partnerId }, r.points, this.expiry(r.partnerId), this.now);
        return ok({ transaction: this.record({ ...tx, points: r.points, bonus_action: r.action, description: r.description,
          breakdown: [{ rule: 'BONUS', points: r.points, detail: `${r.action} bonus` }] }) });
      }
      case TransactionType.REDEMPTION: {
        const tx = this.newTransaction(r, TransactionType.REDEMPTION);
        const book = this.book(r.memberId);
        const refused = book.redeem(tx.id, r.partnerId!, r.points);
        if (refused === 'MEMBER_IN_DEBT') return fail(userError(ErrorCode.MEMBER_IN_DEBT, `The member owes ${book.debt} points and cannot redeem until they are repaid`, ['input', 'memberId']));
        if (refused === 'INSUFFICIENT_POINTS') return fail(userError(ErrorCode.INSUFFICIENT_POINTS, `The member has ${book.available} points, fewer than ${r.points}`, ['input', 'points']));
        return ok({ transaction: this.record({ ...tx, points: -r.points, description: r.description }) });
      }
      case TransactionType.REVERSAL:
        return this.reverse(r);
      case TransactionType.EXPIRY: {
        const tx = this.newTransaction(r, TransactionType.EXPIRY);
        const expired = this.book(r.memberId).expire(tx.id, r.asOf);
        if (expired.points === 0) return fail(userError(ErrorCode.NOT_FOUND, 'Nothing to expire'));
        return ok({ expiredLots: expired.lots, transaction: this.record({ ...tx, points: -expired.points, occurred_at: r.asOf,
          breakdown: [{ rule: 'EXPIRY', points: -expired.points, detail: `${expired.lots} lot${expired.lots === 1 ? '' : 's'} past expiry at ${r.asOf.toISOString()}` }] }) });
      }
    }
  }

  private reverse(r: PostingRequest & { kind: TransactionType.REVERSAL }): Outcome<{ transaction: TransactionRow }> {
    const original = this.originals.get(r);
    // Only the partner that posted a transaction, or the operator, reverses it.
    if (!original || (r.partnerId !== null && original.row.partner_id !== r.partnerId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such transaction', ['input', 'transactionId']));
    const { row, totals } = original;
    // Points of the own lot the expiry job moved to breakage come back from it in this EXPIRY transaction;
    // its id is a millisecond older than the reversal's, so histories (newest first) list it just before.
    const unexpiry = this.newTransaction({ memberId: r.memberId, idempotencyKey: '', requestHash: row.id, partnerId: null }, TransactionType.EXPIRY, SYSTEM_CALLER);
    unexpiry.id = uuidv7(this.now.getTime() - 1);
    unexpiry.idempotency_key = `refund-expired:${unexpiry.id}`;
    const tx = { ...this.newTransaction(r, TransactionType.REVERSAL), partner_id: row.partner_id, reverses_id: row.id };
    const issuer = { partnerId: row.partner_id };
    const book = this.book(r.memberId);
    const ownLot = () => original.ownLot?.id;
    const takeBack = (points: number) => {
      const unswept = book.takeBack(tx.id, issuer, ownLot(), points, uuidv7(this.now.getTime()), this.now,
        original.ownLot ? { transactionId: unexpiry.id, points: original.ownLot.swept } : undefined, original.ownLot?.issuanceRate ?? undefined);
      if (unswept > 0) {
        this.record({ ...unexpiry, points: unswept, description: 'expired points counted toward a refund',
          breakdown: [{ rule: 'EXPIRED_TAKEN_BACK', points: unswept, detail: `${unswept} expired point${unswept === 1 ? '' : 's'} of transaction ${row.id} count as taken back by its reversal` }] });
      }
    };
    switch (row.type) {
      case TransactionType.PURCHASE: {
        const amountMinor = BigInt(row.amount_minor!);
        if (totals.refundedMinor >= amountMinor) return fail(userError(ErrorCode.ALREADY_REVERSED, 'This purchase has been fully refunded', ['input', 'transactionId']));
        const left = amountMinor - totals.refundedMinor;
        const refund = r.refundMinor ?? left;
        if (refund > left) return fail(userError(ErrorCode.INVALID_INPUT, 'The refund is more than is left of the purchase', ['input', 'amount']));
        const points = refundPoints(row.points, amountMinor, totals.refundedMinor, -totals.points, refund);
        takeBack(points);
        for (const step of this.steps) step.refunded?.(this, { request: r, original, refundedMinor: totals.refundedMinor + refund, points });
        return ok({ transaction: this.record({ ...tx, points: -points, amount_minor: refund.toString(),
          breakdown: [{ rule: refund === left ? 'REFUND' : 'PARTIAL_REFUND', points: -points, detail: `refund of ${refund} of ${amountMinor} minor units` }] }) });
      }
      case TransactionType.BONUS:
      case TransactionType.REFERRAL: {
        if (r.refundMinor !== null) return fail(userError(ErrorCode.INVALID_INPUT, 'Bonuses reverse whole: leave amount out', ['input', 'amount']));
        if (totals.count > 0) return fail(userError(ErrorCode.ALREADY_REVERSED, 'This bonus has been reversed', ['input', 'transactionId']));
        takeBack(row.points);
        return ok({ transaction: this.record({ ...tx, points: -row.points }) });
      }
      case TransactionType.REDEMPTION: {
        if (r.refundMinor !== null) return fail(userError(ErrorCode.INVALID_INPUT, 'Redemptions reverse whole: leave amount out', ['input', 'amount']));
        if (totals.count > 0) return fail(userError(ErrorCode.ALREADY_REVERSED, 'This redemption has been reversed', ['input', 'transactionId']));
        if (this.overflows(r.memberId, -row.points)) return this.tooManyPoints();
        book.restore(tx.id, { partnerId: row.partner_id }, original.consumption!.movements, original.consumption!.obligations);
        return ok({ transaction: this.record({ ...tx, points: -row.points }) });
      }
      case TransactionType.REWARD:
        // A claim is returned with its voucher (voidVoucher, the expiry job), which the reward step posts.
        return fail(userError(ErrorCode.INVALID_INPUT, 'A claimed reward is returned by voiding its voucher', ['input', 'transactionId']));
      default: {
        const why = row.type === TransactionType.REVERSAL ? 'A reversal cannot itself be reversed'
          : row.type === TransactionType.DONATION ? 'Donations are final' : 'Expired points cannot be given back by a reversal';
        return fail(userError(ErrorCode.INVALID_INPUT, why, ['input', 'transactionId']));
      }
    }
  }

  private posting(links: Map<string, MemberLink[]>): Posting {
    const posting: Posting = { transactions: this.written, changes: this.changes, lots: [], lotOwner: new Map(), debts: [], members: [],
      commissions: this.effects.commissions, changedCommissions: this.effects.changedCommissions, donations: this.effects.donations,
      campaigns: this.effects.campaigns.filter((c) => c.matched_points !== c.lockedAt).map((c) => ({ id: c.id, matchedPoints: c.matched_points })),
      events: [] };
    const tierChanges: { memberId: string; from: string | null; to: string | null; partnerIds: string[] }[] = [];
    for (const book of this.books.values()) {
      for (const lot of book.lots.values()) {
        if (lot.isNew || lot.dirty) {
          posting.lots.push(lot);
          posting.lotOwner.set(lot, book.memberId);
        }
      }
      for (const debt of book.debts) if (debt.isNew || debt.dirty) posting.debts.push({ memberId: book.memberId, debt });
    }
    for (const [id, state] of this.members) {
      const book = this.books.get(id);
      const row = state.row;
      const balance = book?.balance ?? Number(row.balance);
      const debt = book?.debt ?? Number(row.debt);
      if (balance !== Number(row.balance) || debt !== Number(row.debt) || state.tier !== row.tier
        || state.successfulReferrals !== row.successful_referrals || state.referralRewardedAt !== row.referral_rewarded_at) {
        posting.members.push({ id, balance, debt, tier: state.tier, successfulReferrals: state.successfulReferrals, referralRewardedAt: state.referralRewardedAt });
      }
      if (state.tier !== row.tier) tierChanges.push({ memberId: id, from: row.tier, to: state.tier, partnerIds: (links.get(id) ?? []).map((l) => l.partnerId) });
    }
    const currency = { code: this.terms.coalition.currency, exponent: this.terms.coalition.currencyExponent };
    posting.events = [...transactionPostedEvents(this.written, currency), ...postingEffectEvents({ now: this.now, commissions: posting.commissions,
      changedCommissions: posting.changedCommissions, donations: posting.donations, tierChanges, actingPartnerId: this.options.linkPartnerId }, currency),
      ...this.effects.events];
    return posting;
  }

  /** The member as the API shows it after this posting: `balance` is what it can spend now, `pendingPoints` what it will later. */
  private memberOut(memberId: string): Member {
    const state = this.members.get(memberId)!;
    const book = this.book(memberId);
    return toMember({ ...state.row, balance: String(book.available + book.pending), expired_points: '0', pending_points: String(book.pending), debt: String(book.debt),
      tier: state.tier, successful_referrals: state.successfulReferrals, referral_rewarded_at: state.referralRewardedAt });
  }
}
