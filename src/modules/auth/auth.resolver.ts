import { IsOptional, MaxLength } from 'class-validator';
import { Arg, Authorized, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { UserError } from '../../api/errors';
import { issueToken } from './auth.service';

@InputType()
export class IssueTokenInput {
  @Field(() => Role)
  role: Role;

  @Field(() => ID, { nullable: true, description: 'The partner, affiliate or member the token is for; none for ADMIN' })
  @IsOptional()
  @MaxLength(64)
  subjectId?: string | null;

  @Field(() => Int, { nullable: true, description: 'Lifetime in seconds: default 3600, at most 30 days' })
  ttlSeconds?: number | null;
}

@ObjectType()
class IssueTokenPayload {
  @Field(() => String, { nullable: true })
  token: string | null;

  @Field(() => Date, { nullable: true })
  expiresAt: Date | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@Resolver()
export class AuthResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => IssueTokenPayload, { description: 'Signs a token for a partner, affiliate, member or another operator' })
  async issueToken(@Ctx() ctx: RequestContext, @Arg('input', () => IssueTokenInput) input: IssueTokenInput): Promise<IssueTokenPayload> {
    const outcome = await issueToken(ctx, input);
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { token: null, expiresAt: null, userErrors: outcome.errors };
  }
}
