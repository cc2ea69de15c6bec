import type { ReferralSettings } from '../coalition/coalition.entity';

/** The milestone bonus a referrer earns when its successful referrals reach `count`; 0 if none. */
export function milestoneBonus(settings: ReferralSettings, count: number): number {
  return settings.milestones.find((m) => m.referrals === count)?.bonus ?? 0;
}

/** The next milestone after `count` successful referrals, if any. */
export function nextMilestone(settings: ReferralSettings | null, count: number): { referrals: number; bonus: number } | null {
  return settings?.milestones.find((m) => m.referrals > count) ?? null;
}
