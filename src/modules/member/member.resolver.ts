import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { IsOptional, MaxLength } from 'class-validator';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { UserError, badRequest } from '../../api/errors';
import { Connection, PageArgs } from '../../common/pagination';
import { MAX_PENDING_LOTS, memberTransactions, pendingLots } from '../ledger/ledger-query.service';
import { Transaction, TransactionConnection } from '../ledger/ledger.types';
import { EnrollMemberInput } from './member.inputs';
import { enrollMember, findMember, findMemberByIdentifier } from './member.service';
import { Member, PendingLot } from './member.types';
import { SuppliedKind } from './member.entity';
import { forgetLinkView, ownExternalRef, visibleIdentifier } from './member-view';

@ObjectType()
class EnrollMemberPayload {
  @Field(() => Member, { nullable: true })
  member: Member | null;

  @Field({ description: 'false when an existing member matched one of the identifiers' })
  created: boolean;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ArgsType()
class MemberIdentifierArgs {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(254)
  email?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(40)
  phone?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(40)
  memberCode?: string | null;
}

@Resolver(() => Member)
export class MemberResolver {
  @Authorized(Role.PARTNER, Role.ADMIN)
  @Mutation(() => EnrollMemberPayload, { description: 'Creates a member, or finds it by any identifier, and links it to the partner' })
  async enrollMember(@Ctx() ctx: RequestContext, @Arg('input', () => EnrollMemberInput) input: EnrollMemberInput): Promise<EnrollMemberPayload> {
    const outcome = await enrollMember(ctx, input);
    if (outcome.ok) forgetLinkView(ctx, outcome.value.member.id);
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { member: null, created: false, userErrors: outcome.errors };
  }

  @Authorized(Role.PARTNER, Role.ADMIN, Role.MEMBER)
  @Query(() => Member, { nullable: true, description: 'A member the caller may see: a partner its linked members' })
  member(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Member | null> {
    return findMember(ctx, id);
  }

  @Authorized(Role.PARTNER, Role.ADMIN)
  @Query(() => Member, { nullable: true, description: 'A member by exactly one identifier, normalized as at enrollment' })
  async memberByIdentifier(@Ctx() ctx: RequestContext, @Args(() => MemberIdentifierArgs) args: MemberIdentifierArgs): Promise<Member | null> {
    const outcome = await findMemberByIdentifier(ctx, args);
    if (!outcome.ok) throw badRequest(outcome.errors[0]!.message);
    return outcome.value;
  }

  @Authorized(Role.MEMBER)
  @Query(() => Member, { nullable: true, description: 'The calling member' })
  me(@Ctx() ctx: RequestContext): Promise<Member | null> {
    return findMember(ctx, (ctx.caller as { memberId: string }).memberId);
  }

  @FieldResolver(() => String, { nullable: true, description: 'A partner sees it only if it supplied this e-mail itself' })
  email(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<string | null> {
    return visibleIdentifier(ctx, member, SuppliedKind.EMAIL);
  }

  @FieldResolver(() => String, { nullable: true, description: 'E.164. A partner sees it only if it supplied this phone itself' })
  phone(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<string | null> {
    return visibleIdentifier(ctx, member, SuppliedKind.PHONE);
  }

  @FieldResolver(() => String, { nullable: true, description: 'YYYY-MM-DD. A partner sees it only if it supplied this birth date itself' })
  birthDate(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<string | null> {
    return visibleIdentifier(ctx, member, SuppliedKind.BIRTH_DATE);
  }

  @FieldResolver(() => String, { nullable: true, description: "The calling partner's own customer reference for the member (null for other callers)" })
  externalRef(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<string | null> {
    return ownExternalRef(ctx, member);
  }

  @FieldResolver(() => [PendingLot], { description: `Lots whose points are pending now, earliest availableAt first (at most ${MAX_PENDING_LOTS} are listed); for the operator and the member they sum to pendingPoints, a partner sees only the lots it issued` })
  pendingLots(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<PendingLot[]> {
    return pendingLots(ctx, member.id);
  }

  @FieldResolver(() => TransactionConnection, { description: 'Newest first; a partner sees only the transactions it posted' })
  transactions(@Ctx() ctx: RequestContext, @Root() member: Member, @Args(() => PageArgs) page: PageArgs): Promise<Connection<Transaction>> {
    return memberTransactions(ctx, member.id, page);
  }
}
