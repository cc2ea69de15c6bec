import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { badRequest } from '../../api/errors';
import { Member } from '../member/member.types';
import { EraseMemberInput, UpdatePreferencesInput } from './lifecycle.inputs';
import { EffectivePreference } from './lifecycle.rules';
import { eraseMember, exportMemberData, memberPreferences, updatePreferences } from './lifecycle.service';
import { EraseMemberPayload, MemberExport, Preference, UpdatePreferencesPayload } from './lifecycle.types';

@Resolver()
export class LifecycleResolver {
  @Authorized(Role.MEMBER, Role.ADMIN)
  @Mutation(() => UpdatePreferencesPayload, { description: "Sets a member's communication levels: a member its own, the operator any member's on request" })
  async updatePreferences(@Ctx() ctx: RequestContext, @Arg('input', () => UpdatePreferencesInput) input: UpdatePreferencesInput): Promise<UpdatePreferencesPayload> {
    const outcome = await updatePreferences(ctx, input);
    return outcome.ok ? { member: outcome.value, userErrors: [] } : { member: null, userErrors: outcome.errors };
  }

  @Authorized(Role.MEMBER, Role.ADMIN)
  @Query(() => MemberExport, { nullable: true, description: 'Everything held about a member: a member its own (memberId optional), the operator any member' })
  async exportMemberData(@Ctx() ctx: RequestContext, @Arg('memberId', () => ID, { nullable: true }) memberId?: string | null): Promise<MemberExport | null> {
    const outcome = await exportMemberData(ctx, memberId);
    if (!outcome.ok) throw badRequest(outcome.errors[0]!.message);
    return outcome.value;
  }

  @Authorized(Role.ADMIN, Role.MEMBER)
  @Mutation(() => EraseMemberPayload, { description: 'Anonymizes a member (its identifiers, contact details and partner references go); its ledger is kept' })
  async eraseMember(@Ctx() ctx: RequestContext, @Arg('input', () => EraseMemberInput) input: EraseMemberInput): Promise<EraseMemberPayload> {
    const outcome = await eraseMember(ctx, input);
    return outcome.ok ? { member: outcome.value, userErrors: [] } : { member: null, userErrors: outcome.errors };
  }
}

/** Fields the lifecycle adds to Member; a second resolver class for the same type. */
@Resolver(() => Member)
export class MemberPreferencesResolver {
  @FieldResolver(() => [Preference], { description: 'Every channel, EMAIL, SMS, PUSH; TRANSACTIONAL where the member has not chosen' })
  preferences(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<EffectivePreference[]> {
    return memberPreferences(ctx, member.id);
  }
}
