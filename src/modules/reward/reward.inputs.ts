import { ArrayMaxSize, IsOptional, Length, MaxLength } from 'class-validator';
import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import { DecimalScalar } from '../../api/scalars';
import { PageArgs } from '../../common/pagination';
import { RewardKind, VoucherState } from './reward.types';

@InputType()
export class CreateRewardInput {
  @Field(() => ID, { nullable: true, description: 'The operator: the partner it creates the reward for; omitted, an operator (coalition-wide) reward' })
  @IsOptional()
  @MaxLength(64)
  partnerId?: string | null;

  @Field({ description: 'Not blank (INVALID_INPUT); at most 200 characters' })
  @MaxLength(200)
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(2000)
  description?: string | null;

  @Field(() => RewardKind, { nullable: true, description: 'Default VOUCHER' })
  kind?: RewardKind | null;

  @Field(() => ID, { nullable: true, description: 'MEMBERSHIP: the club it joins' })
  @IsOptional()
  @MaxLength(64)
  clubId?: string | null;

  @Field(() => Int)
  pointsPrice: number;

  @Field(() => DecimalScalar, { nullable: true })
  cashPrice?: string | null;

  @Field(() => DecimalScalar, { nullable: true, description: 'Default: pointsPrice × the partner’s redemptionValuePerPoint; required for an operator reward' })
  value?: string | null;

  @Field(() => Int, { nullable: true, description: 'Null: unlimited' })
  stock?: number | null;

  @Field(() => Int, { nullable: true })
  perMemberLimit?: number | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20)
  @MaxLength(60, { each: true })
  tiers?: string[] | null;

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20)
  @MaxLength(64, { each: true })
  clubs?: string[] | null;

  @Field(() => Date, { nullable: true })
  startsAt?: Date | null;

  @Field(() => Date, { nullable: true })
  endsAt?: Date | null;

  @Field(() => Int, { nullable: true, description: 'Default 30' })
  voucherValidityDays?: number | null;
}

@InputType({ description: 'Fields left out stay as they are; a nullable field set to null is cleared (value: back to the default)' })
export class UpdateRewardInput {
  @Field(() => ID)
  @MaxLength(64)
  rewardId: string;

  @Field(() => ID, { nullable: true, description: 'A reward’s partner never changes; accepted only when it is the same' })
  @IsOptional()
  @MaxLength(64)
  partnerId?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(200)
  name?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(2000)
  description?: string | null;

  @Field(() => RewardKind, { nullable: true })
  kind?: RewardKind | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @MaxLength(64)
  clubId?: string | null;

  @Field(() => Int, { nullable: true })
  pointsPrice?: number | null;

  @Field(() => DecimalScalar, { nullable: true })
  cashPrice?: string | null;

  @Field(() => DecimalScalar, { nullable: true })
  value?: string | null;

  @Field(() => Int, { nullable: true })
  stock?: number | null;

  @Field(() => Int, { nullable: true })
  perMemberLimit?: number | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20)
  @MaxLength(60, { each: true })
  tiers?: string[] | null;

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20)
  @MaxLength(64, { each: true })
  clubs?: string[] | null;

  @Field(() => Date, { nullable: true })
  startsAt?: Date | null;

  @Field(() => Date, { nullable: true })
  endsAt?: Date | null;

  @Field(() => Int, { nullable: true })
  voucherValidityDays?: number | null;

  @Field(() => Boolean, { nullable: true })
  active?: boolean | null;
}

@ArgsType()
export class RewardsArgs extends PageArgs {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @MaxLength(64)
  partnerId?: string;

  @Field(() => Boolean, { nullable: true, description: 'A member: only what it can claim now (tier, club, window, stock, its limit, its points, no debt)' })
  eligibleOnly?: boolean;
}

@InputType()
export class CreateClubInput {
  @Field(() => ID, { nullable: true, description: 'The operator: the partner whose club it is; omitted, a coalition club' })
  @IsOptional()
  @MaxLength(64)
  partnerId?: string | null;

  @Field({ description: 'Not blank (INVALID_INPUT); at most 200 characters' })
  @MaxLength(200)
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(2000)
  description?: string | null;

  @Field(() => DecimalScalar)
  earnMultiplier: string;

  @Field(() => Int, { description: '1 to 36,500 (INVALID_INPUT otherwise)' })
  membershipDays: number;
}

@InputType()
export class GrantClubMembershipInput {
  @Field({ description: 'Unique per caller and member: the same key with the same input returns the first result' })
  @Length(1, 200)
  idempotencyKey: string;

  @Field(() => ID)
  @MaxLength(64)
  memberId: string;

  @Field(() => ID)
  @MaxLength(64)
  clubId: string;

  @Field(() => DecimalScalar, { description: 'The money the member paid for this period (0 for a free grant)' })
  paidAmount: string;
}

@InputType()
export class ClaimRewardInput {
  @Field({ description: 'Unique per caller and member: the same key with the same input returns the first result' })
  @Length(1, 200)
  idempotencyKey: string;

  @Field(() => ID)
  @MaxLength(64)
  rewardId: string;

  @Field(() => ID, { nullable: true, description: 'A partner (at its till, a member linked to it) or the operator: the member; a member: omitted (itself)' })
  @IsOptional()
  @MaxLength(64)
  memberId?: string | null;
}

@InputType()
export class RedeemVoucherInput {
  @Field({ description: 'As printed or read out: case, dashes and spaces do not matter' })
  @MaxLength(64)
  code: string;
}

@InputType()
export class VoidVoucherInput {
  @Field({ description: 'Unique per caller and member: the same key with the same input returns the first result' })
  @Length(1, 200)
  idempotencyKey: string;

  @Field()
  @MaxLength(64)
  code: string;
}

@ArgsType()
export class VouchersArgs extends PageArgs {
  @Field(() => VoucherState, { nullable: true })
  @IsOptional()
  state?: VoucherState | null;
}
