import { Field, ID, Int, ObjectType } from 'type-graphql';
import { UserError } from '../../api/errors';
import { BigIntScalar, DecimalScalar } from '../../api/scalars';
import { TierType, ReferralMilestone } from '../coalition/coalition.types';
import { BonusAction, BreakdownLine } from '../ledger/ledger.types';

@ObjectType({ description: "A partner's promotion: the largest matching multiplier applies to a line; bonus points add up" })
export class Promotion {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  partnerId: string;

  @Field()
  name: string;

  @Field({ description: 'Inclusive' })
  startsAt: Date;

  @Field({ description: 'Exclusive' })
  endsAt: Date;

  @Field(() => DecimalScalar, { nullable: true })
  multiplier: string | null;

  @Field(() => Int, { nullable: true })
  bonusPoints: number | null;

  @Field(() => [String], { description: 'Empty: every category' })
  categories: string[];

  @Field(() => [String], { description: 'Empty: every member, with or without a tier' })
  tiers: string[];

  @Field(() => DecimalScalar, { nullable: true })
  minSpend: string | null;

  @Field(() => [ID], { description: 'Club ids; empty: every member. Otherwise a member of one of them at the purchase time' })
  clubs: string[];
}

@ObjectType()
export class CreatePromotionPayload {
  @Field(() => Promotion, { nullable: true })
  promotion: Promotion | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType({ description: 'What recordPurchase would post now, with a breakdown line per step; nothing is written' })
export class PurchaseQuote {
  @Field(() => Int)
  points: number;

  @Field(() => [BreakdownLine])
  breakdown: BreakdownLine[];

  @Field(() => Date, { nullable: true, description: "When the points would become available (UTC): the partner's pendingDays after the later of occurredAt and now; now when the partner has no return window. Null with userErrors" })
  availableAt: Date | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType({ description: 'A limit on one action bonus a partner awards a member, e.g. one REVIEW bonus a day' })
export class BonusLimitType {
  @Field(() => BonusAction)
  action: BonusAction;

  @Field(() => Int)
  maxCount: number;

  @Field(() => Int)
  periodDays: number;
}

@ObjectType()
export class TierProgressType {
  @Field(() => BigIntScalar, { description: 'Purchase points net of refunds posted in the trailing 365 days (64-bit: it may pass 2,147,483,647)' })
  qualifyingPoints: number;

  @Field(() => TierType, { nullable: true })
  nextTier: TierType | null;

  @Field(() => Int, { description: 'Points still needed for the next tier; 0 at the top' })
  pointsToNextTier: number;
}

@ObjectType()
export class ReferralStats {
  @Field(() => Int)
  successfulReferrals: number;

  @Field(() => ReferralMilestone, { nullable: true })
  nextMilestone: ReferralMilestone | null;

  @Field(() => Int, { nullable: true, description: 'Successful referrals still needed for the next milestone' })
  referralsToNextMilestone: number | null;
}

@ObjectType({ description: 'Points of lots that expire together' })
export class ExpiringPoints {
  @Field(() => Int)
  points: number;

  @Field()
  expiresAt: Date;
}

@ObjectType()
export class RunExpiryPayload {
  @Field(() => BigIntScalar)
  expiredPoints: bigint;

  @Field(() => Int)
  expiredLots: number;

  @Field(() => Int, { description: 'Members whose tier changed as the qualification window slid' })
  tierChanges: number;

  @Field(() => Int, { description: 'Members whose processing failed: logged and skipped; the next run tries them again' })
  skippedMembers: number;

  @Field(() => [UserError])
  userErrors: UserError[];
}
