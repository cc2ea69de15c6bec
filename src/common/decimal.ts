import Decimal from 'decimal.js';

/**
 * Exact decimal arithmetic for rates and money. Precision is far above anything the hub
 * multiplies (18 integer digits × 6 fractional digits × a few rates), so products are exact.
 */
export const Dec = Decimal.clone({ precision: 80, rounding: Decimal.ROUND_DOWN, toExpNeg: -100, toExpPos: 100 });
export type Dec = InstanceType<typeof Dec>;

/** Rates: multipliers, points per unit, money per point. Up to 6 fractional digits. */
export const RATE_SCALE = 6;
/** The largest purchase amount the hub accepts, in currency units: a sanity bound, not a business limit. */
export const MAX_AMOUNT_UNITS = new Dec('1000000000');
export const MAX_INT32 = 2_147_483_647;
/** The earliest instant the hub accepts in an input (a purchase's occurredAt, an expiry asOf, a settlement period). */
export const EARLIEST_INSTANT = new Date('2000-01-01T00:00:00Z');

const DECIMAL_PATTERN = /^-?(0|[1-9]\d{0,17})(\.\d{1,18})?$/;

/** Parses a canonical decimal string; undefined when it is not one. */
export function parseDecimal(text: string): Dec | undefined {
  if (!DECIMAL_PATTERN.test(text)) return undefined;
  return new Dec(text);
}

export function fractionDigits(value: Dec): number {
  return value.decimalPlaces();
}

/** Minor units (integer) of an amount that has at most `exponent` fractional digits. */
export function toMinorUnits(amount: Dec, exponent: number): bigint {
  return BigInt(amount.times(new Dec(10).pow(exponent)).toFixed(0));
}

/** The decimal string of `minor` minor units, e.g. 1250n, 2 → "12.50". */
export function formatMinorUnits(minor: bigint, exponent: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? '.' + digits.slice(digits.length - exponent) : '';
  return (negative ? '-' : '') + whole + fraction;
}

/** Money as the API shows it ({ amount: "12.50", currency: "EUR" }) from minor units. */
export function toMoney(minor: bigint | string, currency: { currency: string; currencyExponent: number }): { amount: string; currency: string } {
  return { amount: formatMinorUnits(BigInt(minor), currency.currencyExponent), currency: currency.currency };
}

/** A rate as stored and shown: trailing zeros trimmed, never exponent notation. */
export function formatRate(rate: Dec | string): string {
  return new Dec(rate).toFixed();
}
