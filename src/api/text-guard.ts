import { MiddlewareFn } from 'type-graphql';
import { badRequest } from './errors';

/** The bidirectional overrides and isolates that make text read other than it is stored ("Trojan Source"). */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
/**
 * Free-text fields shown to others (names and descriptions on statements, receipts, public causes).
 * Identifiers and codes have their own, stricter checks that answer with userErrors.
 */
const DISPLAYED_TEXT = new Set(['name', 'description']);

function hasNul(value: unknown, key = ''): boolean {
  if (typeof value === 'string') return value.includes('\u0000') || (DISPLAYED_TEXT.has(key) && BIDI_CONTROL.test(value));
  if (Array.isArray(value)) return value.some((v) => hasNul(v, key));
  if (value && typeof value === 'object' && !(value instanceof Date)) return Object.entries(value).some(([k, v]) => hasNul(v, k));
  return false;
}

/**
 * PostgreSQL text cannot hold a NUL character, and bidirectional override and isolate controls
 * (U+202A–U+202E, U+2066–U+2069) let a name read differently from what it is (in statements, CSV
 * files, receipts): refuse both in any argument of a root field with a clear error. Nested fields
 * are skipped, so the check costs one walk of the arguments a request.
 */
export const refuseNulCharacters: MiddlewareFn = ({ args, info }, next) => {
  const root = info.parentType.name;
  if ((root === 'Query' || root === 'Mutation') && hasNul(args)) throw badRequest('Text may not contain the NUL character (\\u0000) and names and descriptions may not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069)');
  return next();
};
