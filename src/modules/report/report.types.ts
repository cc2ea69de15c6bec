import { Field, Int, ObjectType } from 'type-graphql';
import { BigIntScalar, DecimalScalar } from '../../api/scalars';
import { Money } from '../ledger/ledger.types';
import { PartnerRef } from '../partner/partner.types';
import { Party } from '../settlement/settlement.types';
import { SettlementModel } from '../ledger/settlement-model.rules';

@ObjectType({ description: "A partner's figures for [periodStart, periodEnd) (docs/rules.md, Reports)" })
export class PartnerStats {
  @Field(() => PartnerRef)
  partner: PartnerRef;

  @Field()
  periodStart: Date;

  @Field()
  periodEnd: Date;

  @Field(() => Int, { description: 'Members linked to the partner by the end of the period' })
  membersLinked: number;

  @Field(() => Int, { description: 'Linked members with a purchase, redemption or reward claim at the partner in the 90 days before the end' })
  activeMembers: number;

  @Field(() => BigIntScalar, { description: 'Points the partner issued (purchases and bonuses) in the period' })
  pointsIssued: bigint;

  @Field(() => BigIntScalar, { description: 'Points taken back by refunds and bonus reversals in the period' })
  pointsReversed: bigint;

  @Field(() => BigIntScalar, { description: 'Points redeemed at the partner and spent on its rewards in the period, net of returns (voided or expired vouchers)' })
  pointsRedeemed: bigint;

  @Field(() => BigIntScalar, { description: "The partner's points that expired in the period" })
  pointsExpired: bigint;

  @Field(() => BigIntScalar, { description: "The partner's points donated in the period (charity)" })
  pointsDonated: bigint;

  @Field(() => BigIntScalar, { description: "Unexpired points the partner issued that members still hold (now)" })
  outstandingPoints: bigint;

  @Field(() => Money, { description: 'outstandingPoints at the partner’s redemption value' })
  outstandingValue: Money;

  @Field(() => DecimalScalar, { description: 'pointsExpired / pointsIssued, rounded half up to at most 4 decimals; 0 when nothing was issued' })
  breakageRate: string;

  @Field(() => DecimalScalar, { description: 'pointsRedeemed / pointsIssued, rounded half up to at most 4 decimals; 0 when nothing was issued' })
  redemptionRate: string;

  @Field(() => Int, { description: 'Members active at the partner both in this period and in the one of equal length before it' })
  retainedMembers: number;

  @Field(() => DecimalScalar, { description: 'retainedMembers / members active in the previous period, rounded half up to at most 4 decimals' })
  retention: string;

  @Field(() => Int, { description: "Claims of the partner's rewards posted in the period (each REWARD transaction; returned ones included)" })
  rewardClaims: number;

  @Field(() => BigIntScalar, { description: "Points spent on the partner's rewards in the period, net of returns: the part of pointsRedeemed that is claims" })
  pointsClaimed: bigint;

  @Field(() => Int, { description: "Vouchers of the partner's rewards redeemed at its till in the period" })
  vouchersRedeemed: number;

  @Field(() => Int, { description: "Vouchers of the partner's rewards issued and not yet redeemed, voided or expired (now): goods it still owes at its till" })
  outstandingVouchers: number;
}

@ObjectType({ description: 'Unexpired points an issuer still owes members, and their money value' })
export class Liability {
  @Field(() => Party)
  issuer: Party;

  @Field(() => BigIntScalar)
  points: bigint;

  @Field(() => Money, { description: 'At the issuer’s redemption value; the operator’s points at the coalition’s donation value' })
  value: Money;
}

@ObjectType({ description: "The operator's economics for [periodStart, periodEnd) in either settlement model (docs/rules.md, Operator economics)" })
export class OperatorEconomics {
  @Field()
  periodStart: Date;

  @Field()
  periodEnd: Date;

  @Field(() => SettlementModel, { description: 'The model in force now (the period may span a switch)' })
  settlementModel: SettlementModel;

  @Field(() => Money, { description: 'ISSUANCE lines of the period: what partners paid the operator for the points they issued, net of refunds' })
  issuanceRevenue: Money;

  @Field(() => Money, { description: 'REDEMPTION and DEBT_RECOVERY lines the operator pays in the period, net of returns and of recoveries it receives' })
  redemptionCost: Money;

  @Field(() => Money, { description: 'REWARD lines the operator pays in the period, net of voided claims' })
  rewardCost: Money;

  @Field(() => Money, { description: 'DONATION lines the operator pays in the period (causes, for donated points)' })
  donationCost: Money;

  @Field(() => BigIntScalar, { description: 'Points expired in the period, net of expired points refunds counted as taken back' })
  breakagePoints: bigint;

  @Field(() => Money, { description: 'Those points at the issuance price their purchase or bonus paid (0 where none was paid); already part of issuance revenue' })
  breakageValue: Money;

  @Field(() => Money, { description: 'issuanceRevenue − redemptionCost − rewardCost − donationCost: the operator’s net position in a settlement run of the same period' })
  margin: Money;

  @Field(() => BigIntScalar, { description: 'Unexpired points members hold at liabilityAsOf (available and pending)' })
  outstandingPoints: bigint;

  @Field({ description: 'The instant the liability is measured at: periodEnd, or now when periodEnd is in the future' })
  liabilityAsOf: Date;

  @Field(() => DecimalScalar, { description: 'Volume-weighted redemption value per point of the 365 days before liabilityAsOf (6 decimals shown)' })
  liabilityValuePerPoint: string;

  @Field(() => Money, { description: 'outstandingPoints × liabilityValuePerPoint (exact), rounded half up' })
  liability: Money;

  @Field(() => DecimalScalar, { description: 'Points expired / points that left members in the 365 days before liabilityAsOf (6 decimals shown)' })
  trailingBreakageRate: string;

  @Field(() => Money, { description: 'liability × trailingBreakageRate (exact), rounded half up: the breakage an operator books against the liability' })
  breakageEstimate: Money;
}
