import { Field, ID, Int, ObjectType } from 'type-graphql';
import { UserError } from '../../api/errors';
import { BigIntScalar, DecimalScalar } from '../../api/scalars';
import { ConnectionType } from '../../common/pagination';
import { Member } from '../member/member.types';
import { Money } from '../ledger/ledger.types';

@ObjectType({ description: 'A charity members donate points to; its progress is public, its donors are not' })
export class Cause {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => Int, { nullable: true })
  goalPoints: number | null;

  @Field()
  active: boolean;

  @Field(() => BigIntScalar, { description: 'Points given by members' })
  donatedPoints: bigint;

  @Field(() => BigIntScalar, { description: "Points added by partners' matching, counted apart" })
  matchedPoints: bigint;

  @Field(() => Int, { description: 'Members who have donated' })
  donors: number;

  @Field(() => DecimalScalar, { nullable: true, description: '(donated + matched) / goal, rounded down to at most 4 decimals; null without a goal' })
  progress: string | null;

  @Field(() => Money, { description: 'Money raised: the sum of the receipts of its donations and of the values of its matches (each rounded down to minor units)' })
  raised: Money;

  @Field(() => Int, { description: 'The fewest points whose donation is worth at least one minor unit at the current donation value; fewer is INVALID_INPUT' })
  minimumDonationPoints: number;
}

@ObjectType()
export class CauseRef {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;
}

@ObjectType({ description: 'A donation and its receipt' })
export class Donation {
  @Field(() => ID)
  id: string;

  @Field(() => Int)
  points: number;

  @Field(() => Money)
  value: Money;

  @Field(() => CauseRef)
  cause: CauseRef;

  @Field(() => Int)
  matchedPoints: number;

  @Field()
  receiptNumber: string;

  @Field({ description: 'Made by the automatic donation on a purchase' })
  automatic: boolean;

  @Field()
  createdAt: Date;
}

export const DonationConnection = ConnectionType(Donation, 'Donation');

@ObjectType()
export class MatchingCampaign {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  partnerId: string;

  @Field(() => ID)
  causeId: string;

  @Field(() => DecimalScalar)
  ratio: string;

  @Field(() => Int)
  capPoints: number;

  @Field(() => Int)
  matchedPoints: number;

  @Field(() => Int, { description: 'What is left of the cap' })
  remainingPoints: number;

  @Field()
  startsAt: Date;

  @Field()
  endsAt: Date;
}

@ObjectType()
export class AutoDonation {
  @Field(() => CauseRef, { nullable: true })
  cause: CauseRef | null;

  @Field(() => Int)
  percent: number;
}

@ObjectType()
export class CreateCausePayload {
  @Field(() => Cause, { nullable: true })
  cause: Cause | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class SetCauseActivePayload {
  @Field(() => Cause, { nullable: true })
  cause: Cause | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class CreateMatchingCampaignPayload {
  @Field(() => MatchingCampaign, { nullable: true })
  campaign: MatchingCampaign | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class DonatePointsPayload {
  @Field(() => Donation, { nullable: true })
  donation: Donation | null;

  @Field(() => Member, { nullable: true })
  member: Member | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class SetAutoDonationPayload {
  @Field(() => Member, { nullable: true })
  member: Member | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}
