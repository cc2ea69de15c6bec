import { ValidationOptions, ValidateBy } from 'class-validator';

/** The longest idempotency key, in characters (the column is varchar(255)). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Control, format (zero-width, bidirectional), line/paragraph separator and unassigned characters: not printable. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u;

/**
 * Whether `key` is a valid idempotency key (docs/rules.md, The ledger): 1 to 255 printable characters
 * (counted as Unicode code points, as PostgreSQL counts them), not only white space.
 */
export function isIdempotencyKey(key: unknown): key is string {
  if (typeof key !== 'string') return false;
  const length = [...key].length;
  return length >= 1 && length <= MAX_IDEMPOTENCY_KEY_LENGTH && key.trim() !== '' && !UNPRINTABLE.test(key);
}

/** class-validator rule for every `idempotencyKey` input field. */
export function IsIdempotencyKey(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({
    name: 'isIdempotencyKey',
    validator: {
      validate: (value) => isIdempotencyKey(value),
      defaultMessage: () => `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable characters, not blank`,
    },
  }, options);
}
