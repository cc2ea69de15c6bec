import { Dec, MAX_AMOUNT_UNITS } from '../../common/decimal';
import { currencyExponent, isKnownCurrency } from '../../common/currency';
import { ErrorCode, UserError, userError } from '../../api/errors';
import { checkRate } from '../earning/earn-rule';
import type { ConfigureCoalitionInput } from './coalition.inputs';

const MAX_BONUS = 1_000_000_000;

/** Every problem with coalition settings; empty when they are valid. */
export const MAX_BACKDATE_DAYS_LIMIT = 3650;
/** The longest reminder lead (days) before points expire. */
export const MAX_EXPIRY_REMINDER_DAYS = 365;

export function validateCoalitionSettings(input: ConfigureCoalitionInput): UserError[] {
  const errors: (UserError | undefined)[] = [];
  const path = ['input'];
  if (!isKnownCurrency(input.currency)) errors.push(userError(ErrorCode.INVALID_INPUT, `${input.currency} is not an ISO 4217 currency code`, [...path, 'currency']));
  errors.push(checkRate(input.donationValuePerPoint, [...path, 'donationValuePerPoint'], new Dec(0), new Dec(1000)));
  const names = new Set<string>();
  const thresholds = new Set<number>();
  (input.tiers ?? []).forEach((tier, i) => {
    const field = [...path, 'tiers', String(i)];
    if (names.has(tier.name)) errors.push(userError(ErrorCode.INVALID_INPUT, `tier name ${tier.name} appears twice`, [...field, 'name']));
    if (thresholds.has(tier.qualifyingPoints)) errors.push(userError(ErrorCode.INVALID_INPUT, 'two tiers have the same qualifyingPoints', [...field, 'qualifyingPoints']));
    if (tier.qualifyingPoints < 0) errors.push(userError(ErrorCode.INVALID_INPUT, 'qualifyingPoints must not be negative', [...field, 'qualifyingPoints']));
    names.add(tier.name);
    thresholds.add(tier.qualifyingPoints);
    errors.push(checkRate(tier.earnMultiplier, [...field, 'earnMultiplier'], new Dec(0), new Dec(100), true));
  });
  const referral = input.referral;
  if (referral) {
    for (const key of ['refereeBonus', 'referrerBonus'] as const) {
      if (referral[key] < 0 || referral[key] > MAX_BONUS) errors.push(userError(ErrorCode.INVALID_INPUT, `${key} must be from 0 to ${MAX_BONUS}`, [...path, 'referral', key]));
    }
    const counts = new Set<number>();
    referral.milestones.forEach((m, i) => {
      const field = [...path, 'referral', 'milestones', String(i)];
      if (m.referrals < 1 || counts.has(m.referrals)) errors.push(userError(ErrorCode.INVALID_INPUT, 'milestone referral counts must be positive and distinct', [...field, 'referrals']));
      if (m.bonus < 1 || m.bonus > MAX_BONUS) errors.push(userError(ErrorCode.INVALID_INPUT, `milestone bonus must be from 1 to ${MAX_BONUS}`, [...field, 'bonus']));
      counts.add(m.referrals);
    });
    if (referral.minimumPurchase != null) {
      const minimum = new Dec(referral.minimumPurchase);
      const exponent = isKnownCurrency(input.currency) ? currencyExponent(input.currency) : 2;
      if (minimum.isNegative() || minimum.decimalPlaces() > exponent || minimum.gt(MAX_AMOUNT_UNITS)) {
        errors.push(userError(ErrorCode.INVALID_INPUT, `minimumPurchase must be an amount from 0 to ${MAX_AMOUNT_UNITS.toFixed()} with at most ${exponent} decimal places`,
          [...path, 'referral', 'minimumPurchase']));
      }
    }
  }
  const backdate = input.maxBackdateDays;
  if (backdate != null && (!Number.isInteger(backdate) || backdate < 1 || backdate > MAX_BACKDATE_DAYS_LIMIT)) {
    errors.push(userError(ErrorCode.INVALID_INPUT, `maxBackdateDays must be a whole number from 1 to ${MAX_BACKDATE_DAYS_LIMIT}`, [...path, 'maxBackdateDays']));
  }
  const reminder = input.expiryReminderDays;
  if (reminder != null && (!Number.isInteger(reminder) || reminder < 1 || reminder > MAX_EXPIRY_REMINDER_DAYS)) {
    errors.push(userError(ErrorCode.INVALID_INPUT, `expiryReminderDays must be a whole number from 1 to ${MAX_EXPIRY_REMINDER_DAYS}`, [...path, 'expiryReminderDays']));
  }
  return errors.filter((e): e is UserError => e !== undefined);
}
