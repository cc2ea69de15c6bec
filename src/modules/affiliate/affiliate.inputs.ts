import { IsOptional, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import { CommissionPlanInput } from '../partner/partner.inputs';
import { CommissionStatus } from './commission.rules';

@InputType()
export class CreateAffiliateInput {
  @Field()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @Field()
  @MaxLength(254)
  email: string;

  @Field(() => String, { nullable: true, description: 'International format; with the e-mail, what keeps the affiliate from being attributed itself' })
  @IsOptional()
  @MaxLength(40)
  phone?: string | null;
}

@InputType()
export class UpdateCommissionPlanInput {
  @Field(() => ID)
  @MaxLength(64)
  partnerId: string;

  @Field(() => CommissionPlanInput, { nullable: true, description: 'null: no commissions on purchases from now on' })
  commissionPlan?: CommissionPlanInput | null;
}

@ArgsType()
export class CommissionArgs {
  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(1)
  @Max(100)
  first?: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  after?: string;

  @Field(() => CommissionStatus, { nullable: true })
  @IsOptional()
  status?: CommissionStatus;

  @Field(() => ID, { nullable: true, description: 'Operator only: one affiliate' })
  @IsOptional()
  @MaxLength(64)
  affiliateId?: string;

  @Field(() => ID, { nullable: true, description: 'Operator only: one partner' })
  @IsOptional()
  @MaxLength(64)
  partnerId?: string;
}
