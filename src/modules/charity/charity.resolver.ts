import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { Connection, PageArgs } from '../../common/pagination';
import { donatePoints } from '../posting/posting.service';
import { Member } from '../member/member.types';
import { CreateCauseInput, CreateMatchingCampaignInput, DonatePointsInput, SetAutoDonationInput, SetCauseActiveInput } from './charity.inputs';
import {
  autoDonation, createCause, createMatchingCampaign, findCampaigns, listCauses, memberDonations, setAutoDonation, setCauseActive, donationReceipt,
} from './charity.service';
import {
  AutoDonation, Cause, CreateCausePayload, CreateMatchingCampaignPayload, DonatePointsPayload, DonationConnection, MatchingCampaign, SetAutoDonationPayload, SetCauseActivePayload,
} from './charity.types';
import { Donation } from './charity.types';

@Resolver(() => Cause)
export class CharityResolver {
  @Query(() => [Cause], { description: 'Public: every cause and its progress; nothing about individual donors' })
  causes(@Ctx() ctx: RequestContext): Promise<Cause[]> {
    return listCauses(ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreateCausePayload)
  async createCause(@Ctx() ctx: RequestContext, @Arg('input', () => CreateCauseInput) input: CreateCauseInput): Promise<CreateCausePayload> {
    const outcome = await createCause(ctx, input);
    return outcome.ok ? { cause: outcome.value, userErrors: [] } : { cause: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SetCauseActivePayload, { description: 'An inactive cause takes no donations (nor automatic ones)' })
  async setCauseActive(@Ctx() ctx: RequestContext, @Arg('input', () => SetCauseActiveInput) input: SetCauseActiveInput): Promise<SetCauseActivePayload> {
    const outcome = await setCauseActive(ctx, input);
    return outcome.ok ? { cause: outcome.value, userErrors: [] } : { cause: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreateMatchingCampaignPayload)
  async createMatchingCampaign(@Ctx() ctx: RequestContext, @Arg('input', () => CreateMatchingCampaignInput) input: CreateMatchingCampaignInput): Promise<CreateMatchingCampaignPayload> {
    const outcome = await createMatchingCampaign(ctx, input);
    return outcome.ok ? { campaign: outcome.value, userErrors: [] } : { campaign: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Query(() => [MatchingCampaign], { description: "A cause's matching campaigns, with what is left of each cap" })
  matchingCampaigns(@Ctx() ctx: RequestContext, @Arg('causeId', () => ID) causeId: string): Promise<MatchingCampaign[]> {
    return findCampaigns(ctx, { causeId });
  }

  @Authorized(Role.MEMBER)
  @Mutation(() => DonatePointsPayload, { description: 'Gives points to a cause; idempotent by key; donations are final' })
  async donatePoints(@Ctx() ctx: RequestContext, @Arg('input', () => DonatePointsInput) input: DonatePointsInput): Promise<DonatePointsPayload> {
    const outcome = await donatePoints(ctx, input);
    if (!outcome.ok) return { donation: null, member: null, userErrors: outcome.errors };
    return { donation: await donationReceipt(ctx, outcome.value.donation), member: outcome.value.member, userErrors: [] };
  }

  @Authorized(Role.MEMBER)
  @Mutation(() => SetAutoDonationPayload, { description: 'Donates that share of every later purchase earn; percent 0 turns it off' })
  async setAutoDonation(@Ctx() ctx: RequestContext, @Arg('input', () => SetAutoDonationInput) input: SetAutoDonationInput): Promise<SetAutoDonationPayload> {
    const outcome = await setAutoDonation(ctx, input);
    return outcome.ok ? { member: outcome.value, userErrors: [] } : { member: null, userErrors: outcome.errors };
  }
}

@Resolver(() => Member)
export class MemberDonationResolver {
  @FieldResolver(() => DonationConnection, { description: 'Donations with their receipts, newest first' })
  donations(@Ctx() ctx: RequestContext, @Root() member: Member, @Args(() => PageArgs) page: PageArgs): Promise<Connection<Donation>> {
    return memberDonations(ctx, member.id, page);
  }

  @FieldResolver(() => AutoDonation)
  autoDonation(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<AutoDonation> {
    return autoDonation(ctx, member.id);
  }
}
