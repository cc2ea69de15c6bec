import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { parseDecimal } from '../common/decimal';

/**
 * Exact decimals travel as strings ("12.50"); a JSON number is accepted on input only when it is
 * an integer, since a float may already have lost digits. Values stay strings inside the app.
 */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'An exact decimal as a string, e.g. "12.50"',
  serialize(value) {
    if (typeof value !== 'string') throw new GraphQLError('Decimal values are served as strings');
    return value;
  },
  parseValue(value) {
    return checkDecimal(typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return checkDecimal(ast.value);
    throw new GraphQLError('Decimal must be a string such as "12.50"');
  },
});

function checkDecimal(value: unknown): string {
  if (typeof value !== 'string' || parseDecimal(value.trim()) === undefined) {
    throw new GraphQLError(`Decimal must be a decimal string such as "12.50", got ${JSON.stringify(value)}`);
  }
  return value.trim();
}

/** 64-bit integers for point totals: a JSON number while it is exact, otherwise a string. */
export const BigIntScalar = new GraphQLScalarType<bigint, number | string>({
  name: 'BigInt',
  description: 'A 64-bit integer: a JSON number when it fits exactly in a double, otherwise a string',
  serialize(value) {
    const n = typeof value === 'bigint' ? value : typeof value === 'number' || typeof value === 'string' ? BigInt(value) : undefined;
    if (n === undefined) throw new GraphQLError('BigInt cannot represent this value');
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  },
  parseValue(value) {
    if ((typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && /^-?\d{1,19}$/.test(value))) {
      return BigInt(value);
    }
    throw new GraphQLError(`BigInt must be an integer, got ${JSON.stringify(value)}`);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.INT || (ast.kind === Kind.STRING && /^-?\d{1,19}$/.test(ast.value))) return BigInt(ast.value);
    throw new GraphQLError('BigInt must be an integer');
  },
});
