import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DecimalScalar } from '../../api/scalars';
import { ConnectionType } from '../../common/pagination';

export enum TransactionType {
  PURCHASE = 'PURCHASE',
  BONUS = 'BONUS',
  REDEMPTION = 'REDEMPTION',
  REVERSAL = 'REVERSAL',
  /** A referral bonus, issued by the operator (to the new member, or to its referrer). */
  REFERRAL = 'REFERRAL',
  /** Points whose lots passed their expiry, moved to breakage. */
  EXPIRY = 'EXPIRY',
  /** Points a member gave to a cause. */
  DONATION = 'DONATION',
  /** A reward claimed (voiding or expiry of its voucher posts a REVERSAL of it). */
  REWARD = 'REWARD',
}
registerEnumType(TransactionType, { name: 'TransactionType' });

export enum BonusAction {
  SIGNUP = 'SIGNUP',
  REVIEW = 'REVIEW',
  SURVEY = 'SURVEY',
  SOCIAL_SHARE = 'SOCIAL_SHARE',
  BIRTHDAY = 'BIRTHDAY',
  CUSTOM = 'CUSTOM',
}
registerEnumType(BonusAction, { name: 'BonusAction' });

@ObjectType()
export class Money {
  @Field(() => DecimalScalar)
  amount: string;

  @Field()
  currency: string;
}

@ObjectType()
export class BreakdownLine {
  @Field({ description: 'The earn step, e.g. BASE, MIN_SPEND, MAX_PER_TRANSACTION' })
  rule: string;

  @Field(() => Int)
  points: number;

  @Field()
  detail: string;
}

@ObjectType({ description: 'One movement of points on a member, with its double-entry rows behind it' })
export class Transaction {
  @Field(() => ID)
  id: string;

  @Field(() => TransactionType)
  type: TransactionType;

  @Field(() => Int, { description: "The change to the member's balance: positive for earn, negative for spend" })
  points: number;

  @Field(() => ID)
  memberId: string;

  @Field(() => ID, { nullable: true, description: 'The partner that posted it; null when the operator did' })
  partnerId: string | null;

  @Field(() => Money, { nullable: true, description: 'Purchase amount, or the amount refunded by a reversal' })
  amount: Money | null;

  @Field(() => ID, { nullable: true, description: 'The transaction this one reverses' })
  reversesId: string | null;

  @Field(() => BonusAction, { nullable: true })
  bonusAction: BonusAction | null;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => [BreakdownLine])
  breakdown: BreakdownLine[];

  @Field()
  occurredAt: Date;

  @Field()
  postedAt: Date;
}

export const TransactionConnection = ConnectionType(Transaction, 'Transaction');

@ObjectType()
export class LedgerCheck {
  @Field()
  ok: boolean;

  @Field(() => [String])
  violations: string[];
}
