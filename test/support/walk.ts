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

/** A settlement line as the walks compare them: parties by id, the amount in minor units. */
export interface WalkLine {
  kind: string;
  payer: string;
  payee: string;
  points: number;
  amountMinor: bigint;
}

/** An obligation of a walk's model, its parties already turned into ids. */
export interface WalkObligation {
  kind: string;
  payer: string;
  payee: string;
  points: number;
  /** Money per point, exact decimal text. */
  rate: string;
  /** The exact value in minor units when it is not points × rate (donation receipts). */
  valueMinor?: bigint;
}

const lineKey = (l: { kind: string; payer: string; payee: string }) => `${l.kind}|${l.payer}|${l.payee}`;

/**
 * The lines a settlement run should hold for `obligations`, recomputed independently of the hub:
 * one line per (kind, payer, payee), its amount the exact sum rounded half up once to minor units
 * (docs/rules.md, Redemption and settlement). A pair whose events cancel out (a reward claimed and
 * returned) leaves no line. Sorted by kind, payer, payee.
 */
export function expectedLines(obligations: Iterable<WalkObligation>): WalkLine[] {
  const sums = new Map<string, { kind: string; payer: string; payee: string; points: number; exact: Dec }>();
  for (const o of obligations) {
    const key = lineKey(o);
    const line = sums.get(key) ?? { kind: o.kind, payer: o.payer, payee: o.payee, points: 0, exact: new Dec(0) };
    line.points += o.points;
    line.exact = line.exact.plus(o.valueMinor !== undefined ? new Dec(o.valueMinor.toString()).div(100) : new Dec(o.points).times(o.rate));
    sums.set(key, line);
  }
  return [...sums.values()]
    .map(({ exact, ...line }) => ({ ...line, amountMinor: BigInt(exact.times(100).toDecimalPlaces(0, Dec.ROUND_HALF_UP).toFixed(0)) }))
    .filter((l) => l.points !== 0 || l.amountMinor !== 0n)
    .sort((a, b) => lineKey(a).localeCompare(lineKey(b)));
}

/** A run's lines as the hub answered them (GraphQL `lines { kind payer { id } payee { id } points amount { amount } }`), sorted as expectedLines. */
export function runLines(lines: readonly { kind: string; payer: { id: string }; payee: { id: string }; points: number; amount: { amount: string } }[]): WalkLine[] {
  return lines.map((l) => ({ kind: l.kind, payer: l.payer.id, payee: l.payee.id, points: l.points, amountMinor: toMinor(l.amount.amount) }))
    .sort((a, b) => lineKey(a).localeCompare(lineKey(b)));
}
