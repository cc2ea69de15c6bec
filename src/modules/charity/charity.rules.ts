import { Dec } from '../../common/decimal';

/**
 * A campaign's match of a donation (DESIGN.md, Charity): floor(points × ratio), but never more than
 * what is left of its cap.
 */
export function matchFor(points: number, ratio: string, leftOfCap: number): number {
  return Math.max(0, Math.min(new Dec(points).times(ratio).floor().toNumber(), leftOfCap));
}

/** An automatic donation: `percent` of a purchase's points, rounded down, at most what its lot still holds. */
export function autoDonationPoints(earned: number, percent: number, lotRemaining: number): number {
  return Math.max(0, Math.min(Math.floor((earned * percent) / 100), lotRemaining));
}
