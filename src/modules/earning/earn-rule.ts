import { Dec, MAX_INT32, RATE_SCALE } from '../../common/decimal';
import { ErrorCode, UserError, userError } from '../../api/errors';

/** A partner's earn rule as stored (decimals as strings). DESIGN.md, Earning. */
export interface EarnRule {
  pointsPerUnit: string;
  minSpend: string | null;
  categoryMultipliers: { category: string; multiplier: string }[];
  maxPointsPerTransaction: number | null;
  maxPointsPerMemberPerDay: number | null;
  firstPurchaseBonus: number | null;
  everyNthVisit: number | null;
  visitBonus: number | null;
  pointsValidityDays: number;
}

export const DEFAULT_POINTS_VALIDITY_DAYS = 365;
export const MAX_POINTS_VALIDITY_DAYS = 3650;
/** Sanity bounds on configuration: beyond them a value is a typo, not a business choice. */
const MAX_POINTS_PER_UNIT = new Dec(1_000_000);
const MAX_MULTIPLIER = new Dec(1000);

export interface BreakdownLine {
  rule: string;
  points: number;
  detail: string;
}

export interface EarnResult {
  points: number;
  breakdown: BreakdownLine[];
}

export interface PurchaseForEarn {
  /** The purchase total in currency units, exact. */
  amount: Dec;
}

/** Checks a rate: a decimal with at most six fractional digits, within [min, max]. */
export function checkRate(value: string, field: string[], min: Dec, max: Dec, minExclusive = false): UserError | undefined {
  const rate = new Dec(value);
  if (rate.decimalPlaces() > RATE_SCALE) return userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} may have at most ${RATE_SCALE} decimal places`, field);
  if (minExclusive ? rate.lte(min) : rate.lt(min)) return userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} must be ${minExclusive ? 'greater than' : 'at least'} ${min.toFixed()}`, field);
  if (rate.gt(max)) return userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} must be at most ${max.toFixed()}`, field);
  return undefined;
}

function checkCount(value: number | null | undefined, field: string[], min: number, max = MAX_INT32): UserError | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    return userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} must be a whole number from ${min} to ${max}`, field);
  }
  return undefined;
}

/** Every problem with an earn rule, each with the path of its field; empty when it is valid. */
export function validateEarnRule(rule: EarnRule, currencyExponent: number, path: string[]): UserError[] {
  const errors: (UserError | undefined)[] = [
    checkRate(rule.pointsPerUnit, [...path, 'pointsPerUnit'], new Dec(0), MAX_POINTS_PER_UNIT),
    checkCount(rule.maxPointsPerTransaction, [...path, 'maxPointsPerTransaction'], 1),
    checkCount(rule.maxPointsPerMemberPerDay, [...path, 'maxPointsPerMemberPerDay'], 1),
    checkCount(rule.firstPurchaseBonus, [...path, 'firstPurchaseBonus'], 0),
    checkCount(rule.everyNthVisit, [...path, 'everyNthVisit'], 1, 1000),
    checkCount(rule.visitBonus, [...path, 'visitBonus'], 1),
    checkCount(rule.pointsValidityDays, [...path, 'pointsValidityDays'], 1, MAX_POINTS_VALIDITY_DAYS),
  ];
  if (rule.minSpend !== null) {
    const minSpend = new Dec(rule.minSpend);
    if (minSpend.isNegative() || minSpend.decimalPlaces() > currencyExponent) {
      errors.push(userError(ErrorCode.INVALID_INPUT, `minSpend must be a non-negative amount with at most ${currencyExponent} decimal places`, [...path, 'minSpend']));
    }
  }
  if ((rule.everyNthVisit === null) !== (rule.visitBonus === null)) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'everyNthVisit and visitBonus go together', [...path, 'everyNthVisit']));
  }
  const seen = new Set<string>();
  rule.categoryMultipliers.forEach((c, i) => {
    const field = [...path, 'categoryMultipliers', String(i)];
    if (!c.category.trim()) errors.push(userError(ErrorCode.INVALID_INPUT, 'category must not be empty', [...field, 'category']));
    if (seen.has(c.category)) errors.push(userError(ErrorCode.INVALID_INPUT, `category ${c.category} appears twice`, [...field, 'category']));
    seen.add(c.category);
    errors.push(checkRate(c.multiplier, [...field, 'multiplier'], new Dec(0), MAX_MULTIPLIER, true));
  });
  return errors.filter((e): e is UserError => e !== undefined);
}

/**
 * Points a purchase earns under `rule` (DESIGN.md, Earning): the exact product, rounded down once,
 * nothing below `minSpend`, then `maxPointsPerTransaction`. Category, promotion and tier
 * multipliers, bonuses and the day cap join this function with the earn-engine issue.
 */
export function computeEarn(rule: EarnRule, purchase: PurchaseForEarn): EarnResult {
  const breakdown: BreakdownLine[] = [];
  const exact = purchase.amount.times(rule.pointsPerUnit);
  if (rule.minSpend !== null && purchase.amount.lt(rule.minSpend)) {
    breakdown.push({ rule: 'MIN_SPEND', points: 0, detail: `${purchase.amount.toFixed()} is below the minimum spend of ${rule.minSpend}` });
    return { points: 0, breakdown };
  }
  let points = exact.floor();
  breakdown.push({ rule: 'BASE', points: points.toNumber(), detail: `${purchase.amount.toFixed()} × ${rule.pointsPerUnit} points per unit = ${exact.toFixed()}, rounded down` });
  if (rule.maxPointsPerTransaction !== null && points.gt(rule.maxPointsPerTransaction)) {
    breakdown.push({ rule: 'MAX_PER_TRANSACTION', points: rule.maxPointsPerTransaction - points.toNumber(), detail: `capped at ${rule.maxPointsPerTransaction} points per transaction` });
    points = new Dec(rule.maxPointsPerTransaction);
  }
  return { points: points.toNumber(), breakdown };
}
