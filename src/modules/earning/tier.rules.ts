import type { Tier } from '../coalition/coalition.entity';

/** The highest tier whose threshold the qualifying points reach; null below every threshold. Tiers sorted ascending. */
export function tierFor(qualifyingPoints: number, tiers: readonly Tier[]): Tier | null {
  let reached: Tier | null = null;
  for (const tier of tiers) if (qualifyingPoints >= tier.qualifyingPoints) reached = tier;
  return reached;
}

export interface TierProgress {
  qualifyingPoints: number;
  nextTier: Tier | null;
  /** Points still needed for the next tier; 0 at the top. */
  pointsToNextTier: number;
}

/**
 * Progress to the next tier: the first tier above both the one held (kept until the expiry job
 * downgrades it) and the qualifying points.
 */
export function tierProgress(qualifyingPoints: number, tiers: readonly Tier[], held: string | null): TierProgress {
  const heldRank = tiers.findIndex((t) => t.name === held);
  const next = tiers.find((t, i) => i > heldRank && t.qualifyingPoints > qualifyingPoints) ?? null;
  return { qualifyingPoints, nextTier: next, pointsToNextTier: next ? next.qualifyingPoints - qualifyingPoints : 0 };
}

/**
 * The tier a member holds after qualifying points change: upgrades apply at once, a lower
 * qualification keeps the current tier (downgrades wait for the expiry job, `downgrade` true).
 */
export function nextTier(current: string | null, qualifyingPoints: number, tiers: readonly Tier[], downgrade: boolean): string | null {
  const qualified = tierFor(qualifyingPoints, tiers);
  if (downgrade) return qualified?.name ?? null;
  const rank = (name: string | null) => (name === null ? -1 : tiers.findIndex((t) => t.name === name));
  return rank(qualified?.name ?? null) > rank(current) ? qualified!.name : current;
}

/** Trailing window of tier qualification (docs/rules.md, Tiers). */
export const TIER_WINDOW_DAYS = 365;
