import { QueryRunner } from 'typeorm';
import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { MAX_INT32 } from '../../common/decimal';
import { uuidv7 } from '../../common/ids';
import { DEFAULT_POINTS_VALIDITY_DAYS, EarnResult, computeEarn, reachesMinSpend } from '../earning/earn-rule';
import { History, HistoryQuery, NO_HISTORY_ROWS, isEmpty, loadHistory, utcDay } from '../earning/earn-history.store';
import { milestoneBonus, qualifiesForReferral } from '../earning/referral.rules';
import { TIER_WINDOW_DAYS, nextTier } from '../earning/tier.rules';
import { Member } from '../member/member.types';
import { toMember } from '../member/member.service';
import { DebtState, LotState, MemberBook, emptyChanges, refundPoints } from '../ledger/ledger.rules';
import {
  LockedMember, Posting, TransactionRow, findTransaction, loadConsumption, loadExpiredPoints, loadLots, loadOpenDebts, loadOwnLot,
  CampaignRow, CommissionRow, DonationRow, findByKeys, lockMembers, reversalTotals, writePosting,
} from '../ledger/ledger.store';
import { PartnerTerms, loadPartnerTerms } from './posting-terms.store';
import { loadCommissions } from '../affiliate/commission.store';
import { loadCauses, lockCampaigns } from '../charity/donation.store';
import { receiptNumber } from '../charity/receipt';
import { autoDonationPoints, donationValueMinor, matchFor, minimumDonationPoints } from '../charity/charity.rules';
import { approvesAt, commissionFor, commissionRefund, CommissionStatus } from '../affiliate/commission.rules';
import { TransactionType } from '../ledger/ledger.types';
import { PostingRequest, PostingTerms, ReversalOriginal } from './posting.types';

const DAY_MS = 86_400_000;
/** The caller recorded on postings the hub makes itself (referral bonuses, expiry). */
export const SYSTEM_CALLER = 'system';

export interface RawPosted {
  transaction: TransactionRow;
  member: Member;
  earned?: EarnResult;
  expiredLots?: number;
  donation?: DonationRow;
}

export interface RunOptions {
  caller: string;
  /** Partners act on linked members only; null: the operator, on every member. */
  linkPartnerId: string | null;
  /** Quote: apply the rules, write nothing, ignore idempotency. */
  dryRun?: boolean;
  /** Skip members another run holds (the expiry job), instead of waiting for them. */
  skipLocked?: boolean;
}

type Applied = { transaction: TransactionRow; earned?: EarnResult; expiredLots?: number; donation?: DonationRow };

interface MemberState {
  row: LockedMember;
  tier: string | null;
  successfulReferrals: number;
  referralRewardedAt: Date | null;
}

/**
 * One batch of postings inside one database transaction: lock the members in id order, read what
 * the rules need of them after the lock, apply each request in order to the members' books
 * (each judged on its own against what the requests before it left), then write every row the
 * successful requests produced in one statement.
 */
export class PostingRun {
  /** Set again once the members are locked, so posted_at is close to the commit (settlement closes by posting time). */
  private now = new Date();
  private readonly changes = emptyChanges();
  private readonly books = new Map<string, MemberBook>();
  private readonly members = new Map<string, MemberState>();
  private readonly written: TransactionRow[] = [];
  private readonly byKey = new Map<string, TransactionRow>();
  private readonly partners: Map<string, PartnerTerms>;
  private history: History = NO_HISTORY_ROWS;
  private lots = new Map<string, LotState[]>();
  private debts = new Map<string, DebtState[]>();
  /** Members whose open lots were loaded; for the others, the points of their lots past expiry now. */
  private lotsLoaded = new Set<string>();
  private expiredNotLoaded = new Map<string, number>();
  private originals = new Map<PostingRequest, ReversalOriginal>();
  /** In-batch additions to the history, so two purchases in one batch see each other. */
  private readonly batchCounts = new Map<string, number>();
  private readonly batchQualifying = new Map<string, number>();
  private readonly commissions: CommissionRow[] = [];
  private readonly donations: DonationRow[] = [];
  private campaigns: (CampaignRow & { lockedAt: number })[] = [];
  private causes = new Map<string, { id: string; name: string; active: boolean }>();
  private readonly changedCommissions: CommissionRow[] = [];

  constructor(private readonly q: QueryRunner, private readonly terms: PostingTerms, private readonly options: RunOptions) {
    this.partners = new Map(terms.partners);
  }

  async run(requests: PostingRequest[]): Promise<Outcome<RawPosted>[]> {
    // Reversals are judged against totals read before the loop: one a batch (reverseTransaction is single).
    if (requests.filter((r) => r.kind === TransactionType.REVERSAL).length > 1) throw new Error('one reversal a posting run');
    await this.load(requests);
    const results: (Outcome<Applied> & { memberId: string })[] = [];
    for (const r of requests) results.push({ ...this.apply(r), memberId: r.memberId });
    await this.matchDonations();
    if (!this.options.dryRun) {
      await this.replayRacedKeys(requests, results);
      await writePosting(this.q, this.posting(), this.now);
    }
    return results.map((result) => (result.ok ? ok({ ...result.value, member: this.memberOut(result.memberId) }) : result));
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
    const referrers = requests.flatMap((r) => (r.kind === TransactionType.PURCHASE && this.terms.referrers.has(r.memberId) ? [this.terms.referrers.get(r.memberId)!] : []));
    const memberIds = [...new Set([...requests.map((r) => r.memberId), ...referrers])].sort();
    const keys = this.options.dryRun ? [] : requests.map((r) => ({ memberId: r.memberId, key: r.idempotencyKey }));
    const locked = await lockMembers(this.q, memberIds, this.options.linkPartnerId, this.options.caller, keys, this.options.skipLocked ?? false);
    this.now = new Date();
    for (const row of locked.values()) {
      this.members.set(row.id, { row, tier: row.tier, successfulReferrals: row.successful_referrals, referralRewardedAt: row.referral_rewarded_at });
      for (const t of row.earlier) this.byKey.set(`${t.member_id}|${t.idempotency_key}`, t);
    }
    for (const r of requests) {
      if (r.kind !== TransactionType.REVERSAL || !locked.get(r.memberId)?.linked) continue;
      const row = await findTransaction(this.q, r.memberId, r.originalId);
      if (!row) continue;
      const consumption = row.type === TransactionType.REDEMPTION ? await loadConsumption(this.q, r.memberId, r.originalId) : undefined;
      const commissions = row.type === TransactionType.PURCHASE ? await loadCommissions(this.q, r.memberId, r.originalId) : [];
      const ownLot = row.type === TransactionType.PURCHASE || row.type === TransactionType.BONUS || row.type === TransactionType.REFERRAL
        ? await loadOwnLot(this.q, r.memberId, r.originalId) : undefined;
      this.originals.set(r, { row, totals: await reversalTotals(this.q, r.memberId, r.originalId), consumption, commissions, ownLot });
    }
    // Causes donated to (asked, or automatic on purchases), and their campaigns, locked after the members.
    const causeIds = new Set<string>();
    for (const r of requests) {
      if (r.kind === TransactionType.DONATION) causeIds.add(r.causeId);
      const auto = locked.get(r.memberId);
      if (r.kind === TransactionType.PURCHASE && auto?.auto_donation_percent && auto.auto_donation_cause_id) causeIds.add(auto.auto_donation_cause_id);
    }
    if (causeIds.size && !this.options.dryRun) this.causes = await loadCauses(this.q, [...causeIds]);
    const lotMembers = [...new Set(requests.filter((r) => r.kind !== TransactionType.PURCHASE && r.kind !== TransactionType.BONUS).map((r) => r.memberId))];
    const lotIds = [...this.originals.values()].flatMap((o) => [...(o.consumption?.movements.map((m) => m.lotId) ?? []), ...(o.ownLot ? [o.ownLot.id] : [])]);
    if (lotMembers.length) this.lots = await loadLots(this.q, lotMembers, lotIds);
    this.lotsLoaded = new Set(lotMembers);
    // Members whose lots this posting does not load (purchases, bonuses): what of their balance is expired now.
    const unloaded = memberIds.filter((id) => !this.lotsLoaded.has(id) && locked.has(id));
    if (unloaded.length && !this.options.dryRun) this.expiredNotLoaded = await loadExpiredPoints(this.q, unloaded, this.now);
    this.debts = await loadOpenDebts(this.q, memberIds.filter((id) => Number(locked.get(id)?.debt ?? 0) > 0));
    const history = this.historyQuery(requests);
    if (!isEmpty(history)) this.history = await loadHistory(this.q, history);
    const missing = new Set<string>();
    for (const list of this.debts.values()) for (const d of list) if (d.creditorPartnerId) missing.add(d.creditorPartnerId);
    for (const o of this.originals.values()) if (o.row.partner_id) missing.add(o.row.partner_id);
    for (const r of requests) if (r.partnerId) missing.add(r.partnerId);
    for (const id of this.partners.keys()) missing.delete(id);
    for (const [id, t] of await loadPartnerTerms(this.q, [...missing])) this.partners.set(id, t);
  }

  /** Only what this batch's rules need: a plain purchase at a plain partner reads nothing more. */
  private historyQuery(requests: PostingRequest[]): HistoryQuery {
    const query: HistoryQuery = { counts: [], days: [], qualifying: [], bonuses: [], asOf: this.now };
    const tiers = this.terms.coalition.tiers.length > 0;
    for (const r of requests) {
      if (r.kind === TransactionType.PURCHASE) {
        const rule = this.terms.partners.get(r.partnerId!)?.earn_rule;
        const plan = this.terms.partners.get(r.partnerId!)?.commission_plan;
        if (rule?.firstPurchaseBonus || rule?.everyNthVisit || plan?.type === 'FIXED_FIRST_PURCHASE') query.counts.push({ memberId: r.memberId, partnerId: r.partnerId! });
        if (rule?.maxPointsPerMemberPerDay) query.days.push({ memberId: r.memberId, partnerId: r.partnerId!, day: utcDay(r.occurredAt) });
        if (tiers) query.qualifying.push(r.memberId);
      } else if (r.kind === TransactionType.REVERSAL && tiers && this.originals.get(r)?.row.type === TransactionType.PURCHASE) {
        // A refund re-evaluates the tier at once (DESIGN.md, Tiers).
        query.qualifying.push(r.memberId);
      } else if (r.kind === TransactionType.BONUS && r.partnerId) {
        const limit = this.terms.partners.get(r.partnerId)?.bonus_limits.find((l) => l.action === r.action);
        if (limit) query.bonuses.push({ memberId: r.memberId, partnerId: r.partnerId, action: r.action, since: new Date(this.now.getTime() - limit.periodDays * DAY_MS) });
      }
    }
    return query;
  }

  private book(memberId: string): MemberBook {
    let book = this.books.get(memberId);
    if (!book) {
      const row = this.members.get(memberId)!.row;
      book = new MemberBook(memberId, Number(row.balance), Number(row.debt), this.lots.get(memberId) ?? [], this.debts.get(memberId) ?? [], this.changes,
        (partnerId) => this.partners.get(partnerId)!.redemption_value_per_point, this.now, this.expiredNotLoaded.get(memberId) ?? 0);
      this.books.set(memberId, book);
    }
    return book;
  }

  private newTransaction(r: { memberId: string; idempotencyKey: string; requestHash: string; partnerId: string | null }, type: TransactionType, caller = this.options.caller): TransactionRow {
    return {
      member_id: r.memberId, id: uuidv7(this.now.getTime()), type, partner_id: r.partnerId, caller, idempotency_key: r.idempotencyKey, request_hash: r.requestHash,
      points: 0, amount_minor: null, reverses_id: null, bonus_action: null, description: null, breakdown: [], occurred_at: this.now, posted_at: this.now,
    };
  }

  private expiry(partnerId: string | null): Date {
    const days = partnerId ? this.partners.get(partnerId)!.earn_rule.pointsValidityDays : DEFAULT_POINTS_VALIDITY_DAYS;
    return new Date(this.now.getTime() + days * DAY_MS);
  }

  /** A member's balance is an Int on the API: a credit that would carry it past 2,147,483,647 is refused. */
  private overflows(memberId: string, points: number): boolean {
    return this.book(memberId).balance + points > MAX_INT32;
  }

  private tooManyPoints(): Outcome<never> {
    return fail(userError(ErrorCode.LIMIT_EXCEEDED, `A member's balance may not exceed ${MAX_INT32} points`, ['input', 'points']));
  }

  private record(row: TransactionRow): TransactionRow {
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
    switch (r.kind) {
      case TransactionType.PURCHASE:
        return this.purchase(r, member);
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
      case TransactionType.DONATION: {
        const cause = this.causes.get(r.causeId);
        if (!cause) return fail(userError(ErrorCode.NOT_FOUND, 'No such cause', ['input', 'causeId']));
        if (!cause.active) return fail(userError(ErrorCode.INVALID_INPUT, 'This cause no longer takes donations', ['input', 'causeId']));
        const minimum = minimumDonationPoints(this.terms.coalition.donationValuePerPoint, this.terms.coalition.currencyExponent);
        if (r.points < minimum) return fail(userError(ErrorCode.INVALID_INPUT, `A donation of ${r.points} points is worth nothing; the smallest is ${minimum} points`, ['input', 'points']));
        const tx = this.newTransaction(r, TransactionType.DONATION);
        return this.donate(r.memberId, tx, r.causeId, r.points, false);
      }
      case TransactionType.EXPIRY: {
        const tx = this.newTransaction(r, TransactionType.EXPIRY);
        const expired = this.book(r.memberId).expire(tx.id, r.asOf);
        if (expired.points === 0) return fail(userError(ErrorCode.NOT_FOUND, 'Nothing to expire'));
        return ok({ expiredLots: expired.lots, transaction: this.record({ ...tx, points: -expired.points, occurred_at: r.asOf,
          breakdown: [{ rule: 'EXPIRY', points: -expired.points, detail: `${expired.lots} lot${expired.lots === 1 ? '' : 's'} past expiry at ${r.asOf.toISOString()}` }] }) });
      }
    }
  }

  private purchase(r: PostingRequest & { kind: TransactionType.PURCHASE }, member: MemberState): Outcome<{ transaction: TransactionRow; earned: EarnResult }> {
    const partnerId = r.partnerId!;
    const terms = this.partners.get(partnerId);
    if (!terms) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
    const rule = terms.earn_rule;
    const countKey = `count|${r.memberId}|${partnerId}`;
    const day = utcDay(r.occurredAt);
    const dayKey = `day|${r.memberId}|${partnerId}|${day.toISOString()}`;
    const tier = this.terms.coalition.tiers.find((t) => t.name === member.tier) ?? null;
    const promotions = this.terms.promotions.filter((p) => p.partnerId === partnerId && p.startsAt <= r.occurredAt && r.occurredAt < p.endsAt);
    const visitKey = `visit-bonus|${r.memberId}|${partnerId}`;
    const visitsBefore = this.history.visits(r.memberId, partnerId) + (this.batchCounts.get(countKey) ?? 0);
    const earned = computeEarn(rule, { amount: r.amount, lines: r.lines ?? undefined }, {
      tier,
      promotions,
      visitsBefore,
      visitBonusesBefore: this.history.visitBonuses(r.memberId, partnerId) + (this.batchCounts.get(visitKey) ?? 0),
      pointsEarnedToday: this.history.dayPoints(r.memberId, partnerId, day) + (this.batchCounts.get(dayKey) ?? 0),
    });
    if (earned.points > MAX_INT32) return fail(userError(ErrorCode.INVALID_INPUT, 'This purchase would earn more points than one transaction can hold', ['input', 'amount']));
    if (this.overflows(r.memberId, earned.points)) return this.tooManyPoints();
    const tx = this.newTransaction(r, TransactionType.PURCHASE);
    const lot = this.book(r.memberId).credit(tx.id, uuidv7(this.now.getTime()), { partnerId }, earned.points, this.expiry(partnerId), this.now);
    // Only visits count (DESIGN.md, Earning): a purchase below minSpend is not one.
    const visit = reachesMinSpend(rule, r.amount);
    if (visit) this.batchCounts.set(countKey, (this.batchCounts.get(countKey) ?? 0) + 1);
    if (earned.breakdown.some((b) => b.rule === 'VISIT_BONUS')) this.batchCounts.set(visitKey, (this.batchCounts.get(visitKey) ?? 0) + 1);
    this.batchCounts.set(dayKey, (this.batchCounts.get(dayKey) ?? 0) + earned.points);
    const row = this.record({ ...tx, points: earned.points, amount_minor: r.amountMinor.toString(), breakdown: earned.breakdown, occurred_at: r.occurredAt });
    this.commission(r, member, terms, row, visit && visitsBefore === 0);
    this.autoDonate(member, row, lot, earned.points);
    if (this.terms.coalition.tiers.length) {
      // Upgrades apply at once: this purchase's points count for the next one.
      const qualifying = this.history.qualifyingPoints(r.memberId) + (this.batchQualifying.get(r.memberId) ?? 0) + earned.points;
      this.batchQualifying.set(r.memberId, (this.batchQualifying.get(r.memberId) ?? 0) + earned.points);
      member.tier = nextTier(member.tier, qualifying, this.terms.coalition.tiers, false);
    }
    if (!this.options.dryRun && qualifiesForReferral(this.terms.coalition.referral, r.amount, earned.points)) this.rewardReferral(r.memberId, member, row);
    return ok({ transaction: row, earned });
  }

  /**
   * A donation of `points` to a cause, as its own DONATION transaction with a receipt; each
   * campaign matching the cause now adds floor(points × ratio) up to what is left of its cap.
   */
  private donate(memberId: string, tx: TransactionRow, causeId: string, points: number, automatic: boolean, fromLotId?: string): Outcome<Applied> {
    const rate = this.terms.coalition.donationValuePerPoint;
    const exponent = this.terms.coalition.currencyExponent;
    const book = this.book(memberId);
    const refused = book.donate(tx.id, causeId, points, rate, exponent, fromLotId);
    if (refused === 'MEMBER_IN_DEBT') return fail(userError(ErrorCode.MEMBER_IN_DEBT, `The member owes ${book.debt} points and cannot donate until they are repaid`, ['input', 'points']));
    if (refused === 'INSUFFICIENT_POINTS') return fail(userError(ErrorCode.INSUFFICIENT_POINTS, `The member has ${book.available} points, fewer than ${points}`, ['input', 'points']));
    const id = uuidv7(this.now.getTime());
    // Matches are added once every request is applied (matchDonations): only causes that got a donation lock their campaigns.
    const donation: DonationRow = {
      member_id: memberId, id, transaction_id: tx.id, cause_id: causeId, points, value_minor: donationValueMinor(points, rate, exponent).toString(),
      matched_points: 0, matched_value_minor: '0', receipt_number: receiptNumber(id), automatic, created_at: this.now,
    };
    this.donations.push(donation);
    return ok({ transaction: this.record({ ...tx, points: -points, description: automatic ? 'automatic donation' : null,
      breakdown: [{ rule: 'DONATION', points: -points, detail: `to cause ${this.causes.get(causeId)?.name ?? causeId}` }] }), donation });
  }

  /**
   * Partners' matching of this run's donations: the campaigns of the causes that received one are
   * locked (after the members, in id order) and each donation, in order, takes floor(points × ratio)
   * from what is left of each cap. Matches never touch a member's balance, so they can come last.
   */
  private async matchDonations(): Promise<void> {
    if (!this.donations.length) return;
    const causes = [...new Set(this.donations.map((d) => d.cause_id))].sort();
    this.campaigns = (await lockCampaigns(this.q, causes, this.now)).map((c) => ({ ...c, lockedAt: c.matched_points }));
    const rate = this.terms.coalition.donationValuePerPoint;
    for (const donation of this.donations) {
      for (const campaign of this.campaigns.filter((c) => c.cause_id === donation.cause_id)) {
        const match = matchFor(donation.points, campaign.ratio, campaign.cap_points - campaign.matched_points);
        if (match === 0) continue;
        campaign.matched_points += match;
        donation.matched_points += match;
        const value = this.book(donation.member_id).match(donation.transaction_id, campaign.partner_id, donation.cause_id, match, rate, this.terms.coalition.currencyExponent);
        donation.matched_value_minor = (BigInt(donation.matched_value_minor) + value).toString();
      }
    }
  }

  /** A purchase's automatic donation: the member's share of the points, from the lot just created. */
  private autoDonate(member: MemberState, purchase: TransactionRow, lot: LotState | undefined, earned: number): void {
    const percent = member.row.auto_donation_percent;
    const causeId = member.row.auto_donation_cause_id;
    if (!percent || !causeId || !lot || this.options.dryRun || !this.causes.get(causeId)?.active) return;
    const points = autoDonationPoints(earned, percent, lot.remaining);
    // Below the smallest donation worth a minor unit, the automatic donation is skipped.
    const minimum = minimumDonationPoints(this.terms.coalition.donationValuePerPoint, this.terms.coalition.currencyExponent);
    if (points <= 0 || points < minimum || this.book(member.row.id).debt > 0) return;
    const tx = this.newTransaction({ memberId: member.row.id, idempotencyKey: `auto-donation:${purchase.id}`, requestHash: purchase.id, partnerId: null },
      TransactionType.DONATION, SYSTEM_CALLER);
    this.donate(member.row.id, tx, causeId, points, true, lot.id);
  }

  /**
   * The affiliate commission a purchase earns (DESIGN.md, Affiliates and commissions): for the
   * affiliate named on the purchase, else the member's sticky one, under the partner's plan now.
   */
  private commission(r: PostingRequest & { kind: TransactionType.PURCHASE }, member: MemberState, terms: PartnerTerms, purchase: TransactionRow, first: boolean): void {
    const plan = terms.commission_plan;
    const affiliateId = r.affiliateId ?? member.row.affiliate_id;
    if (!plan || !affiliateId || this.options.dryRun) return;
    const attributedAt = r.affiliateId ? r.occurredAt : member.row.affiliate_attributed_at ?? r.occurredAt;
    const amount = commissionFor({ plan, purchaseAmountMinor: r.amountMinor, currencyExponent: this.terms.coalition.currencyExponent,
      firstPurchaseAtPartner: first, attributedAt, occurredAt: r.occurredAt });
    if (amount === 0n) return;
    this.commissions.push({
      member_id: r.memberId, id: uuidv7(this.now.getTime()), purchase_id: purchase.id, partner_id: terms.id, affiliate_id: affiliateId, plan,
      purchase_amount_minor: r.amountMinor.toString(), base_amount_minor: amount.toString(), amount_minor: amount.toString(), status: CommissionStatus.PENDING, clawback_of: null,
      occurred_at: r.occurredAt, approves_at: approvesAt(plan, r.occurredAt, this.now), created_at: this.now, settlement_run_id: null,
    });
  }

  /**
   * A refund of `refundedMinor` in all (this one included) brings the purchase's commission to its
   * pro-rata share: before approval by changing it (REVERSED at a full refund), after approval or
   * payment by a negative commission (clawback) that the next settlement run settles.
   */
  private refundCommissions(original: ReversalOriginal, refundedMinor: bigint): void {
    const [first, ...clawbacks] = original.commissions;
    if (!first) return;
    const change = commissionRefund({
      baseMinor: BigInt(first.base_amount_minor), purchaseAmountMinor: BigInt(first.purchase_amount_minor),
      amountsMinor: [first, ...clawbacks].map((c) => BigInt(c.amount_minor)), reversed: first.status === CommissionStatus.REVERSED,
      approved: first.settlement_run_id !== null || first.approves_at.getTime() <= this.now.getTime(),
    }, refundedMinor);
    // A full refund before approval reverses it, keeping the amount that was reversed.
    if (change.kind === 'reverse') this.changedCommissions.push({ ...first, status: CommissionStatus.REVERSED });
    if (change.kind === 'reduce') this.changedCommissions.push({ ...first, amount_minor: change.amountMinor.toString() });
    if (change.kind === 'clawback') {
      this.commissions.push({ ...first, id: uuidv7(this.now.getTime()), amount_minor: change.amountMinor.toString(), status: CommissionStatus.PENDING,
        clawback_of: first.id, approves_at: this.now, created_at: this.now, settlement_run_id: null });
    }
  }

  /**
   * A referred member's first qualifying purchase anywhere (see qualifiesForReferral): the referee's
   * bonus, the referrer's bonus and any milestone. Purchases that did not qualify leave the referral open.
   */
  private rewardReferral(memberId: string, member: MemberState, purchase: TransactionRow): void {
    const referrerId = this.terms.referrers.get(memberId);
    if (!referrerId || member.referralRewardedAt) return;
    const referrer = this.members.get(referrerId);
    if (!referrer) return;
    member.referralRewardedAt = this.now;
    referrer.successfulReferrals += 1;
    const settings = this.terms.coalition.referral;
    if (!settings) return;
    const grant = (to: string, points: number, key: string, detail: string) => {
      if (points <= 0 || this.overflows(to, points)) return;
      const tx = this.newTransaction({ memberId: to, idempotencyKey: `referral:${purchase.id}:${key}`, requestHash: purchase.id, partnerId: null },
        TransactionType.REFERRAL, SYSTEM_CALLER);
      this.book(to).credit(tx.id, uuidv7(this.now.getTime()), { partnerId: null }, points, this.expiry(null), this.now);
      this.record({ ...tx, points, description: detail, breakdown: [{ rule: key.toUpperCase(), points, detail }] });
    };
    grant(memberId, settings.refereeBonus, 'referee', 'welcome bonus for joining through a referral');
    grant(referrerId, settings.referrerBonus, 'referrer', `referral bonus: member ${memberId} made a first purchase`);
    const milestone = milestoneBonus(settings, referrer.successfulReferrals);
    grant(referrerId, milestone, 'milestone', `milestone bonus: ${referrer.successfulReferrals} successful referrals`);
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
        original.ownLot ? { transactionId: unexpiry.id, points: original.ownLot.swept } : undefined);
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
        this.refundCommissions(original, totals.refundedMinor + refund);
        this.refundTier(r.memberId, row, points);
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
        book.restore(tx.id, row.partner_id!, original.consumption!.movements, original.consumption!.obligations);
        return ok({ transaction: this.record({ ...tx, points: -row.points }) });
      }
      default: {
        const why = row.type === TransactionType.REVERSAL ? 'A reversal cannot itself be reversed'
          : row.type === TransactionType.DONATION ? 'Donations are final' : 'Expired points cannot be given back by a reversal';
        return fail(userError(ErrorCode.INVALID_INPUT, why, ['input', 'transactionId']));
      }
    }
  }

  /**
   * A refund of a purchase lowers the member's qualifying points at once, and the tier with them
   * (DESIGN.md, Tiers): a purchase posted more than the window ago no longer counts, nor its refund.
   */
  private refundTier(memberId: string, purchase: TransactionRow, points: number): void {
    const tiers = this.terms.coalition.tiers;
    const member = this.members.get(memberId)!;
    if (!tiers.length || this.options.dryRun) return;
    if (purchase.posted_at.getTime() <= this.now.getTime() - TIER_WINDOW_DAYS * DAY_MS) return;
    this.batchQualifying.set(memberId, (this.batchQualifying.get(memberId) ?? 0) - points);
    const qualifying = this.history.qualifyingPoints(memberId) + (this.batchQualifying.get(memberId) ?? 0);
    member.tier = nextTier(member.tier, qualifying, tiers, true);
  }

  private posting(): Posting {
    const posting: Posting = { transactions: this.written, changes: this.changes, lots: [], lotOwner: new Map(), debts: [], members: [],
      commissions: this.commissions, changedCommissions: this.changedCommissions, donations: this.donations,
      campaigns: this.campaigns.filter((c) => c.matched_points !== c.lockedAt).map((c) => ({ id: c.id, matchedPoints: c.matched_points })) };
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
    }
    return posting;
  }

  /** The member as the API shows it after this posting: `balance` is what it can spend now. */
  private memberOut(memberId: string): Member {
    const state = this.members.get(memberId)!;
    const book = this.book(memberId);
    return toMember({ ...state.row, balance: String(book.available), expired_points: '0', debt: String(book.debt),
      tier: state.tier, successful_referrals: state.successfulReferrals, referral_rewarded_at: state.referralRewardedAt });
  }
}
