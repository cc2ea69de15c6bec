import { IsOptional, MaxLength, MinLength } from 'class-validator';
import { IsIdempotencyKey } from '../../common/idempotency-key';
import { Field, ID, InputType, Int } from 'type-graphql';
import { DecimalScalar } from '../../api/scalars';

@InputType()
export class CreateCauseInput {
  @Field()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(2000)
  description?: string | null;

  @Field(() => Int, { nullable: true })
  goalPoints?: number | null;
}

@InputType()
export class SetCauseActiveInput {
  @Field(() => ID)
  @MaxLength(64)
  causeId: string;

  @Field()
  active: boolean;
}

@InputType()
export class CreateMatchingCampaignInput {
  @Field(() => ID)
  @MaxLength(64)
  partnerId: string;

  @Field(() => ID)
  @MaxLength(64)
  causeId: string;

  @Field(() => DecimalScalar, { description: 'Matched points per donated point, e.g. "1.0"' })
  ratio: string;

  @Field(() => Int)
  capPoints: number;

  @Field()
  startsAt: Date;

  @Field()
  endsAt: Date;
}

@InputType()
export class DonatePointsInput {
  @Field()
  @IsIdempotencyKey()
  idempotencyKey: string;

  @Field(() => ID)
  @MaxLength(64)
  causeId: string;

  @Field(() => Int)
  points: number;
}

@InputType()
export class SetAutoDonationInput {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @MaxLength(64)
  causeId?: string | null;

  @Field(() => Int, { description: '0 turns it off; 1 to 100: the share of each later purchase earn' })
  percent: number;
}
