import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { UserError } from '../../api/errors';
import { Connection, PageArgs } from '../../common/pagination';
import { Partner } from '../partner/partner.types';
import { CommissionArgs, CreateAffiliateInput, UpdateCommissionPlanInput } from './affiliate.inputs';
import {
  commissionTotals, createAffiliate, findAffiliate, listAffiliates, listCommissions, referredMembers, updateCommissionPlan,
} from './affiliate.service';
import { Affiliate, AffiliateConnection, Commission, CommissionConnection, CommissionTotals, CreateAffiliatePayload } from './affiliate.types';

@ObjectType()
class UpdateCommissionPlanPayload {
  @Field(() => Partner, { nullable: true })
  partner: Partner | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@Resolver(() => Affiliate)
export class AffiliateResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => CreateAffiliatePayload)
  async createAffiliate(@Ctx() ctx: RequestContext, @Arg('input', () => CreateAffiliateInput) input: CreateAffiliateInput): Promise<CreateAffiliatePayload> {
    const outcome = await createAffiliate(ctx, input);
    return outcome.ok ? { affiliate: outcome.value, userErrors: [] } : { affiliate: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UpdateCommissionPlanPayload, { description: 'Purchases posted from now on earn commission under the new plan' })
  async updateCommissionPlan(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateCommissionPlanInput) input: UpdateCommissionPlanInput): Promise<UpdateCommissionPlanPayload> {
    const outcome = await updateCommissionPlan(ctx, input);
    return outcome.ok ? { partner: outcome.value, userErrors: [] } : { partner: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Query(() => AffiliateConnection)
  affiliates(@Ctx() ctx: RequestContext, @Args(() => PageArgs) page: PageArgs): Promise<Connection<Affiliate>> {
    return listAffiliates(ctx, page);
  }

  @Authorized(Role.ADMIN, Role.AFFILIATE)
  @Query(() => Affiliate, { nullable: true })
  affiliate(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Affiliate | null> {
    return findAffiliate(ctx, id);
  }

  @Authorized(Role.AFFILIATE)
  @Query(() => Affiliate, { nullable: true, description: "The calling affiliate's own record" })
  myAffiliate(@Ctx() ctx: RequestContext): Promise<Affiliate | null> {
    return findAffiliate(ctx, (ctx.caller as { affiliateId: string }).affiliateId);
  }

  @Authorized(Role.ADMIN, Role.PARTNER, Role.AFFILIATE)
  @Query(() => CommissionConnection, { description: 'An affiliate its own, a partner those it owes, the operator all (filter by affiliate or partner)' })
  commissions(@Ctx() ctx: RequestContext, @Args(() => CommissionArgs) args: CommissionArgs): Promise<Connection<Commission>> {
    return listCommissions(ctx, args);
  }

}

/** An affiliate's commissions and figures; an affiliate object reaches only the operator and the affiliate itself. */
@Resolver(() => Affiliate)
export class AffiliateFieldResolver {
  @FieldResolver(() => CommissionConnection, { description: 'Newest first, optionally of one status' })
  commissions(@Ctx() ctx: RequestContext, @Root() affiliate: Affiliate, @Args(() => CommissionArgs) args: CommissionArgs): Promise<Connection<Commission>> {
    return listCommissions(ctx, { ...args, affiliateId: affiliate.id });
  }

  @FieldResolver(() => CommissionTotals, { description: 'Sums per status of the commissions listed' })
  commissionTotals(@Ctx() ctx: RequestContext, @Root() affiliate: Affiliate): Promise<CommissionTotals> {
    return commissionTotals(ctx, affiliate.id);
  }

  @FieldResolver(() => Int, { description: 'Members the affiliate brought (sticky attribution)' })
  referredMembers(@Ctx() ctx: RequestContext, @Root() affiliate: Affiliate): Promise<number> {
    return referredMembers(ctx, affiliate.id);
  }
}

@Resolver(() => Partner)
export class PartnerCommissionResolver {
  @FieldResolver(() => CommissionConnection, { description: 'Commissions the partner owes affiliates, newest first' })
  commissions(@Ctx() ctx: RequestContext, @Root() partner: Partner, @Args(() => CommissionArgs) args: CommissionArgs): Promise<Connection<Commission>> {
    return listCommissions(ctx, { ...args, partnerId: partner.id });
  }
}
