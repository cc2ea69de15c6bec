import { Arg, Authorized, Ctx, Field, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { UserError } from '../../api/errors';
import { ConfigureCoalitionInput } from './coalition.inputs';
import { configureCoalition, getCoalition } from './coalition.service';
import { Coalition } from './coalition.types';

@ObjectType()
class ConfigureCoalitionPayload {
  @Field(() => Coalition, { nullable: true })
  coalition: Coalition | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@Resolver()
export class CoalitionResolver {
  @Authorized()
  @Query(() => Coalition, { description: 'The coalition settings' })
  coalition(@Ctx() ctx: RequestContext): Promise<Coalition> {
    return getCoalition(ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ConfigureCoalitionPayload)
  async configureCoalition(@Ctx() ctx: RequestContext, @Arg('input', () => ConfigureCoalitionInput) input: ConfigureCoalitionInput): Promise<ConfigureCoalitionPayload> {
    const outcome = await configureCoalition(ctx, input);
    return outcome.ok ? { coalition: outcome.value, userErrors: [] } : { coalition: null, userErrors: outcome.errors };
  }
}
