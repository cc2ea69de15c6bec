/**
 * The rewards catalog's rules, pure: who may claim a reward now (and the refusal code when not), the
 * member's next reward, voucher codes (generation and canonical matching), and a reward's value.
 */
import { randomBytes } from 'node:crypto';
import { canonicalCode } from '../../common/codes';
import { Dec, RATE_SCALE } from '../../common/decimal';
import { roundToMinor } from '../settlement/settlement.rules';

/** The refusal codes of a claim, in the order they are checked. */
export type Refusal = 'NOT_ELIGIBLE' | 'OUT_OF_STOCK' | 'LIMIT_EXCEEDED' | 'MEMBER_IN_DEBT' | 'INSUFFICIENT_POINTS';

/** What eligibility needs of a reward. */
export interface RewardTerms {
  active: boolean;
  startsAt: Date | null;
  endsAt: Date | null;
  /** Tier names; empty: every member. */
  tiers: string[];
  /** Club ids; empty: every member. */
  clubs: string[];
  /** Null: unlimited. */
  stock: number | null;
  claimed: number;
  perMemberLimit: number | null;
  pointsPrice: number;
}

/** What eligibility needs of the member. */
export interface MemberStanding {
  tierName: string | null;
  /** Ids of the clubs it is an active member of. */
  clubIds: string[];
  /** Points available (negative while in debt). */
  balance: number;
  debt: number;
  /** Its claims of this reward that still count (vouchers issued or redeemed, memberships claimed). */
  claimedByMember: number;
}

/** Whether the reward is on offer at `now`: active, and now in [startsAt, endsAt). */
export function inWindow(reward: Pick<RewardTerms, 'active' | 'startsAt' | 'endsAt'>, now: Date): boolean {
  if (!reward.active) return false;
  if (reward.startsAt && now.getTime() < reward.startsAt.getTime()) return false;
  if (reward.endsAt && now.getTime() >= reward.endsAt.getTime()) return false;
  return true;
}

/**
 * Why the member may not claim the reward at `now`, or null when it may. Checked in this order:
 * NOT_ELIGIBLE (inactive, outside the window, tier not listed, in none of the listed clubs),
 * OUT_OF_STOCK (claimed ≥ stock), LIMIT_EXCEEDED (its claims ≥ perMemberLimit), MEMBER_IN_DEBT
 * (debt > 0), INSUFFICIENT_POINTS (balance < pointsPrice).
 */
export function refusal(reward: RewardTerms, member: MemberStanding, now: Date): Refusal | null {
  if (!inWindow(reward, now)) return 'NOT_ELIGIBLE';
  if (reward.tiers.length && (member.tierName === null || !reward.tiers.includes(member.tierName))) return 'NOT_ELIGIBLE';
  if (reward.clubs.length && !reward.clubs.some((c) => member.clubIds.includes(c))) return 'NOT_ELIGIBLE';
  if (reward.stock !== null && reward.claimed >= reward.stock) return 'OUT_OF_STOCK';
  if (reward.perMemberLimit !== null && member.claimedByMember >= reward.perMemberLimit) return 'LIMIT_EXCEEDED';
  if (member.debt > 0) return 'MEMBER_IN_DEBT';
  if (member.balance < reward.pointsPrice) return 'INSUFFICIENT_POINTS';
  return null;
}

/**
 * The member's next reward: among the rewards it is eligible for but cannot yet afford (refused only
 * for INSUFFICIENT_POINTS or MEMBER_IN_DEBT), the cheapest in points (ties: the first id), with the
 * points still needed (pointsPrice − balance; a balance below zero while in debt counts against it).
 * Null when there is none.
 */
export function chooseNextReward<R extends RewardTerms & { id: string }>(rewards: R[], standingOf: (r: R) => MemberStanding, now: Date): { reward: R; pointsNeeded: number } | null {
  let best: { reward: R; pointsNeeded: number } | null = null;
  for (const reward of rewards) {
    const standing = standingOf(reward);
    const why = refusal(reward, standing, now);
    if (why !== 'INSUFFICIENT_POINTS' && why !== 'MEMBER_IN_DEBT') continue;
    const candidate = { reward, pointsNeeded: reward.pointsPrice - standing.balance };
    if (!best || reward.pointsPrice < best.reward.pointsPrice || (reward.pointsPrice === best.reward.pointsPrice && reward.id < best.reward.id)) best = candidate;
  }
  return best;
}

// --- Voucher codes -------------------------------------------------------------------------------

/** Crockford's base32: digits and letters without I, L, O, U. */
export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 12 random symbols × 5 bits = 60 random bits, then one check symbol. */
const RANDOM_SYMBOLS = 12;
export const VOUCHER_CODE_LENGTH = RANDOM_SYMBOLS + 1;

/**
 * Luhn mod 32 check symbol over Crockford symbols: catches every single wrong symbol and every swap
 * of two neighbouring symbols (it stays in the alphabet, so it reads aloud like the rest).
 */
export function checkSymbol(symbols: string): string {
  let sum = 0;
  let factor = 2;
  for (let i = symbols.length - 1; i >= 0; i--) {
    const value = CROCKFORD.indexOf(symbols[i]!);
    if (value < 0) throw new Error(`not a Crockford symbol: ${symbols[i]}`);
    const addend = factor * value;
    sum += Math.floor(addend / 32) + (addend % 32);
    factor = factor === 2 ? 1 : 2;
  }
  return CROCKFORD[(32 - (sum % 32)) % 32]!;
}

/**
 * A new voucher code in canonical form (13 symbols: 60 random bits from the OS's CSPRNG and a check
 * symbol). `random` is for tests only.
 */
export function newVoucherCode(random: (bytes: number) => Buffer = randomBytes): string {
  let bits = random(8).readBigUInt64BE();
  let symbols = '';
  for (let i = 0; i < RANDOM_SYMBOLS; i++) {
    symbols += CROCKFORD[Number(bits & 31n)];
    bits >>= 5n;
  }
  return symbols + checkSymbol(symbols);
}

/** A canonical code grouped for reading aloud: `XXXX-XXXX-XXXX-X`. */
export function formatVoucherCode(canonical: string): string {
  return canonical.match(/.{1,4}/g)!.join('-');
}

/**
 * The canonical form of a code as typed or read out: the hub's one code form (canonicalCode: NFKC,
 * case-insensitive, white space and every kind of dash ignored, invisible characters refused), dots
 * and underscores ignored too; I and L read as 1, O as 0 (Crockford). Undefined when it is not a voucher
 * code (wrong length, a symbol outside the alphabet, or a wrong check symbol).
 */
export function canonicalVoucherCode(input: string): string | undefined {
  const code = canonicalCode(input)?.replace(/[._]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (code === undefined) return undefined;
  if (code.length !== VOUCHER_CODE_LENGTH) return undefined;
  for (const c of code) if (!CROCKFORD.includes(c)) return undefined;
  const body = code.slice(0, RANDOM_SYMBOLS);
  return checkSymbol(body) === code.slice(RANDOM_SYMBOLS) ? code : undefined;
}

// --- Value -----------------------------------------------------------------------------------------

/**
 * A reward's default value in minor units: pointsPrice × the partner's redemptionValuePerPoint
 * (currency units per point, exact), rounded half up once to minor units.
 */
export function defaultValueMinor(pointsPrice: number, redemptionValuePerPoint: string, exponent: number): bigint {
  return roundToMinor(new Dec(redemptionValuePerPoint).times(pointsPrice), exponent);
}

/**
 * What the reward's partner is paid per point consumed by a claim: value / pointsPrice in currency
 * units, exact. Undefined when that quotient has more than RATE_SCALE (6) fractional digits (the
 * scale obligations store rates at), so every later settlement line stays exact.
 */
export function valuePerPoint(valueMinor: bigint, pointsPrice: number, exponent: number): string | undefined {
  // value / price (in units) has at most 6 fractional digits ⇔ price × 10^exponent divides value_minor × 10^6.
  if ((valueMinor * 10n ** BigInt(RATE_SCALE)) % (BigInt(pointsPrice) * 10n ** BigInt(exponent)) !== 0n) return undefined;
  return new Dec(valueMinor.toString()).div(new Dec(10).pow(exponent)).div(pointsPrice).toFixed();
}
