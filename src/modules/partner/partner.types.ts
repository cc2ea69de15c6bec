import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DecimalScalar } from '../../api/scalars';

export enum CommissionPlanType {
  PERCENT_OF_SALE = 'PERCENT_OF_SALE',
  FIXED_FIRST_PURCHASE = 'FIXED_FIRST_PURCHASE',
}
registerEnumType(CommissionPlanType, { name: 'CommissionPlanType' });

/** A partner's commission plan as stored (docs/rules.md, Affiliates and commissions). */
export interface CommissionPlan {
  type: CommissionPlanType;
  rate: string | null;
  amount: string | null;
  durationDays: number | null;
  holdDays: number;
}

@ObjectType()
export class CategoryMultiplier {
  @Field()
  category: string;

  @Field(() => DecimalScalar)
  multiplier: string;
}

@ObjectType('EarnRule')
export class EarnRuleType {
  @Field(() => DecimalScalar, { description: 'Points per 1.00 of currency' })
  pointsPerUnit: string;

  @Field(() => DecimalScalar, { nullable: true })
  minSpend: string | null;

  @Field(() => [CategoryMultiplier])
  categoryMultipliers: CategoryMultiplier[];

  @Field(() => Int, { nullable: true })
  maxPointsPerTransaction: number | null;

  @Field(() => Int, { nullable: true })
  maxPointsPerMemberPerDay: number | null;

  @Field(() => Int, { nullable: true })
  firstPurchaseBonus: number | null;

  @Field(() => Int, { nullable: true })
  everyNthVisit: number | null;

  @Field(() => Int, { nullable: true })
  visitBonus: number | null;

  @Field(() => Int)
  pointsValidityDays: number;

  @Field(() => Int, { description: 'Return window in days: purchase points are pending this long after the later of occurredAt and posting' })
  pendingDays: number;
}

@ObjectType('CommissionPlan')
export class CommissionPlanObject {
  @Field(() => CommissionPlanType)
  type: CommissionPlanType;

  @Field(() => DecimalScalar, { nullable: true, description: 'PERCENT_OF_SALE: the share of the purchase amount, e.g. "0.05"' })
  rate: string | null;

  @Field(() => DecimalScalar, { nullable: true, description: 'FIXED_FIRST_PURCHASE: the money paid per first purchase' })
  amount: string | null;

  @Field(() => Int, { nullable: true, description: 'Days after attribution in which purchases earn commission; null: for life' })
  durationDays: number | null;

  @Field(() => Int)
  holdDays: number;
}

@ObjectType()
export class Partner {
  @Field(() => ID)
  id: string;

  @Field()
  code: string;

  @Field()
  name: string;

  @Field(() => DecimalScalar, { description: 'Money the hub credits this partner per point redeemed at it' })
  redemptionValuePerPoint: string;

  @Field(() => DecimalScalar, { description: 'Money this partner pays the operator per point it issues, in the CLEARING settlement model' })
  issuancePricePerPoint: string;

  @Field(() => EarnRuleType)
  earnRule: EarnRuleType;

  @Field(() => CommissionPlanObject, { nullable: true })
  commissionPlan: CommissionPlanObject | null;

  @Field()
  createdAt: Date;
}

@ObjectType({ description: 'What anyone who sees a transaction may know of its partner' })
export class PartnerRef {
  @Field(() => ID)
  id: string;

  @Field()
  code: string;

  @Field()
  name: string;
}

/** A partner's limit on one action bonus per member: at most maxCount in any periodDays. */
export interface BonusLimit {
  action: string;
  maxCount: number;
  periodDays: number;
}
