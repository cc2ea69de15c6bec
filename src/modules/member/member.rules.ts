import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** Emails are matched trimmed and lower-cased. */
export function normalizeEmail(input: string): string | undefined {
  const email = input.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) && email.length <= 254 ? email : undefined;
}

/**
 * Phones are matched in E.164. A number must carry its country code and have a length possible
 * there; number ranges are not checked, so new ranges work before the metadata knows them.
 */
export function normalizePhone(input: string): string | undefined {
  const trimmed = input.trim().replace(/^00/, '+');
  if (!trimmed.startsWith('+')) return undefined;
  const phone = parsePhoneNumberFromString(trimmed);
  return phone?.isPossible() ? phone.number : undefined;
}

/** A real calendar date, not in the future, and not before 1900. */
export function isPlausibleBirthDate(input: string, today = new Date()): boolean {
  const date = new Date(`${input}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === input && date <= today && input >= '1900-01-01';
}
