/**
 * How a statement receives a set of rows or ids as parameters. A batch sends each column as one
 * array (`unnest($1::uuid[], …)`): one parameter a column, whatever the batch size. A posting of a
 * few rows sends each value as its own scalar parameter (`VALUES ($1::uuid, …), (…)`) instead:
 * PostgreSQL then plans the prepared statement once and keeps that generic plan (with arrays it
 * re-plans on every call, its estimate for an array of unknown length being worse than for the
 * one it was given), and parses no array literals. Both forms name their columns the same, so the
 * SQL around them is written once.
 */

/** Sets of at most this many rows (ids) go as scalar parameters; larger ones as one array a column. */
export const SCALAR_MAX_ROWS = 4;

/** A column of a row source: its SQL name and type (`uuid`, `timestamptz`, …) and how a row gives its value. */
export interface Column<R> {
  name: string;
  type: string;
  value: (row: R) => unknown;
}

/** Appends `value` to `params`; its placeholder. */
export function param(params: unknown[], value: unknown, type?: string): string {
  params.push(value);
  return type ? `$${params.length}::${type}` : `$${params.length}`;
}

/** Types whose text never holds a quote, backslash, comma, brace or space: their array elements need no quoting. */
const PLAIN_TYPES = new Set(['uuid', 'int', 'smallint', 'bigint', 'numeric', 'boolean', 'timestamptz']);

/**
 * A column's values as a PostgreSQL array literal, built here rather than by node-postgres (which
 * quotes and escapes every element with two regular expressions): plain types as they are, text
 * quoted with its backslashes and double quotes escaped in one pass. Values are strings, numbers,
 * booleans or null (dates as ISO strings).
 */
export function arrayLiteral(values: readonly unknown[], type: string): string {
  const plain = PLAIN_TYPES.has(type);
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else if (plain) out += String(v);
    else out += `"${String(v).replace(/[\\"]/g, '\\$&')}"`;
  }
  return `${out}}`;
}

/**
 * The rows as a relation `alias(column names…)` for a FROM clause, their values appended to
 * `params`: scalar parameters in a VALUES list for up to SCALAR_MAX_ROWS rows, else one array
 * parameter a column under unnest. `rows` must not be empty.
 */
export function rowSource<R>(params: unknown[], rows: readonly R[], columns: readonly Column<R>[], alias: string): string {
  const names = columns.map((c) => c.name).join(', ');
  if (rows.length <= SCALAR_MAX_ROWS) {
    const tuples = rows.map((r) => `(${columns.map((c) => param(params, c.value(r), c.type)).join(', ')})`);
    return `(VALUES ${tuples.join(', ')}) AS ${alias}(${names})`;
  }
  return `unnest(${columns.map((c) => param(params, arrayLiteral(rows.map(c.value), c.type), `${c.type}[]`)).join(', ')}) AS ${alias}(${names})`;
}

/**
 * `expression IN ($1::type, $2::type)` for up to SCALAR_MAX_ROWS values, else
 * `expression = ANY($1::type[])` (also for none: IN () is not SQL).
 */
export function inList(params: unknown[], expression: string, values: readonly unknown[], type: string): string {
  if (values.length && values.length <= SCALAR_MAX_ROWS) return `${expression} IN (${values.map((v) => param(params, v, type)).join(', ')})`;
  return `${expression} = ANY(${param(params, arrayLiteral(values, type), `${type}[]`)})`;
}
