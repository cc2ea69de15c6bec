/**
 * Who owes whom for points as they move (docs/rules.md, Redemption and settlement): the one place
 * the coalition's settlement model is decided. MemberBook asks the model in force at the posting
 * what each movement owes; it never tests the model itself.
 *
 * - BILATERAL: the issuer of consumed points pays the party they are consumed for.
 * - CLEARING: the operator is the central counterparty: partners buy the points they issue
 *   (ISSUANCE partner → operator at their issuance price), the operator pays every redemption,
 *   reward and donation, and consumption in a reversing partner's favour (debt recovery) owes
 *   nothing, because the refund already returned that partner's issuance price.
 *
 * Pure: no database, no clock.
 */

/** The coalition's settlement model (API: SettlementModel). */
export enum SettlementModel {
  BILATERAL = 'BILATERAL',
  CLEARING = 'CLEARING',
}

/** A party points are owed by or to: a partner, or the operator (partnerId null). Same shape as Issuer. */
export interface Owing {
  partnerId: string | null;
}

/** An obligation as the model decides it; MemberBook turns it into an ObligationRow. */
export interface Owed {
  kind: 'REDEMPTION' | 'DEBT_RECOVERY' | 'REWARD' | 'ISSUANCE';
  payer: Owing;
  payee: Owing;
  /** Money per point (exact decimal string) in force at the posting. */
  rate: string;
}

/** What a posting knows of the terms in force when it reads them (just before its transaction). */
export interface SettlementTerms {
  model: SettlementModel;
  /** A partner's redemptionValuePerPoint in force: money it is credited per point consumed in its favour. */
  redemptionValue(partnerId: string): string;
  /** A partner's issuancePricePerPoint in force: money it pays the operator per point it issues (CLEARING). */
  issuancePrice(partnerId: string): string;
}

const OPERATOR: Owing = { partnerId: null };

/** The questions MemberBook asks; each model answers them. Points are whole and positive. */
export interface SettlementPolicy {
  /** A lot of `points` issued by `issuer` (purchase, bonus, referral): what its issuer owes for it. */
  issued(t: SettlementTerms, issuer: Owing): Owed | undefined;
  /**
   * Points of a lot issued by `lotIssuer` consumed in favour of `beneficiary` (a redemption at a
   * partner; a reward claim, `rate` then being the reward's value per point).
   */
  consumed(t: SettlementTerms, kind: 'REDEMPTION' | 'REWARD', lotIssuer: Owing, beneficiary: Owing, rate?: string): Owed | undefined;
  /** Points of another lot a reversal by `reverser` takes back (docs/rules.md, Taking points back). */
  takenBack(t: SettlementTerms, lotIssuer: Owing, reverser: Owing): Owed | undefined;
  /** Points of a new or restored lot that pay a debt owed to `creditor`. */
  debtRepaid(t: SettlementTerms, lotIssuer: Owing, creditor: Owing): Owed | undefined;
  /** Who pays a cause for donated points of a lot issued by `lotIssuer`. */
  donationPayer(lotIssuer: Owing): Owing;
  /** Who is owed the points a reversal by `reverser` cannot take back (the member's debt). */
  debtCreditor(reverser: Owing): Owing;
}

const same = (a: Owing, b: Owing) => a.partnerId === b.partnerId;

/**
 * BILATERAL. The operator has no redemption value of its own: a partner owing the operator (its
 * lot paid an operator-owed debt) owes at that partner's own value, as if redeemed at itself.
 */
const bilateral: SettlementPolicy = {
  issued: () => undefined,
  consumed: (t, kind, lotIssuer, beneficiary, rate) => (same(lotIssuer, beneficiary) ? undefined
    : { kind, payer: lotIssuer, payee: beneficiary, rate: rate ?? t.redemptionValue((beneficiary.partnerId ?? lotIssuer.partnerId)!) }),
  takenBack: (t, lotIssuer, reverser) => (same(lotIssuer, reverser) ? undefined
    : { kind: 'DEBT_RECOVERY', payer: lotIssuer, payee: reverser, rate: t.redemptionValue((reverser.partnerId ?? lotIssuer.partnerId)!) }),
  debtRepaid: (t, lotIssuer, creditor) => (same(lotIssuer, creditor) ? undefined
    : { kind: 'DEBT_RECOVERY', payer: lotIssuer, payee: creditor, rate: t.redemptionValue((creditor.partnerId ?? lotIssuer.partnerId)!) }),
  donationPayer: (lotIssuer) => lotIssuer,
  debtCreditor: (reverser) => reverser,
};

/**
 * CLEARING. Operator-issued points (referrals, goodwill) are bought by nobody. A debt owed to a
 * partner (it arose under BILATERAL, before a switch) is paid to that partner by the operator, as a
 * redemption at it: the new lot's issuer has already paid the operator for those points.
 */
const clearing: SettlementPolicy = {
  issued: (t, issuer) => (issuer.partnerId === null ? undefined
    : { kind: 'ISSUANCE', payer: issuer, payee: OPERATOR, rate: t.issuancePrice(issuer.partnerId) }),
  consumed: (t, kind, _lotIssuer, beneficiary, rate) => (beneficiary.partnerId === null ? undefined
    : { kind, payer: OPERATOR, payee: beneficiary, rate: rate ?? t.redemptionValue(beneficiary.partnerId) }),
  takenBack: () => undefined,
  debtRepaid: (t, _lotIssuer, creditor) => (creditor.partnerId === null ? undefined
    : { kind: 'REDEMPTION', payer: OPERATOR, payee: creditor, rate: t.redemptionValue(creditor.partnerId) }),
  donationPayer: () => OPERATOR,
  debtCreditor: () => OPERATOR,
};

const POLICIES: Record<SettlementModel, SettlementPolicy> = { [SettlementModel.BILATERAL]: bilateral, [SettlementModel.CLEARING]: clearing };

/** The policy of a model. */
export function settlementPolicy(model: SettlementModel): SettlementPolicy {
  return POLICIES[model];
}

