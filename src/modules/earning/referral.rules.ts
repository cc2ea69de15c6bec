import type { ReferralSettings } from '../coalition/coalition.entity';
import { Dec } from '../../common/decimal';

/** Default `referral.minimumPurchase`: any amount, so a purchase qualifies once it earns a point. */
export const DEFAULT_REFERRAL_MINIMUM_PURCHASE = '0';

/**
 * Whether a referred member's purchase is a qualifying one (docs/rules.md, Referrals): its amount
 * (currency units) reaches the coalition's `referral.minimumPurchase` and it earned at least one
 * point.
 */
export function qualifiesForReferral(settings: ReferralSettings | null, amount: Dec, earnedPoints: number): boolean {
  return earnedPoints >= 1 && amount.gte(settings?.minimumPurchase ?? DEFAULT_REFERRAL_MINIMUM_PURCHASE);
}

/** The milestone bonus a referrer earns when its successful referrals reach `count`; 0 if none. */
export function milestoneBonus(settings: ReferralSettings, count: number): number {
  return settings.milestones.find((m) => m.referrals === count)?.bonus ?? 0;
}

/** The next milestone after `count` successful referrals, if any. */
export function nextMilestone(settings: ReferralSettings | null, count: number): { referrals: number; bonus: number } | null {
  return settings?.milestones.find((m) => m.referrals > count) ?? null;
}

/**
 * Whether a refund cancels the referral its purchase rewarded (docs/rules.md, Referrals): it completes
 * the refund of the purchase (`refundedMinor`, all refunds so far with this one, reaches
 * `amountMinor`; minor units) while the purchase's points are still pending at `now` (`availableAt`
 * after `now`; null: the purchase had no return window, so its bonuses were never pending).
 */
export function referralCancelledByRefund(amountMinor: bigint, refundedMinor: bigint, availableAt: Date | null, now: Date): boolean {
  return refundedMinor >= amountMinor && availableAt !== null && availableAt.getTime() > now.getTime();
}
