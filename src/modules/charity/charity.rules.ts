import { Dec, MAX_INT32 } from '../../common/decimal';

/**
 * A campaign's match of a donation (docs/rules.md, Charity): floor(points × ratio), but never more than
 * what is left of its cap.
 */
export function matchFor(points: number, ratio: string, leftOfCap: number): number {
  return Math.max(0, Math.min(new Dec(points).times(ratio).floor().toNumber(), leftOfCap));
}

/** An automatic donation: `percent` of a purchase's points, rounded down, at most what its lot still holds. */
export function autoDonationPoints(earned: number, percent: number, lotRemaining: number): number {
  return Math.max(0, Math.min(Math.floor((earned * percent) / 100), lotRemaining));
}

// The money value of donated points is ledger maths (obligations carry it): defined in the core, re-exported for charity.
export { donationValueMinor, splitDonationValue } from '../ledger/value.rules';

/**
 * The smallest number of points whose donation value is not zero: ceil(one minor unit / rate).
 * A rate of 0 makes every donation worthless: the answer is then MAX_INT32 (no donation is possible).
 */
export function minimumDonationPoints(rate: string, exponent: number): number {
  const perPoint = new Dec(rate);
  if (perPoint.lte(0)) return MAX_INT32;
  const minimum = new Dec(1).div(new Dec(10).pow(exponent)).div(perPoint).ceil();
  return minimum.gt(MAX_INT32) ? MAX_INT32 : minimum.toNumber();
}
