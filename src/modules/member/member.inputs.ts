import { IsOptional, Matches, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';

@InputType()
export class EnrollMemberInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(254)
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'International format, e.g. "+44 7700 900123"' })
  @IsOptional()
  @MaxLength(40)
  phone?: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'birthDate must be YYYY-MM-DD' })
  birthDate?: string | null;

  @Field(() => String, { nullable: true, description: "The partner's own customer reference; identifies the member for that partner" })
  @IsOptional()
  @MaxLength(200)
  externalRef?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(40)
  referralCode?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(60)
  affiliateCode?: string | null;

  @Field(() => ID, { nullable: true, description: 'ADMIN only: the partner to link the member to' })
  @IsOptional()
  partnerId?: string | null;
}
