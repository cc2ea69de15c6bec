import { ApolloArmor } from '@escape.tech/graphql-armor';
import { ApolloServerPlugin, HeaderMap } from '@apollo/server';
import {
  ASTVisitor, DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLError, GraphQLField, GraphQLObjectType, GraphQLSchema, InlineFragmentNode, Kind, OperationDefinitionNode,
  SchemaMetaFieldDef, TypeMetaFieldDef, ValidationContext,
} from 'graphql';
import { Config } from '../config';
import { Role, callerLabel } from './auth';
import type { RequestContext } from './context';
import { INTROSPECTION_ITEMS_PER_POINT, costDependsOnVariables, fieldCost, introspectionSizes, ownCostDependsOnArgs, requestedCost } from './cost';
import { BucketSize, CostBuckets, ThrottleStatus } from './rate-limit';

/**
 * Query limits: depth, aliases, directives (graphql-armor validation rules), introspection depth,
 * tokens (the parser's own limit) and cost (cost.ts, before execution) are checked before any
 * resolver runs, so a rejected query is a 400 and never reaches a resolver.
 */
export const QUERY_LIMITS = {
  maxDepth: 12,
  /** Fields deep inside `__schema`/`__type`, fragments not counted: the standard introspection query is 15. */
  maxIntrospectionDepth: 15,
  maxAliases: 20,
  maxDirectives: 20,
  /** A recordPurchases batch of 1000 travels in variables, not in the query text. */
  maxTokens: 2000,
  /** One request's requested cost (cost.ts); never more than a caller's whole bucket. */
  maxCost: 10_000,
  /** The HTTP body: enough for a batch of 1000 purchases with lines. */
  maxBodyBytes: 1024 * 1024,
};

/** Error codes of the limits, shown to clients as they are. */
export const LIMIT_ERROR_CODES = ['MAX_COST_EXCEEDED', 'THROTTLED'];

export function armor(config: Pick<Config, 'nodeEnv'>) {
  return new ApolloArmor({
    // Introspection is counted by introspectionDepthRule below (its fragments would otherwise make the
    // standard introspection query 21 deep); armor exempts only a real `__schema` field, never a
    // fragment of that name.
    maxDepth: { n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true },
    maxAliases: { n: QUERY_LIMITS.maxAliases },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives },
    // Counted by graphql-js's own parser instead (Apollo parseOptions): armor's token plugin
    // throws outside validation, which Apollo answers with a 500.
    maxTokens: { enabled: false },
    // Cost is costPlugin's: armor's cost-limit knows no connections, reports or `first`.
    costLimit: { enabled: false },
    // Production never suggests field names ("Did you mean …"); costPlugin masks the rest.
    blockFieldSuggestion: { enabled: config.nodeEnv === 'production' },
  }).protect();
}

/**
 * Refuses introspection nested deeper than `max` fields (from the root, fragments flattened):
 * when introspection is on it is subject to a depth limit too, while the standard introspection
 * query (GraphiQL, codegen) passes.
 */
export function introspectionDepthRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragmentDepths = new Map<string, number>();
    const depthOf = (node: FieldNode | InlineFragmentNode | FragmentDefinitionNode, seen: Set<string>): number => {
      let deepest = 0;
      for (const child of node.selectionSet?.selections ?? []) {
        if (child.kind === Kind.FIELD) deepest = Math.max(deepest, 1 + depthOf(child, seen));
        else if (child.kind === Kind.INLINE_FRAGMENT) deepest = Math.max(deepest, depthOf(child, seen));
        else {
          const name = child.name.value;
          if (seen.has(name)) continue;
          let depth = fragmentDepths.get(name);
          if (depth === undefined) {
            const fragment = context.getFragment(name);
            depth = fragment ? depthOf(fragment, new Set([...seen, name])) : 0;
            fragmentDepths.set(name, depth);
          }
          deepest = Math.max(deepest, depth);
        }
      }
      return deepest;
    };
    return {
      Field(node, _key, _parent, _path, ancestors) {
        if (node.name.value !== '__schema' && node.name.value !== '__type') return;
        // Depth of the field itself: the fields above it in the operation (or fragment) plus its own subtree.
        const above = ancestors.filter((a) => !Array.isArray(a) && (a as { kind?: string }).kind === Kind.FIELD).length;
        const depth = above + 1 + depthOf(node, new Set());
        if (depth > max) {
          context.reportError(new GraphQLError(`Introspection depth limit of ${max} exceeded, found ${depth}.`, { nodes: [node] }));
        }
      },
    };
  };
}

/** The bucket a caller draws on: each partner, affiliate and member its own; the operator one; anonymous callers one per address. */
export function bucketKey(ctx: RequestContext): string {
  // The same label postings are recorded under: operator, partner:<id>, affiliate:<id>, member:<id>.
  return ctx.caller ? callerLabel(ctx.caller) : `anonymous:${ctx.clientAddress ?? 'unknown'}`;
}

/** The operator's bucket is this many times a caller's (its tools read reports over the whole coalition). */
export const OPERATOR_BUCKET_FACTOR = 10;

export function bucketSize(config: Pick<Config, 'rateLimitMaxCost' | 'rateLimitRestoreRate'>, ctx: RequestContext): BucketSize {
  const factor = ctx.caller?.role === Role.ADMIN ? OPERATOR_BUCKET_FACTOR : 1;
  return { maximumAvailable: config.rateLimitMaxCost * factor, restoreRate: config.rateLimitRestoreRate * factor };
}

export interface CostExtension {
  requestedQueryCost: number;
  actualQueryCost: number;
  throttleStatus: ThrottleStatus | null;
}

/** Objects inside lists under a value: the items an introspection answer holds. */
function listItems(value: unknown, inList = false): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + listItems(v, true), 0);
  if (value === null || typeof value !== 'object') return 0;
  let n = inList ? 1 : 0;
  for (const v of Object.values(value)) n += listItems(v, false);
  return n;
}

/** The actual cost of the `__schema` and `__type` fields at the root of an answer, as cost.ts counts them. */
function introspectionActual(operation: OperationDefinitionNode, data: Record<string, unknown>): number {
  let total = 0;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || (selection.name.value !== '__schema' && selection.name.value !== '__type')) continue;
    total += 1 + Math.ceil(listItems(data[selection.alias?.value ?? selection.name.value]) / INTROSPECTION_ITEMS_PER_POINT);
  }
  return total;
}

function fieldDefOf(parentFields: Record<string, GraphQLField<unknown, unknown>>, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
  if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  return parentFields[name];
}

/**
 * Cost and rate limits as an Apollo plugin: computes the requested cost once the operation is
 * known, refuses it over QUERY_LIMITS.maxCost (400, MAX_COST_EXCEEDED) or over what the caller's
 * bucket holds (429, THROTTLED, Retry-After), counts the actual cost while resolving, gives back
 * the difference, and puts `extensions.cost` on every response. Also masks any "Did you mean"
 * left in production, and answers automatic persisted queries (not supported) with a 400.
 */
export function costPlugin(schema: GraphQLSchema, config: Pick<Config, 'nodeEnv' | 'rateLimitMaxCost' | 'rateLimitRestoreRate'>,
  buckets = new CostBuckets()): ApolloServerPlugin<RequestContext> {
  const sizes = introspectionSizes(schema);
  const mutationType = schema.getMutationType()?.name;
  const throttling = config.rateLimitMaxCost > 0;
  // A field's own unit, worked out once per field of the schema (period reports, whose unit depends
  // on their arguments, every time): a batch answer resolves thousands of fields.
  const ownCosts = new WeakMap<GraphQLField<unknown, unknown>, { own: number; perItem: boolean }>();
  const ownCost = (parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>, args: Record<string, unknown>) => {
    let cost = ownCosts.get(field);
    if (cost) return cost;
    cost = fieldCost(parent, field, args, sizes, mutationType);
    if (!ownCostDependsOnArgs(parent, field)) ownCosts.set(field, cost);
    return cost;
  };
  // Requested costs of documents whose cost reads no variable, by operation name ('' when
  // anonymous): Apollo hands back the same parsed document for the same query text.
  const fixedCosts = new WeakMap<DocumentNode, Map<string, number> | null>();
  const costOf = (document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown> | undefined): number => {
    let known = fixedCosts.get(document);
    if (known === undefined) {
      known = costDependsOnVariables(document) ? null : new Map();
      fixedCosts.set(document, known);
    }
    if (known === null) return requestedCost(schema, sizes, document, operationName, variables);
    let cost = known.get(operationName ?? '');
    if (cost === undefined) {
      cost = requestedCost(schema, sizes, document, operationName, variables);
      known.set(operationName ?? '', cost);
    }
    return cost;
  };
  return {
    async requestDidStart({ contextValue }) {
      const key = bucketKey(contextValue);
      const size = bucketSize(config, contextValue);
      // Never more than the caller's whole bucket, or the request could never pass.
      const maxCost = throttling ? Math.min(QUERY_LIMITS.maxCost, size.maximumAvailable) : QUERY_LIMITS.maxCost;
      let requested = 0;
      let data = 0;
      let charged = 0;
      let introspection = 0;
      const actual = () => data + introspection;
      return {
        async didResolveOperation({ document, operationName, request }) {
          try {
            requested = costOf(document, operationName ?? undefined, request.variables);
          } catch (error) {
            // Variables that do not fit are reported by execution, with their own message.
            if (!(error instanceof GraphQLError) || !/maximum allowed number of nodes/.test(error.message)) return;
            requested = Number.MAX_SAFE_INTEGER;
          }
          if (requested > maxCost) {
            throw new GraphQLError(`Query cost ${requested === Number.MAX_SAFE_INTEGER ? 'too large to count' : requested} is over the limit of ${maxCost} a request: ask for fewer items (first), fewer reports or a shorter period`,
              { extensions: { code: 'MAX_COST_EXCEEDED', maxCost, http: { status: 400 } } });
          }
          if (!throttling) return;
          const taken = buckets.take(key, size, requested);
          if (!taken.ok) {
            throw new GraphQLError(`Throttled: this query costs ${requested} and ${taken.status.currentlyAvailable} of ${size.maximumAvailable} are available (restored at ${size.restoreRate} a second); retry after ${taken.retryAfterSeconds} s`,
              { extensions: { code: 'THROTTLED', retryAfterSeconds: taken.retryAfterSeconds,
                // Apollo reads a HeaderMap here; @graphql-tools' augmentation of GraphQLErrorExtensions types it as a record.
                http: { status: 429, headers: new HeaderMap([['retry-after', String(taken.retryAfterSeconds)]]) as unknown as Record<string, string> } } });
          }
          charged = requested;
        },
        async executionDidStart() {
          return {
            willResolveField({ info, args }) {
              const field = fieldDefOf(info.parentType.getFields() as Record<string, GraphQLField<unknown, unknown>>, info.fieldName);
              if (!field) return;
              const { own, perItem } = ownCost(info.parentType, field, args as Record<string, unknown>);
              if (own === 0) return;
              if (!perItem) {
                data += own;
                return;
              }
              // A list of objects costs its unit once per item it really holds.
              return (_error, result) => {
                if (Array.isArray(result)) data += own * result.length;
              };
            },
          };
        },
        async willSendResponse({ response, errors, operation }) {
          // graphql-js resolves introspection itself (no willResolveField): count what came back.
          if (operation && response.body.kind === 'single' && response.body.singleResult.data) {
            introspection = introspectionActual(operation, response.body.singleResult.data);
          }
          let throttleStatus: ThrottleStatus | null = null;
          if (throttling) throttleStatus = buckets.settle(key, size, charged ? charged - actual() : 0);
          if (errors?.some((e) => e.extensions?.code === 'PERSISTED_QUERY_NOT_SUPPORTED')) response.http.status = 400;
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (config.nodeEnv === 'production' && result.errors) {
            result.errors = result.errors.map((e) => (/Did you mean/.test(e.message) ? { ...e, message: e.message.replace(/\s*Did you mean[^?]*\?/g, '') } : e));
          }
          const cost: CostExtension = { requestedQueryCost: requested, actualQueryCost: actual(), throttleStatus };
          result.extensions = { ...result.extensions, cost };
        },
      };
    },
  };
}
