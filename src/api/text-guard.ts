import { MiddlewareFn } from 'type-graphql';
import { badRequest } from './errors';

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object' && !(value instanceof Date)) return Object.values(value).some(hasNul);
  return false;
}

/**
 * PostgreSQL text cannot hold a NUL character: refuse it in any argument of a root field with a
 * clear error, instead of letting the database fail the request. Nested fields are skipped, so
 * the check costs one walk of the arguments a request.
 */
export const refuseNulCharacters: MiddlewareFn = ({ args, info }, next) => {
  const root = info.parentType.name;
  if ((root === 'Query' || root === 'Mutation') && hasNul(args)) throw badRequest('Text may not contain the NUL character (\\u0000)');
  return next();
};
