/**
 * The ledger's rules as pure functions over one member's state (docs/rules.md, The ledger): lots,
 * consumption order, debt, and the obligations consumption creates. The service loads the state,
 * these functions decide, and the service writes what they collected.
 */

import { donationValueMinor, splitDonationValue } from './value.rules';
import { Owed, SettlementModel, SettlementPolicy, SettlementTerms, settlementPolicy } from './settlement-model.rules';

export enum AccountType {
  MEMBER = 'MEMBER',
  PARTNER = 'PARTNER',
  OPERATOR = 'OPERATOR',
  CAUSE = 'CAUSE',
  BREAKAGE = 'BREAKAGE',
}

export enum ObligationKind {
  REDEMPTION = 'REDEMPTION',
  DONATION = 'DONATION',
  MATCH = 'MATCH',
  COMMISSION = 'COMMISSION',
  DEBT_RECOVERY = 'DEBT_RECOVERY',
  /** CLEARING: a partner buys the points it issues from the operator (negative: a refund returns the price). */
  ISSUANCE = 'ISSUANCE',
  /** A reward claimed: a consumed lot's issuer owes the reward's partner (or the operator) its value per point. */
  REWARD = 'REWARD',
}

/** Who issued a lot: a partner, or the operator (partnerId null). */
export interface Issuer {
  partnerId: string | null;
}

export interface LotState {
  id: string;
  transactionId: string;
  issuer: Issuer;
  points: number;
  remaining: number;
  expiresAt: Date;
  createdAt: Date;
  /**
   * When the lot's points become spendable (a purchase's return window, docs/rules.md, Lots); until
   * then they are pending: never consumed (except to pay debt), not in `available`. Null or absent:
   * available from `createdAt`.
   */
  availableAt?: Date | null;
  isNew: boolean;
  dirty: boolean;
}

export interface DebtState {
  id: string;
  transactionId: string;
  /** The partner owed; null when the operator is owed. */
  creditorPartnerId: string | null;
  points: number;
  remaining: number;
  createdAt: Date;
  isNew: boolean;
  dirty: boolean;
}

export interface EntryRow {
  memberId: string;
  transactionId: string;
  seq: number;
  accountType: AccountType;
  accountId: string | null;
  points: number;
}

export interface MovementRow {
  memberId: string;
  transactionId: string;
  lotId: string;
  /** Negative: taken from the lot; positive: given back to it. */
  points: number;
}

export interface ObligationRow {
  memberId: string;
  transactionId: string;
  kind: ObligationKind;
  payerType: AccountType;
  payerId: string | null;
  payeeType: AccountType;
  payeeId: string | null;
  points: number;
  /** Money per point in force when the obligation arose. */
  rate: string;
  /** DONATION and MATCH: the money this row is worth, in minor units, floored (docs/rules.md, Charity). */
  valueMinor?: bigint;
}

/** Where the rows a posting produces are collected before one write. */
export interface Changes {
  entries: EntryRow[];
  movements: MovementRow[];
  obligations: ObligationRow[];
}

export function emptyChanges(): Changes {
  return { entries: [], movements: [], obligations: [] };
}

/** Debits consume lots earliest expiry first, then oldest first (then by id, so the order is total). */
export function consumptionOrder(a: LotState, b: LotState): number {
  return a.expiresAt.getTime() - b.expiresAt.getTime() || a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Whether a lot is past its expiry at `now`: then it is never consumed and never counts as available (docs/rules.md, Expiry). */
export function isExpired(lot: LotState, now: Date): boolean {
  return lot.expiresAt.getTime() <= now.getTime();
}

/**
 * Whether a lot's points are still pending at `now` (its availableAt is after `now`): judged against
 * the instant, never a stored flag, so no job has to run for them to become available.
 */
export function isPending(lot: Pick<LotState, 'availableAt'>, now: Date): boolean {
  return lot.availableAt != null && lot.availableAt.getTime() > now.getTime();
}

/**
 * How `points` are taken from `lots` in consumption order; what the lots cannot cover is `missing`.
 * With `now`, lots past their expiry at `now` are left alone, whether or not the expiry job has run,
 * and so are lots still pending at `now` unless `includePending` (paying a debt: owed either way).
 */
export function planConsumption(lots: readonly LotState[], points: number, now?: Date, includePending = false): { takes: { lot: LotState; points: number }[]; missing: number } {
  const takes: { lot: LotState; points: number }[] = [];
  let left = points;
  for (const lot of [...lots].sort(consumptionOrder)) {
    if (left === 0) break;
    if (lot.remaining <= 0 || (now && (isExpired(lot, now) || (!includePending && isPending(lot, now))))) continue;
    const take = Math.min(lot.remaining, left);
    takes.push({ lot, points: take });
    left -= take;
  }
  return { takes, missing: left };
}

function issuerAccount(issuer: Issuer): { type: AccountType; id: string | null } {
  return issuer.partnerId ? { type: AccountType.PARTNER, id: issuer.partnerId } : { type: AccountType.OPERATOR, id: null };
}

/** The two entries of a movement between the member and one other account; they sum to zero. */
export function memberEntries(memberId: string, transactionId: string, memberPoints: number, counter: { type: AccountType; id: string | null }): EntryRow[] {
  return [
    { memberId, transactionId, seq: 1, accountType: AccountType.MEMBER, accountId: memberId, points: memberPoints },
    { memberId, transactionId, seq: 2, accountType: counter.type, accountId: counter.id, points: -memberPoints },
  ];
}

/** Money per point a partner is credited for points consumed in its favour. */
export type RateOf = (partnerId: string) => string;

/**
 * One member's points during a posting: balance, debt, open lots and debts. Its methods apply the
 * ledger rules and append the resulting rows to `changes`; the balance identity
 * balance = Σ lot.remaining − debt holds after each of them. `balance` is the stored figure (lots
 * past expiry that the job has not reached, and pending lots, still count in it); `available` is
 * what can be spent at `now` (docs/rules.md, Available balance); `pending` what becomes spendable later.
 */
export class MemberBook {
  readonly lots = new Map<string, LotState>();
  readonly debts: DebtState[];
  private readonly terms: SettlementTerms;
  /** Who owes whom for each movement: the settlement model's answers (settlement-model.rules.ts). */
  private readonly policy: SettlementPolicy;

  constructor(
    readonly memberId: string,
    public balance: number,
    public debt: number,
    lots: LotState[],
    debts: DebtState[],
    private readonly changes: Changes,
    rateOf: RateOf,
    /** The posting's time: lots expired at it are never consumed. */
    readonly now: Date,
    /**
     * Points of this member's lots past expiry at `now` that are not in `lots` (the posting did not
     * load the member's lots): they count in `balance` but not in `available`.
     */
    private readonly expiredNotLoaded = 0,
    /** Likewise, points of this member's lots still pending at `now` that are not in `lots`. */
    private readonly pendingNotLoaded = 0,
    /** The coalition's settlement model and partners' issuance prices in force (default BILATERAL). */
    settlement: { model: SettlementModel; issuancePrice: (partnerId: string) => string } = { model: SettlementModel.BILATERAL, issuancePrice: () => '0' },
  ) {
    for (const lot of lots) this.lots.set(lot.id, lot);
    this.terms = { model: settlement.model, redemptionValue: rateOf, issuancePrice: settlement.issuancePrice };
    this.policy = settlementPolicy(settlement.model);
    this.debts = [...debts].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
  }

  /** What the member can spend at `now`: the stored balance less what is left of lots past expiry and of lots still pending. */
  get available(): number {
    let expired = this.expiredNotLoaded;
    for (const lot of this.lots.values()) if (lot.remaining > 0 && isExpired(lot, this.now)) expired += lot.remaining;
    return this.balance - expired - this.pending;
  }

  /** Points of the member's lots still pending at `now` (docs/rules.md, Lots): shown, not spendable. */
  get pending(): number {
    let pending = this.pendingNotLoaded;
    for (const lot of this.lots.values()) if (lot.remaining > 0 && !isExpired(lot, this.now) && isPending(lot, this.now)) pending += lot.remaining;
    return pending;
  }

  /** This book's movements by transaction and lot: a transaction moves a lot once (its primary key). */
  private readonly movements = new Map<string, MovementRow>();

  private move(transactionId: string, lot: LotState, points: number): void {
    lot.remaining += points;
    lot.dirty = true;
    const key = `${transactionId}|${lot.id}`;
    const existing = this.movements.get(key);
    if (existing) existing.points += points;
    else {
      const movement = { memberId: this.memberId, transactionId, lotId: lot.id, points };
      this.movements.set(key, movement);
      this.changes.movements.push(movement);
    }
  }

  /** Records what the settlement model says a movement of `points` owes (nothing when it owes nothing). */
  private owe(transactionId: string, owed: Owed | undefined, points: number): void {
    if (!owed || points === 0) return;
    const from = issuerAccount(owed.payer);
    const to = issuerAccount(owed.payee);
    this.changes.obligations.push({
      memberId: this.memberId, transactionId, kind: owed.kind as ObligationKind, payerType: from.type, payerId: from.id, payeeType: to.type, payeeId: to.id,
      points, rate: owed.rate,
    });
  }

  /** Open debts are paid from `lot` first, oldest debt first; each payment owes what the model says (BILATERAL: issuer → creditor). */
  private payDebtFrom(transactionId: string, lot: LotState): void {
    // An expired lot (a returned reward restored into it) pays nothing: its points are gone.
    if (isExpired(lot, this.now)) return;
    for (const debt of this.debts) {
      if (lot.remaining === 0) break;
      if (debt.remaining === 0) continue;
      const pay = Math.min(debt.remaining, lot.remaining);
      this.move(transactionId, lot, -pay);
      debt.remaining -= pay;
      debt.dirty = true;
      this.debt -= pay;
      this.owe(transactionId, this.policy.debtRepaid(this.terms, lot.issuer, { partnerId: debt.creditorPartnerId }), pay);
    }
  }

  /**
   * A credit (purchase, bonus): a new lot from `issuer`, which pays any debt first — also when it is
   * pending until `availableAt` (null: available now), since the member owes those points either way.
   * In CLEARING a partner's lot owes the operator its issuance price (ISSUANCE, points × issuancePricePerPoint).
   */
  credit(transactionId: string, lotId: string, issuer: Issuer, points: number, expiresAt: Date, now: Date, availableAt: Date | null = null): LotState | undefined {
    this.changes.entries.push(...memberEntries(this.memberId, transactionId, points, issuerAccount(issuer)));
    this.balance += points;
    if (points === 0) return undefined;
    const lot: LotState = { id: lotId, transactionId, issuer, points, remaining: points, expiresAt, createdAt: now, availableAt, isNew: true, dirty: true };
    this.lots.set(lot.id, lot);
    this.owe(transactionId, this.policy.issued(this.terms, issuer), points);
    this.payDebtFrom(transactionId, lot);
    return lot;
  }

  /** A redemption at `partnerId`: consume(REDEMPTION) at the partner's redemption value. */
  redeem(transactionId: string, partnerId: string, points: number): 'MEMBER_IN_DEBT' | 'INSUFFICIENT_POINTS' | undefined {
    return this.consume(transactionId, ObligationKind.REDEMPTION, { partnerId }, points, this.terms.redemptionValue(partnerId));
  }

  /**
   * Points spent in `beneficiary`'s favour (docs/rules.md, Redemption; Rewards): a redemption at a
   * partner, a reward claimed from a partner or from the operator (partnerId null). Lots are taken
   * in consumption order (never a lot past expiry, never below zero, never while in debt); each
   * taken lot whose issuer is not the beneficiary becomes an obligation of `kind`, issuer →
   * beneficiary, of its points at `rate` (money per point, exact decimal string). The settlement
   * model of consumption lives here and only here. Errors: MEMBER_IN_DEBT, INSUFFICIENT_POINTS
   * (nothing is changed then).
   */
  consume(transactionId: string, kind: ObligationKind.REDEMPTION | ObligationKind.REWARD, beneficiary: Issuer, points: number, rate: string)
    : 'MEMBER_IN_DEBT' | 'INSUFFICIENT_POINTS' | undefined {
    if (this.debt > 0) return 'MEMBER_IN_DEBT';
    if (this.available < points) return 'INSUFFICIENT_POINTS';
    const { takes, missing } = planConsumption([...this.lots.values()], points, this.now);
    if (missing > 0) throw new Error(`ledger invariant broken: member ${this.memberId} balance ${this.balance} exceeds its lots`);
    const to = issuerAccount(beneficiary);
    for (const take of takes) {
      this.move(transactionId, take.lot, -take.points);
      this.owe(transactionId, this.policy.consumed(this.terms, kind, take.lot.issuer, beneficiary, rate), take.points);
    }
    this.changes.entries.push(...memberEntries(this.memberId, transactionId, -points, to));
    this.balance -= points;
    return undefined;
  }

  /**
   * Takes `points` back for `issuer` (a reversed purchase or bonus; docs/rules.md, Taking points back):
   * first from what is left of the transaction's own lot, pending or not (a refund inside the return
   * window: no debt, no obligation); then from the part of that lot that has
   * expired (still in the lot when the job has not reached it; else `swept`, the points the job
   * moved to breakage, given back from breakage by an EXPIRY transaction `swept.transactionId` of
   * +points: they count as taken back and cost nobody anything); then from other lots not expired,
   * available ones first, then pending ones (owed either way, as a new lot pays debt), as debt
   * recovery in the issuer's favour (CLEARING: owing nothing); whatever is still missing becomes
   * debt owed to the issuer (CLEARING: to the operator). With `issuanceRate` (the money per point the
   * original transaction paid the operator for its points), every point taken back, wherever it comes
   * from, returns that price to the issuer: a negative ISSUANCE obligation, in either model.
   * Returns the points given back from breakage (0: `swept.transactionId` posts nothing).
   */
  takeBack(transactionId: string, issuer: Issuer, ownLotId: string | undefined, points: number, debtId: string, now: Date,
    swept?: { transactionId: string; points: number }, issuanceRate?: string): number {
    let left = points;
    let unswept = 0;
    const own = ownLotId ? this.lots.get(ownLotId) : undefined;
    if (own && own.remaining > 0) {
      // Unexpired, or expired and not yet swept: either way these points go back to the issuer.
      const take = Math.min(own.remaining, left);
      this.move(transactionId, own, -take);
      left -= take;
    }
    if (own && swept && swept.points > 0 && left > 0) {
      unswept = Math.min(swept.points, left);
      this.move(swept.transactionId, own, unswept);
      this.changes.entries.push(...memberEntries(this.memberId, swept.transactionId, unswept, { type: AccountType.BREAKAGE, id: null }));
      this.balance += unswept;
      this.move(transactionId, own, -unswept);
      left -= unswept;
    }
    const fromAvailable = planConsumption([...this.lots.values()], left, this.now);
    const fromPending = planConsumption([...this.lots.values()].filter((lot) => isPending(lot, this.now)), fromAvailable.missing, this.now, true);
    const missing = fromPending.missing;
    for (const take of [...fromAvailable.takes, ...fromPending.takes]) {
      this.move(transactionId, take.lot, -take.points);
      this.owe(transactionId, this.policy.takenBack(this.terms, take.lot.issuer, issuer), take.points);
    }
    if (missing > 0) {
      this.debts.push({ id: debtId, transactionId, creditorPartnerId: this.policy.debtCreditor(issuer).partnerId, points: missing, remaining: missing,
        createdAt: now, isNew: true, dirty: true });
      this.debt += missing;
    }
    if (issuanceRate !== undefined && issuer.partnerId !== null) {
      this.owe(transactionId, { kind: 'ISSUANCE', payer: issuer, payee: { partnerId: null }, rate: issuanceRate }, -points);
    }
    this.changes.entries.push(...memberEntries(this.memberId, transactionId, -points, issuerAccount(issuer)));
    this.balance -= points;
    return unswept;
  }

  /**
   * A donation to a cause (docs/rules.md, Charity): lots in consumption order — or only `fromLotId`, the
   * lot an automatic donation comes from — each owed by its issuer (CLEARING: by the operator) to the cause at `rate` (the
   * coalition's donation value per point). Each row carries its share of the donation's floored
   * value (splitDonationValue), so the rows sum exactly to the receipt; `exponent` is the currency's.
   */
  donate(transactionId: string, causeId: string, points: number, rate: string, exponent: number, fromLotId?: string): 'MEMBER_IN_DEBT' | 'INSUFFICIENT_POINTS' | undefined {
    if (this.debt > 0) return 'MEMBER_IN_DEBT';
    const source = fromLotId ? [this.lots.get(fromLotId)!] : [...this.lots.values()];
    const available = fromLotId ? (isExpired(source[0]!, this.now) || isPending(source[0]!, this.now) ? 0 : source[0]!.remaining) : this.available;
    if (available < points) return 'INSUFFICIENT_POINTS';
    const { takes, missing } = planConsumption(source, points, this.now);
    if (missing > 0) throw new Error(`ledger invariant broken: member ${this.memberId} balance ${this.balance} exceeds its lots`);
    const values = splitDonationValue(takes.map((t) => t.points), rate, exponent);
    takes.forEach((take, i) => {
      this.move(transactionId, take.lot, -take.points);
      const from = issuerAccount(this.policy.donationPayer(take.lot.issuer));
      this.changes.obligations.push({ memberId: this.memberId, transactionId, kind: ObligationKind.DONATION, payerType: from.type, payerId: from.id,
        payeeType: AccountType.CAUSE, payeeId: causeId, points: take.points, rate, valueMinor: values[i]! });
    });
    this.changes.entries.push(...memberEntries(this.memberId, transactionId, -points, { type: AccountType.CAUSE, id: causeId }));
    this.balance -= points;
    return undefined;
  }

  /**
   * A partner's match of a donation: money it owes the cause, worth points × rate floored to minor
   * units (returned); the matched points never reach the member.
   */
  match(transactionId: string, partnerId: string, causeId: string, points: number, rate: string, exponent: number): bigint {
    if (points <= 0) return 0n;
    const valueMinor = donationValueMinor(points, rate, exponent);
    this.changes.obligations.push({ memberId: this.memberId, transactionId, kind: ObligationKind.MATCH, payerType: AccountType.PARTNER, payerId: partnerId,
      payeeType: AccountType.CAUSE, payeeId: causeId, points, rate, valueMinor });
    return valueMinor;
  }

  /**
   * Expires what is left of every lot past its expiry at `asOf`: the points move to breakage and
   * cost their issuer nothing. Returns the points and the number of lots expired.
   */
  expire(transactionId: string, asOf: Date): { points: number; lots: number } {
    let points = 0;
    let count = 0;
    for (const lot of this.lots.values()) {
      if (lot.remaining > 0 && lot.expiresAt.getTime() <= asOf.getTime()) {
        points += lot.remaining;
        count += 1;
        this.move(transactionId, lot, -lot.remaining);
      }
    }
    if (points > 0) {
      this.changes.entries.push(...memberEntries(this.memberId, transactionId, -points, { type: AccountType.BREAKAGE, id: null }));
      this.balance -= points;
    }
    return { points, lots: count };
  }

  /**
   * Gives a redemption's or a claimed reward's points back (a returned reward, a voided or expired
   * voucher): the same lots get them again (same issuer, same expiry: a lot past expiry meanwhile
   * keeps them until the expiry job moves them to breakage), the obligations the consumption created
   * are reversed (negative rows, posted now), and restored points pay any debt first. `beneficiary`:
   * whom the points had been spent with (a partner, or the operator for an operator reward).
   */
  restore(transactionId: string, beneficiary: Issuer, original: { lotId: string; points: number }[], originalObligations: ObligationRow[]): void {
    let total = 0;
    for (const movement of original) {
      const lot = this.lots.get(movement.lotId);
      if (!lot) throw new Error(`lot ${movement.lotId} of a redemption is missing`);
      this.move(transactionId, lot, -movement.points);
      total += -movement.points;
    }
    for (const o of originalObligations) {
      this.changes.obligations.push({ ...o, transactionId, points: -o.points });
    }
    this.changes.entries.push(...memberEntries(this.memberId, transactionId, total, issuerAccount(beneficiary)));
    this.balance += total;
    for (const movement of original) this.payDebtFrom(transactionId, this.lots.get(movement.lotId)!);
  }
}

/**
 * Points a refund takes back (docs/rules.md, Reversals), on the running total: after refunds totalling
 * R of a purchase of amount A that earned E points, floor(E × R / A) have been taken back in all
 * (all E once R = A). A refund takes what brings the total taken back (`takenBefore`, expired
 * points counted as taken back included) to that figure: floor(E × R_after / A) − floor(E × R_before / A)
 * when every earlier refund followed this rule. Amounts in minor units; never negative.
 */
export function refundPoints(earned: number, amountMinor: bigint, refundedBeforeMinor: bigint, takenBefore: number, refundMinor: bigint): number {
  const after = refundedBeforeMinor + refundMinor;
  const target = after >= amountMinor ? earned : Number((BigInt(earned) * after) / amountMinor);
  return Math.max(0, target - takenBefore);
}
