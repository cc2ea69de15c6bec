import { IsOptional, MaxLength, ValidateNested, ArrayMaxSize } from 'class-validator';
import { IsIdempotencyKey } from '../../common/idempotency-key';
import { Field, ID, InputType, Int } from 'type-graphql';
import { DecimalScalar } from '../../api/scalars';
import { BonusAction } from './ledger.types';

const KEY_HELP = 'Unique per caller and member: the same key with the same input returns the first result';

@InputType()
export class PurchaseLineInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(100)
  sku?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(100)
  category?: string | null;

  @Field(() => DecimalScalar)
  amount: string;
}

@InputType()
export class RecordPurchaseInput {
  @Field({ description: KEY_HELP })
  @IsIdempotencyKey()
  idempotencyKey: string;

  @Field(() => ID)
  @MaxLength(64)
  memberId: string;

  @Field(() => DecimalScalar, { description: 'The purchase total in the coalition currency' })
  amount: string;

  @Field(() => Date, { nullable: true, description: 'When the purchase happened; default now; not in the future' })
  occurredAt?: Date | null;

  @Field(() => [PurchaseLineInput], { nullable: true, description: 'Lines whose amounts sum to the total' })
  @IsOptional()
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  lines?: PurchaseLineInput[] | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(60)
  affiliateCode?: string | null;

  @Field(() => ID, { nullable: true, description: 'ADMIN only: the partner the purchase was made at' })
  @IsOptional()
  @MaxLength(64)
  partnerId?: string | null;
}

@InputType()
export class RedeemPointsInput {
  @Field({ description: KEY_HELP })
  @IsIdempotencyKey()
  idempotencyKey: string;

  @Field(() => ID)
  @MaxLength(64)
  memberId: string;

  @Field(() => Int)
  points: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field(() => ID, { nullable: true, description: 'ADMIN only: the partner the points are redeemed at' })
  @IsOptional()
  @MaxLength(64)
  partnerId?: string | null;
}

@InputType()
export class ReverseTransactionInput {
  @Field({ description: KEY_HELP })
  @IsIdempotencyKey()
  idempotencyKey: string;

  @Field(() => ID)
  @MaxLength(100)
  transactionId: string;

  @Field(() => DecimalScalar, { nullable: true, description: 'Purchases only: the amount refunded; omitted, the whole rest' })
  amount?: string | null;
}

@InputType()
export class AwardBonusInput {
  @Field({ description: KEY_HELP })
  @IsIdempotencyKey()
  idempotencyKey: string;

  @Field(() => ID)
  @MaxLength(64)
  memberId: string;

  @Field(() => BonusAction)
  action: BonusAction;

  @Field(() => Int)
  points: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field(() => ID, { nullable: true, description: 'ADMIN only: the issuing partner; omitted, the operator issues the bonus' })
  @IsOptional()
  @MaxLength(64)
  partnerId?: string | null;
}
