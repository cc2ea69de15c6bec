import { Dec } from '../../src/common/decimal';

/** mulberry32: a tiny seeded PRNG, so a randomized walk is the same on every run. Returns numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A few milliseconds, so postings on either side of a period boundary get distinct times. */
export const pause = () => new Promise((r) => setTimeout(r, 5));
/** An amount with two decimals ("12.34") as minor units (1234n). */
export const toMinor = (amount: string) => BigInt(new Dec(amount).times(100).toFixed(0));
/** Minor units as an amount with two decimals (1234n → "12.34"). */
export const formatAmount = (minor: bigint) => new Dec(minor.toString()).div(100).toFixed(2);
/** −points, without a −0 for a refund that takes nothing. */
export const negate = (points: number) => (points === 0 ? 0 : -points);
