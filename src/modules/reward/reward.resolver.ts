import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { Connection } from '../../common/pagination';
import { Member } from '../member/member.types';
import { createClub, grantClubMembership, listClubs, memberClubs } from './club.service';
import { CreateClubInput, CreateRewardInput, GrantClubMembershipInput, RewardsArgs, UpdateRewardInput } from './reward.inputs';
import { createReward, findReward, listRewards, nextReward, updateReward } from './reward.service';
import {
  Club, ClubMembership, CreateClubPayload, CreateRewardPayload, GrantClubMembershipPayload, NextReward, Reward, RewardConnection, UpdateRewardPayload,
} from './reward.types';

@Resolver(() => Reward)
export class RewardResolver {
  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => CreateRewardPayload, { description: 'A partner adds its own reward; the operator a coalition-wide one, or a partner’s with partnerId' })
  async createReward(@Ctx() ctx: RequestContext, @Arg('input', () => CreateRewardInput) input: CreateRewardInput): Promise<CreateRewardPayload> {
    const outcome = await createReward(ctx, input);
    return outcome.ok ? { reward: outcome.value, userErrors: [] } : { reward: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => UpdateRewardPayload, { description: 'Changes a reward (active false withdraws it); a partner only its own' })
  async updateReward(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateRewardInput) input: UpdateRewardInput): Promise<UpdateRewardPayload> {
    const outcome = await updateReward(ctx, input);
    return outcome.ok ? { reward: outcome.value, userErrors: [] } : { reward: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN, Role.PARTNER, Role.MEMBER)
  @Query(() => RewardConnection, { description: 'The operator: all; a partner: its own; a member: the active ones in their window (eligibleOnly: what it can claim now)' })
  rewards(@Ctx() ctx: RequestContext, @Args(() => RewardsArgs) args: RewardsArgs): Promise<Connection<Reward>> {
    return listRewards(ctx, args);
  }

  @Authorized(Role.ADMIN, Role.PARTNER, Role.MEMBER)
  @Query(() => Reward, { nullable: true })
  reward(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Reward | null> {
    return findReward(ctx, id);
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => CreateClubPayload, { description: 'A partner creates its own club; the operator a coalition club, or a partner’s with partnerId' })
  async createClub(@Ctx() ctx: RequestContext, @Arg('input', () => CreateClubInput) input: CreateClubInput): Promise<CreateClubPayload> {
    const outcome = await createClub(ctx, input);
    return outcome.ok ? { club: outcome.value, userErrors: [] } : { club: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN, Role.PARTNER, Role.MEMBER)
  @Query(() => [Club], { description: 'The operator and members: every club; a partner: coalition clubs and its own' })
  clubs(@Ctx() ctx: RequestContext): Promise<Club[]> {
    return listClubs(ctx);
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => GrantClubMembershipPayload, { description: 'A membership bought with money (recorded; no points move); joining again extends; idempotent by key' })
  async grantClubMembership(@Ctx() ctx: RequestContext, @Arg('input', () => GrantClubMembershipInput) input: GrantClubMembershipInput): Promise<GrantClubMembershipPayload> {
    const outcome = await grantClubMembership(ctx, input);
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { membership: null, member: null, userErrors: outcome.errors };
  }
}

@Resolver(() => Member)
export class MemberRewardResolver {
  @FieldResolver(() => [ClubMembership], { description: 'Active club memberships; a partner sees the coalition clubs and its own only' })
  clubs(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<ClubMembership[]> {
    return memberClubs(ctx, member.id);
  }

  @FieldResolver(() => NextReward, { nullable: true, description: 'The cheapest reward the member is eligible for but cannot yet afford, with the points still needed; for a partner, among its own rewards only' })
  nextReward(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<NextReward | null> {
    return nextReward(ctx, member);
  }
}
