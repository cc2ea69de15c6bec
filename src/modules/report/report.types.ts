import { Field, Int, ObjectType } from 'type-graphql';
import { BigIntScalar, DecimalScalar } from '../../api/scalars';
import { Money } from '../ledger/ledger.types';
import { PartnerRef } from '../partner/partner.types';
import { Party } from '../settlement/settlement.types';

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
