import { DocumentNode, GraphQLField, visit, GraphQLNamedType, GraphQLSchema, getNamedType, isCompositeType, isListType, isNonNullType, GraphQLOutputType } from 'graphql';
import { ComplexityEstimatorArgs, getComplexity } from 'graphql-query-complexity';

/**
 * What a query costs, in points (Shopify's model, sized for this hub):
 * - a scalar or enum field: 0; an object field: 1 plus its selection;
 * - a connection (a field with `first` returning a `…Connection`): 2 plus `first` (default 20)
 *   times its selection, whatever the page really holds;
 * - a mutation field: 10 plus its selection; `recordPurchases`: 10 plus its selection per purchase;
 * - a report field: what it scans (REPORT_COSTS): a fixed cost for reports over all of history, a
 *   base plus one point per started day of the period for reports over a period;
 * - introspection (`__schema`, `__type`): 1 plus a point per 10 items of its lists, which count as
 *   the schema's own sizes (every type; fields, arguments and enum values by the schema's average
 *   per type), so the standard introspection query is cheap and one that multiplies the schema
 *   (nested, or aliased twenty times) is not.
 * The requested cost is computed from the query before it runs; the actual cost adds up the same
 * units over what was really resolved (a page of 3 costs 3 nodes, not `first`).
 */
export const DEFAULT_PAGE_SIZE = 20;
export const MUTATION_COST = 10;
export const CONNECTION_COST = 2;

/** Report fields, "Type.field": a fixed cost, or `base + perDay × started days` of [periodStart, periodEnd). */
export const REPORT_COSTS: Record<string, { fixed: number } | { base: number; perDay: number }> = {
  'Partner.stats': { base: 500, perDay: 1 },
  'Query.partnerStats': { base: 1000, perDay: 2 },
  'Query.operatorEconomics': { base: 1000, perDay: 2 },
  'Query.liabilities': { fixed: 1000 },
  'Query.ledgerCheck': { fixed: 4000 },
  'Query.exportMemberData': { fixed: 2000 },
  'SettlementRun.statementCsv': { fixed: 500 },
};

/** Multiplies a batch field's selection by the length of one of its list arguments. */
const BATCH_ARGUMENTS: Record<string, string> = { 'Mutation.recordPurchases': 'inputs' };

const DAY_MS = 86_400_000;

function periodDays(args: Record<string, unknown>): number {
  const start = args.periodStart instanceof Date ? args.periodStart.getTime() : Date.parse(String(args.periodStart));
  const end = args.periodEnd instanceof Date ? args.periodEnd.getTime() : Date.parse(String(args.periodEnd));
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return 1;
  return Math.ceil((end - start) / DAY_MS);
}

function isConnection(field: GraphQLField<unknown, unknown>): boolean {
  return field.args.some((a) => a.name === 'first') && getNamedType(field.type).name.endsWith('Connection');
}

function returnsList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** How many items an introspection list is taken to hold: the schema's own sizes. */
export interface IntrospectionSizes {
  types: number;
  fieldsPerType: number;
  argsPerField: number;
  enumValuesPerType: number;
  directives: number;
}

export function introspectionSizes(schema: GraphQLSchema): IntrospectionSizes {
  const types = Object.values(schema.getTypeMap());
  let fields = 0;
  let args = 0;
  let enumValues = 0;
  for (const type of types) {
    if ('getFields' in type) {
      const own = Object.values(type.getFields());
      fields += own.length;
      for (const f of own) args += 'args' in f ? f.args.length : 0;
    }
    if ('getValues' in type) enumValues += type.getValues().length;
  }
  const per = (n: number, of: number) => Math.max(1, Math.ceil(n / Math.max(1, of)));
  return { types: types.length, fieldsPerType: per(fields, types.length), argsPerField: per(args, fields),
    enumValuesPerType: per(enumValues, types.length), directives: schema.getDirectives().length };
}

function introspectionListSize(parent: string, field: string, sizes: IntrospectionSizes): number {
  if (parent === '__Schema' && field === 'types') return sizes.types;
  if (parent === '__Schema' && field === 'directives') return sizes.directives;
  if (field === 'fields' || field === 'inputFields') return sizes.fieldsPerType;
  if (field === 'enumValues') return sizes.enumValuesPerType;
  if (field === 'args') return sizes.argsPerField;
  return 1;
}

/**
 * The cost of one field by itself (not its selection): the unit both the requested and the
 * actual cost add up. `items` is how many times the selection below it counts; `perItem`: a list
 * whose own unit counts once per item too (a plain list of objects, an introspection list).
 */
export function fieldCost(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>, args: Record<string, unknown>,
  sizes: IntrospectionSizes, mutationType: string | undefined): { own: number; items: number; perItem: boolean } {
  const key = `${parent.name}.${field.name}`;
  const report = REPORT_COSTS[key];
  if (report) return { own: 'fixed' in report ? report.fixed : report.base + report.perDay * periodDays(args), items: 1, perItem: false };
  if (parent.name === mutationType) {
    const batch = BATCH_ARGUMENTS[key];
    const list = batch ? args[batch] : undefined;
    return { own: MUTATION_COST, items: Array.isArray(list) ? list.length : 1, perItem: false };
  }
  if (isConnection(field)) {
    const first = typeof args.first === 'number' ? Math.max(0, args.first) : DEFAULT_PAGE_SIZE;
    return { own: CONNECTION_COST, items: first, perItem: false };
  }
  if (!isCompositeType(getNamedType(field.type))) return { own: 0, items: 1, perItem: false };
  const introspection = parent.name.startsWith('__') || isIntrospectionRoot(field);
  // Introspection is read from memory: only its lists count (per item), see INTROSPECTION_ITEMS_PER_POINT.
  if (!returnsList(field.type)) return { own: introspection ? 0 : 1, items: 1, perItem: false };
  return { own: 1, items: introspection ? introspectionListSize(parent.name, field.name, sizes) : 1, perItem: true };
}

/** Whether a field's own cost (fieldCost's `own`) depends on its arguments: only period reports do. */
export function ownCostDependsOnArgs(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>): boolean {
  const report = REPORT_COSTS[`${parent.name}.${field.name}`];
  return report !== undefined && !('fixed' in report);
}

/** Introspection items (types, fields, arguments, enum values…) that cost one point. */
export const INTROSPECTION_ITEMS_PER_POINT = 10;

export function isIntrospectionRoot(field: GraphQLField<unknown, unknown>): boolean {
  return field.name === '__schema' || field.name === '__type';
}

/** The cost of an operation before it runs, in points; throws a GraphQLError for a query too large to measure. */
export function requestedCost(schema: GraphQLSchema, sizes: IntrospectionSizes, document: DocumentNode,
  operationName: string | undefined, variables: Record<string, unknown> | undefined): number {
  const mutationType = schema.getMutationType()?.name;
  const estimator = ({ type, field, args, childComplexity }: ComplexityEstimatorArgs): number => {
    if (isIntrospectionRoot(field)) return 1 + Math.ceil(childComplexity / INTROSPECTION_ITEMS_PER_POINT);
    const { own, items, perItem } = fieldCost(type, field, args, sizes, mutationType);
    if (perItem) return items * (own + childComplexity);
    // A batch's items each cost their selection, at least 1 each.
    return own + items * (type.name === mutationType && items !== 1 ? Math.max(1, childComplexity) : childComplexity);
  };
  return getComplexity({ schema, query: document, operationName, variables: variables ?? {}, estimators: [estimator] });
}

/** Arguments whose value changes a requested cost: pages, report periods, batch lists, @skip/@include. */
const COST_ARGUMENTS = new Set(['first', 'periodStart', 'periodEnd', 'if', ...Object.values(BATCH_ARGUMENTS)]);

/**
 * Whether a document's requested cost can depend on its variables: a variable passed (at any depth)
 * to an argument the cost reads (COST_ARGUMENTS). When not, the cost of (document, operation) is
 * the same for every request, and is computed once.
 */
export function costDependsOnVariables(document: DocumentNode): boolean {
  let depends = false;
  visit(document, {
    Argument(node) {
      if (depends || !COST_ARGUMENTS.has(node.name.value)) return false;
      visit(node.value, { Variable() { depends = true; } });
      return false;
    },
    VariableDefinition: () => false,
  });
  return depends;
}
