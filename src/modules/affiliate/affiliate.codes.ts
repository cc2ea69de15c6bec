import { canonicalCode } from '../../common/codes';
import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A URL-safe affiliate code: "AF" and 8 characters of Crockford's alphabet, e.g. AF7K2MX9QD. */
export function newAffiliateCode(): string {
  let code = 'AF';
  for (let i = 0; i < 8; i++) code += ALPHABET[randomInt(0, ALPHABET.length)];
  return code;
}

/** Codes arrive from links and forms: canonical before lookup (canonicalCode); undefined when it cannot be a code. */
export function normalizeAffiliateCode(input: string): string | undefined {
  return canonicalCode(input);
}
