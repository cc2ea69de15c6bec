import { ArrayMaxSize, IsEnum, IsOptional, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { Field, InputType, Int } from 'type-graphql';
import { DecimalScalar } from '../../api/scalars';
import { SettlementModel } from '../ledger/settlement-model.rules';

@InputType()
export class TierInput {
  @Field()
  @MinLength(1)
  @MaxLength(60)
  name: string;

  @Field(() => Int)
  qualifyingPoints: number;

  @Field(() => DecimalScalar)
  earnMultiplier: string;
}

@InputType()
export class ReferralMilestoneInput {
  @Field(() => Int)
  referrals: number;

  @Field(() => Int)
  bonus: number;
}

@InputType()
export class ReferralSettingsInput {
  @Field(() => Int)
  refereeBonus: number;

  @Field(() => Int)
  referrerBonus: number;

  @Field(() => [ReferralMilestoneInput])
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  milestones: ReferralMilestoneInput[];

  @Field(() => DecimalScalar, { nullable: true, description: 'The least amount a qualifying purchase has (it must also earn a point); default 0' })
  @IsOptional()
  minimumPurchase?: string | null;
}

@InputType()
export class ConfigureCoalitionInput {
  @Field()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @Field({ description: 'ISO 4217 code; cannot change once points have been posted' })
  currency: string;

  @Field(() => DecimalScalar)
  donationValuePerPoint: string;

  @Field(() => [TierInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  tiers?: TierInput[] | null;

  @Field(() => ReferralSettingsInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  referral?: ReferralSettingsInput | null;

  @Field(() => Int, { nullable: true, description: 'How many days in the past a purchase may have occurred (1 to 3650); omitted: unchanged (initially 30)' })
  @IsOptional()
  maxBackdateDays?: number | null;

  @Field(() => Int, { nullable: true, description: 'How many days before points expire the member is reminded (points.expiring), 1 to 365; omitted: unchanged (initially 30)' })
  @IsOptional()
  expiryReminderDays?: number | null;

  @Field(() => SettlementModel, { nullable: true, description: 'BILATERAL or CLEARING; applies to events posted after the change; omitted: unchanged (initially BILATERAL)' })
  @IsOptional()
  @IsEnum(SettlementModel)
  settlementModel?: SettlementModel | null;
}
