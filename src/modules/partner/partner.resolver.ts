import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { UserError } from '../../api/errors';
import { Connection, ConnectionType, PageArgs } from '../../common/pagination';
import { partnerTransactions } from '../ledger/ledger-query.service';
import { Transaction, TransactionConnection } from '../ledger/ledger.types';
import { listPartnerMembers } from '../member/member.service';
import { Member } from '../member/member.types';
import { CreatePartnerInput, UpdateEarnRuleInput, UpdatePartnerTermsInput } from './partner.inputs';
import { createPartner, findPartner, listPartners, updateEarnRule, updatePartnerTerms } from './partner.service';
import { Partner } from './partner.types';

const PartnerConnection = ConnectionType(Partner, 'Partner');
const MemberConnection = ConnectionType(Member, 'Member');

@ObjectType()
class CreatePartnerPayload {
  @Field(() => Partner, { nullable: true })
  partner: Partner | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
class UpdateEarnRulePayload {
  @Field(() => Partner, { nullable: true })
  partner: Partner | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
class UpdatePartnerTermsPayload {
  @Field(() => Partner, { nullable: true })
  partner: Partner | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@Resolver(() => Partner)
export class PartnerResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => UpdatePartnerTermsPayload, { description: "Changes a partner's redemption value and/or issuance price; postings after it apply the new terms" })
  async updatePartnerTerms(@Ctx() ctx: RequestContext, @Arg('input', () => UpdatePartnerTermsInput) input: UpdatePartnerTermsInput): Promise<UpdatePartnerTermsPayload> {
    const outcome = await updatePartnerTerms(ctx, input);
    return outcome.ok ? { partner: outcome.value, userErrors: [] } : { partner: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatePartnerPayload)
  async createPartner(@Ctx() ctx: RequestContext, @Arg('input', () => CreatePartnerInput) input: CreatePartnerInput): Promise<CreatePartnerPayload> {
    const outcome = await createPartner(ctx, input);
    return outcome.ok ? { partner: outcome.value, userErrors: [] } : { partner: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UpdateEarnRulePayload, { description: 'Replaces the earn rule; purchases posted after it earn under the new one' })
  async updateEarnRule(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateEarnRuleInput) input: UpdateEarnRuleInput): Promise<UpdateEarnRulePayload> {
    const outcome = await updateEarnRule(ctx, input);
    return outcome.ok ? { partner: outcome.value, userErrors: [] } : { partner: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Query(() => PartnerConnection)
  partners(@Ctx() ctx: RequestContext, @Args(() => PageArgs) page: PageArgs): Promise<Connection<Partner>> {
    return listPartners(ctx, page);
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Query(() => Partner, { nullable: true, description: 'A partner by id: the operator sees all, a partner itself' })
  partner(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Partner | null> {
    return findPartner(ctx, id);
  }

  @Authorized(Role.PARTNER)
  @Query(() => Partner, { nullable: true, description: "The calling partner's own record" })
  myPartner(@Ctx() ctx: RequestContext): Promise<Partner | null> {
    return findPartner(ctx, (ctx.caller as { partnerId: string }).partnerId);
  }

  @FieldResolver(() => MemberConnection, { description: 'Members linked to this partner, newest link first (the partner itself and the operator)' })
  members(@Ctx() ctx: RequestContext, @Root() partner: Partner, @Args(() => PageArgs) page: PageArgs): Promise<Connection<Member>> {
    return listPartnerMembers(ctx, partner.id, page);
  }

  @FieldResolver(() => TransactionConnection, { description: 'Transactions this partner posted, newest first' })
  transactions(@Ctx() ctx: RequestContext, @Root() partner: Partner, @Args(() => PageArgs) page: PageArgs): Promise<Connection<Transaction>> {
    return partnerTransactions(ctx, partner.id, page);
  }
}
