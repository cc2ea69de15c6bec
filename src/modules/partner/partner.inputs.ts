import { ArrayMaxSize, IsOptional, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { DecimalScalar } from '../../api/scalars';
import { CommissionPlanType } from './partner.types';

@InputType()
export class CategoryMultiplierInput {
  @Field()
  @MaxLength(100)
  category: string;

  @Field(() => DecimalScalar)
  multiplier: string;
}

@InputType()
export class EarnRuleInput {
  @Field(() => DecimalScalar)
  pointsPerUnit: string;

  @Field(() => DecimalScalar, { nullable: true })
  minSpend?: string | null;

  @Field(() => [CategoryMultiplierInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  categoryMultipliers?: CategoryMultiplierInput[] | null;

  @Field(() => Int, { nullable: true })
  maxPointsPerTransaction?: number | null;

  @Field(() => Int, { nullable: true })
  maxPointsPerMemberPerDay?: number | null;

  @Field(() => Int, { nullable: true })
  firstPurchaseBonus?: number | null;

  @Field(() => Int, { nullable: true })
  everyNthVisit?: number | null;

  @Field(() => Int, { nullable: true })
  visitBonus?: number | null;

  @Field(() => Int, { nullable: true, description: 'Days a lot of points issued by this partner stays valid (default 365), counted from when its points become available' })
  pointsValidityDays?: number | null;

  @Field(() => Int, { nullable: true, description: 'Return window, 0 to 365 days (default 0): a purchase\'s points are pending until this long after the later of occurredAt and posting' })
  pendingDays?: number | null;
}

@InputType()
export class CommissionPlanInput {
  @Field(() => CommissionPlanType)
  type: CommissionPlanType;

  @Field(() => DecimalScalar, { nullable: true })
  rate?: string | null;

  @Field(() => DecimalScalar, { nullable: true })
  amount?: string | null;

  @Field(() => Int, { nullable: true })
  durationDays?: number | null;

  @Field(() => Int)
  holdDays: number;
}

@InputType()
export class CreatePartnerInput {
  @Field({ description: 'Short unique code: 2 to 40 letters and digits, dashes and spaces allowed between them; matched ignoring case, spaces and dashes' })
  @MaxLength(40)
  code: string;

  @Field()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @Field(() => DecimalScalar)
  redemptionValuePerPoint: string;

  @Field(() => DecimalScalar, { nullable: true, description: 'Money per point the partner pays the operator for points it issues (CLEARING); 0 to 1000; default: its redemptionValuePerPoint' })
  @IsOptional()
  issuancePricePerPoint?: string | null;

  @Field(() => EarnRuleInput)
  @ValidateNested()
  earnRule: EarnRuleInput;

  @Field(() => CommissionPlanInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  commissionPlan?: CommissionPlanInput | null;
}

@InputType()
export class UpdateEarnRuleInput {
  @Field(() => ID)
  partnerId: string;

  @Field(() => EarnRuleInput)
  @ValidateNested()
  earnRule: EarnRuleInput;
}

@InputType({ description: 'New money terms for a partner; each applies to postings after the change; omitted: unchanged' })
export class UpdatePartnerTermsInput {
  @Field(() => ID)
  partnerId: string;

  @Field(() => DecimalScalar, { nullable: true, description: 'Money credited per point redeemed at the partner (0 to 1000)' })
  @IsOptional()
  redemptionValuePerPoint?: string | null;

  @Field(() => DecimalScalar, { nullable: true, description: 'Money per point the partner pays the operator for points it issues in CLEARING (0 to 1000)' })
  @IsOptional()
  issuancePricePerPoint?: string | null;
}
