import { ApolloArmor } from '@escape.tech/graphql-armor';

/**
 * Query limits: depth, aliases, directives and cost (graphql-armor validation rules) and tokens
 * (the parser's own limit) are checked before execution, so a rejected query is a 400 and never
 * reaches a resolver.
 */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 20,
  maxDirectives: 20,
  /** A recordPurchases batch of 1000 travels in variables, not in the query text. */
  maxTokens: 2000,
  maxCost: 20000,
  /** The HTTP body: enough for a batch of 1000 purchases with lines. */
  maxBodyBytes: 1024 * 1024,
};

export function armor() {
  return new ApolloArmor({
    maxDepth: { n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true },
    maxAliases: { n: QUERY_LIMITS.maxAliases },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives },
    // Counted by graphql-js's own parser instead (Apollo parseOptions): armor's token plugin
    // throws outside validation, which Apollo answers with a 500.
    maxTokens: { enabled: false },
    costLimit: { maxCost: QUERY_LIMITS.maxCost, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: false },
  }).protect();
}
