import { Dec, MAX_INT32 } from '../../common/decimal';

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

/**
 * A donation's (or a match's) money value in minor units (DESIGN.md, Charity): points × the
 * donation value per point, rounded DOWN to minor units. `rate` is money per point in currency
 * units; `exponent` the currency's minor-unit exponent (2 for EUR, 0 for JPY).
 */
export function donationValueMinor(points: number, rate: string, exponent: number): bigint {
  return BigInt(new Dec(points).times(rate).times(new Dec(10).pow(exponent)).floor().toFixed(0));
}

/**
 * Splits a donation's value over the obligation rows it creates (one a lot issuer, in consumption
 * order) on the running total: row i is worth value(points of rows 1..i) − value(points of rows
 * 1..i−1). The rows sum exactly to the donation's value, each row is within one minor unit of
 * its own points × rate, and the result never depends on how the points were split.
 */
export function splitDonationValue(rowPoints: readonly number[], rate: string, exponent: number): bigint[] {
  let cumulative = 0;
  let before = 0n;
  return rowPoints.map((points) => {
    cumulative += points;
    const upTo = donationValueMinor(cumulative, rate, exponent);
    const value = upTo - before;
    before = upTo;
    return value;
  });
}

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
