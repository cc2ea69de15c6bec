import { Min, Max } from 'class-validator';
import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { UserError } from '../../api/errors';
import { getCoalition } from '../coalition/coalition.service';
import { TierType } from '../coalition/coalition.types';
import { RecordPurchaseInput } from '../ledger/ledger.inputs';
import { quotePurchase } from '../posting/posting.service';
import { Member } from '../member/member.types';
import { Partner } from '../partner/partner.types';
import { CreatePromotionInput, RunExpiryInput, SetBonusLimitsInput } from './earning.inputs';
import { createPromotion, expiringPoints, listPromotions, nextExpiry, setBonusLimits } from './earning.service';
import { BonusLimitType, CreatePromotionPayload, ExpiringPoints, Promotion, PurchaseQuote, ReferralStats, RunExpiryPayload, TierProgressType } from './earning.types';
import { runExpiryAsOf } from '../posting/expiry.service';
import { nextMilestone } from './referral.rules';
import { tierProgress } from './tier.rules';

@ObjectType()
class SetBonusLimitsPayload {
  @Field(() => Partner, { nullable: true })
  partner: Partner | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ArgsType()
class WithinDaysArgs {
  @Field(() => Int)
  @Min(0)
  @Max(3650)
  withinDays: number;
}

@Resolver()
export class EarningResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => CreatePromotionPayload)
  async createPromotion(@Ctx() ctx: RequestContext, @Arg('input', () => CreatePromotionInput) input: CreatePromotionInput): Promise<CreatePromotionPayload> {
    const outcome = await createPromotion(ctx, input);
    return outcome.ok ? { promotion: outcome.value, userErrors: [] } : { promotion: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SetBonusLimitsPayload, { description: "Replaces a partner's limits on action bonuses per member" })
  async setBonusLimits(@Ctx() ctx: RequestContext, @Arg('input', () => SetBonusLimitsInput) input: SetBonusLimitsInput): Promise<SetBonusLimitsPayload> {
    const outcome = await setBonusLimits(ctx, input);
    return outcome.ok ? { partner: outcome.value, userErrors: [] } : { partner: null, userErrors: outcome.errors };
  }

  @Authorized(Role.PARTNER, Role.ADMIN)
  @Query(() => PurchaseQuote, { description: 'Exactly what recordPurchase would post now, without posting' })
  async quotePurchase(@Ctx() ctx: RequestContext, @Arg('input', () => RecordPurchaseInput) input: RecordPurchaseInput): Promise<PurchaseQuote> {
    const outcome = await quotePurchase(ctx, input);
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { points: 0, breakdown: [], availableAt: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => RunExpiryPayload, { description: 'Expires lots past their expiry at asOf and settles tiers; safe to run twice' })
  async runExpiry(@Ctx() ctx: RequestContext, @Arg('input', () => RunExpiryInput, { nullable: true }) input?: RunExpiryInput): Promise<RunExpiryPayload> {
    const outcome = await runExpiryAsOf(ctx, input?.asOf ?? new Date());
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { expiredPoints: 0n, expiredLots: 0, tierChanges: 0, skippedMembers: 0, userErrors: outcome.errors };
  }
}

/** The engagement a partner app shows a member: tier and progress, referrals, expiring points. */
@Resolver(() => Member)
export class MemberEngagementResolver {
  @FieldResolver(() => TierType, { nullable: true, description: 'The coalition tier the member holds' })
  async tier(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<TierType | null> {
    const { tiers } = await getCoalition(ctx);
    return tiers.find((t) => t.name === member.tierName) ?? null;
  }

  @FieldResolver(() => TierProgressType, { description: 'Qualifying points and what the next tier still needs' })
  async tierProgress(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<TierProgressType> {
    const { tiers } = await getCoalition(ctx);
    return tierProgress(await ctx.loaders.qualifyingPoints.load(member.id), tiers, member.tierName);
  }

  @FieldResolver(() => ReferralStats)
  async referralStats(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<ReferralStats> {
    const { referral } = await getCoalition(ctx);
    const next = nextMilestone(referral, member.successfulReferrals);
    return { successfulReferrals: member.successfulReferrals, nextMilestone: next, referralsToNextMilestone: next ? next.referrals - member.successfulReferrals : null };
  }

  @FieldResolver(() => Int, { description: 'Points of lots that expire within that many days (e.g. "120 points expire in 30 days")' })
  expiringPoints(@Ctx() ctx: RequestContext, @Root() member: Member, @Args(() => WithinDaysArgs) { withinDays }: WithinDaysArgs): Promise<number> {
    return expiringPoints(ctx, member.id, withinDays);
  }

  @FieldResolver(() => ExpiringPoints, { nullable: true, description: 'The earliest expiry among the member’s points' })
  nextExpiry(@Ctx() ctx: RequestContext, @Root() member: Member): Promise<ExpiringPoints | null> {
    return nextExpiry(ctx, member.id);
  }
}

@Resolver(() => Partner)
export class PartnerEarningResolver {
  @FieldResolver(() => [Promotion], { description: 'Newest first; for the partner itself and the operator' })
  promotions(@Ctx() ctx: RequestContext, @Root() partner: Partner): Promise<Promotion[]> {
    return listPromotions(ctx, partner.id);
  }

  @FieldResolver(() => [BonusLimitType])
  bonusLimits(@Root() partner: Partner & { bonusLimits?: BonusLimitType[] }): BonusLimitType[] {
    return partner.bonusLimits ?? [];
  }
}
