import { GraphQLOutputType, getNamedType, isListType, isNonNullType, isObjectType, isScalarType } from 'graphql';
import { MiddlewareFn } from 'type-graphql';
import { refusedTextCharacter } from '../common/text';
import { ErrorCode, UserError, badRequest, userError } from './errors';

/**
 * Free-text fields shown to others (names and descriptions on statements, receipts, catalogs,
 * public causes, webhook endpoint lists; product categories on earn rules, promotions, purchase
 * lines and their breakdowns), at any depth of the arguments (`input.name`, `input.tiers.0.name`,
 * `input.description`, `input.lines.0.category`, `input.categories`). Identifiers and codes have
 * their own, stricter checks.
 */
const FREE_TEXT = new Set(['name', 'description', 'category', 'categories']);
/** Multi-line fields: tab, line feed and carriage return stay allowed in them (descriptions only). */
const MULTI_LINE = new Set(['description']);

/** A free-text argument that holds a refused character: where (argument path) and which. */
export interface TextProblem {
  field: string[];
  message: string;
}

/**
 * The first refused character of one free-text value (docs/rules.md, Requests and limits, Free
 * text; which characters: common/text refusedTextCharacter), or null. `multiLine` allows tab, line
 * feed and carriage return. The message names the field (its last path segment), the code point
 * and its position (1-based, in code points).
 */
export function freeTextProblem(value: string, field: string[], multiLine: boolean): TextProblem | null {
  const found = refusedTextCharacter(value, multiLine);
  if (!found) return null;
  const allowed = multiLine ? ' (tab, line feed and carriage return are allowed)' : '';
  return { field, message: `${field[field.length - 1]} may not contain control characters or invisible formatting characters${allowed}: ${found.codePoint} at position ${found.position}` };
}

function findTextProblem(value: unknown, path: string[]): TextProblem | null {
  const key = path[path.length - 1] ?? '';
  if (typeof value === 'string') return FREE_TEXT.has(key) ? freeTextProblem(value, path, MULTI_LINE.has(key)) : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      // A list of strings keeps its field's name (tags); a list of objects numbers its items.
      const found = findTextProblem(value[i], typeof value[i] === 'string' ? path : [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) {
      const found = findTextProblem(v, [...path, k]);
      if (found) return found;
    }
  }
  return null;
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object' && !(value instanceof Date)) return Object.values(value).some(hasNul);
  return false;
}

/**
 * The payload a mutation answers with when its input is refused before it runs: `userErrors` and
 * every other field empty (null; a non-null list [], Boolean false, number 0). Null when the
 * mutation's payload has no userErrors or a non-null field that cannot be left empty.
 */
function refusedPayload(type: GraphQLOutputType, errors: UserError[]): Record<string, unknown> | null {
  const named = getNamedType(type);
  if (!isObjectType(named) || !named.getFields().userErrors) return null;
  const payload: Record<string, unknown> = { userErrors: errors };
  for (const field of Object.values(named.getFields())) {
    if (field.name === 'userErrors' || !isNonNullType(field.type)) continue;
    const inner = field.type.ofType;
    if (isListType(inner)) payload[field.name] = [];
    else if (isScalarType(inner) && inner.name === 'Boolean') payload[field.name] = false;
    else if (isScalarType(inner) && ['Int', 'Float', 'BigInt'].includes(inner.name)) payload[field.name] = 0;
    else return null;
  }
  return payload;
}

/**
 * One guard for all free text entering the hub, on every root field (nested fields are skipped,
 * so it costs one walk of the arguments a request):
 * - a `name` or `description` anywhere in the arguments holding a control or invisible formatting
 *   character (see INVISIBLE; tab/LF/CR allowed in descriptions): a mutation answers INVALID_INPUT in
 *   its userErrors, naming the field (e.g. ["input", "name"]), and runs not at all (nothing written);
 *   a query is a BAD_USER_INPUT error;
 * - PostgreSQL text cannot hold NUL: NUL in any other argument is a BAD_USER_INPUT error.
 */
export const guardFreeText: MiddlewareFn = async ({ args, info }, next) => {
  const root = info.parentType.name;
  if (root !== 'Query' && root !== 'Mutation') return next();
  const problem = findTextProblem(args, []);
  if (problem) {
    const payload = root === 'Mutation' ? refusedPayload(info.returnType, [userError(ErrorCode.INVALID_INPUT, problem.message, problem.field)]) : null;
    if (payload) return payload;
    throw badRequest(`${problem.field.join('.')}: ${problem.message}`);
  }
  if (hasNul(args)) throw badRequest('Text may not contain the NUL character (\\u0000)');
  return next();
};
