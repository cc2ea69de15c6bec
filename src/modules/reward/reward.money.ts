import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { MAX_AMOUNT_UNITS, parseDecimal, toMinorUnits } from '../../common/decimal';

/**
 * A money input (a cash price, a value, an amount paid) as minor units: a non-negative decimal with
 * at most the currency's fractional digits, below the hub's amount bound; else INVALID_INPUT on `field`.
 */
export function parseMoneyMinor(text: string, exponent: number, field: string[]): Outcome<bigint> {
  const amount = parseDecimal(text);
  if (!amount || amount.isNegative() || amount.decimalPlaces() > exponent) {
    return fail(userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} must be a non-negative amount with at most ${exponent} decimal places`, field));
  }
  if (amount.gt(MAX_AMOUNT_UNITS)) return fail(userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} must be at most ${MAX_AMOUNT_UNITS}`, field));
  return ok(toMinorUnits(amount, exponent));
}
