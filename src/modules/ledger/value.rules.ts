import { Dec } from '../../common/decimal';

/**
 * A donation's (or a match's) money value in minor units (docs/rules.md, Charity): points × the
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
