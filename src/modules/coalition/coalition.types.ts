import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { SettlementModel } from '../ledger/settlement-model.rules';
import { DecimalScalar } from '../../api/scalars';

registerEnumType(SettlementModel, {
  name: 'SettlementModel',
  description: 'BILATERAL: the issuer of consumed points pays where they are spent. CLEARING: the operator sells points to issuers and pays where they are spent',
});

@ObjectType('Tier')
export class TierType {
  @Field()
  name: string;

  @Field(() => Int)
  qualifyingPoints: number;

  @Field(() => DecimalScalar)
  earnMultiplier: string;
}

@ObjectType()
export class ReferralMilestone {
  @Field(() => Int)
  referrals: number;

  @Field(() => Int)
  bonus: number;
}

@ObjectType('ReferralSettings')
export class ReferralSettingsType {
  @Field(() => Int)
  refereeBonus: number;

  @Field(() => Int)
  referrerBonus: number;

  @Field(() => [ReferralMilestone])
  milestones: ReferralMilestone[];

  @Field(() => DecimalScalar, { description: 'The least amount a qualifying purchase has; it must also earn at least one point' })
  minimumPurchase: string;
}

@ObjectType()
export class Coalition {
  @Field()
  name: string;

  @Field({ description: 'ISO 4217 settlement currency' })
  currency: string;

  @Field(() => Int, { description: 'Minor-unit digits of the currency (2 for EUR, 0 for JPY)' })
  currencyExponent: number;

  @Field(() => DecimalScalar, { description: 'Money a cause receives per point donated' })
  donationValuePerPoint: string;

  @Field(() => [TierType])
  tiers: TierType[];

  @Field(() => ReferralSettingsType, { nullable: true })
  referral: ReferralSettingsType | null;

  @Field(() => Int, { description: 'How many days in the past a purchase may have occurred' })
  maxBackdateDays: number;

  @Field(() => Int, { description: 'How many days before points expire the member is reminded (points.expiring)' })
  expiryReminderDays: number;

  @Field(() => SettlementModel, { description: 'Who pays whom for points: BILATERAL (issuer → redeemer) or CLEARING (partners buy points from the operator, which pays redemptions)' })
  settlementModel: SettlementModel;
}
