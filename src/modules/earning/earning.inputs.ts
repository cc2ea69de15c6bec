import { ArrayMaxSize, IsOptional, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { DecimalScalar } from '../../api/scalars';
import { BonusAction } from '../ledger/ledger.types';

@InputType()
export class CreatePromotionInput {
  @Field(() => ID)
  @MaxLength(64)
  partnerId: string;

  @Field()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @Field()
  startsAt: Date;

  @Field()
  endsAt: Date;

  @Field(() => DecimalScalar, { nullable: true })
  multiplier?: string | null;

  @Field(() => Int, { nullable: true })
  bonusPoints?: number | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(100)
  @MaxLength(100, { each: true })
  categories?: string[] | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20)
  @MaxLength(60, { each: true })
  tiers?: string[] | null;

  @Field(() => DecimalScalar, { nullable: true })
  minSpend?: string | null;

  @Field(() => [ID], { nullable: true, description: 'Members of one of these clubs only, at the purchase time (coalition clubs or the partner’s own)' })
  @IsOptional()
  @ArrayMaxSize(20)
  @MaxLength(64, { each: true })
  clubs?: string[] | null;
}

@InputType()
export class BonusLimitInput {
  @Field(() => BonusAction)
  action: BonusAction;

  @Field(() => Int, { description: 'Bonuses of this action a member may get from the partner in the period' })
  maxCount: number;

  @Field(() => Int)
  periodDays: number;
}

@InputType()
export class SetBonusLimitsInput {
  @Field(() => ID)
  @MaxLength(64)
  partnerId: string;

  @Field(() => [BonusLimitInput], { description: 'Replaces every limit of the partner; empty: no limits' })
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  limits: BonusLimitInput[];
}

@InputType()
export class RunExpiryInput {
  @Field(() => Date, { nullable: true, description: 'Expire lots whose expiry is at or before this time; default now; not in the future' })
  asOf?: Date | null;
}
