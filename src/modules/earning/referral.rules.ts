import type { ReferralSettings } from '../coalition/coalition.entity';
import { Dec, toMinorUnits } from '../../common/decimal';

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
 * Whether a refund cancels the referral its purchase rewarded (docs/rules.md, Referrals): the purchase
 * no longer qualifies once refunded — what is left of it (`netMinor`: its amount less all refunds so
 * far with this one, minor units of a currency with `currencyExponent` decimals) is below the
 * coalition's `referral.minimumPurchase` as configured now (default 0), or nothing of it is left, or
 * its points left (`netPoints`: earned less all taken back, this refund included) are 0 — while the
 * purchase's points are still pending at `now` (`availableAt` after `now`; null: the purchase had no
 * return window, so its bonuses were never pending). A full refund inside the window always cancels.
 */
export function referralCancelledByRefund(settings: ReferralSettings | null, currencyExponent: number, netMinor: bigint, netPoints: number,
  availableAt: Date | null, now: Date): boolean {
  if (availableAt === null || availableAt.getTime() <= now.getTime()) return false;
  const minimumMinor = toMinorUnits(new Dec(settings?.minimumPurchase ?? DEFAULT_REFERRAL_MINIMUM_PURCHASE), currencyExponent);
  return netMinor <= 0n || netMinor < minimumMinor || netPoints <= 0;
}
