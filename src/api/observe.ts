import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLResolveInfo } from 'graphql';
import type { Caller } from './auth';
import type { RequestContext } from './context';

/**
 * What the hub learns about one HTTP request while serving it, for the request log line
 * (request-log.ts) and the metrics (metrics.ts), both written when the response has been sent.
 */
export interface RequestRecord {
  id: string;
  /** process.hrtime.bigint() at arrival. */
  startedAt: bigint;
  method: string;
  path: string;
  /** Set once Apollo resolved the operation: its name, or undefined when anonymous. */
  operation?: string;
  operationType?: 'query' | 'mutation' | 'subscription';
  /** Apollo parsed and validated the document and picked the operation. */
  resolved: boolean;
  /** The request reached GraphQL (not a 413, 404, GraphiQL page, …). */
  graphql: boolean;
  caller?: Caller;
  /** userErrors codes returned by root mutation fields, in order. */
  userErrorCodes: string[];
  /** GraphQL error codes (extensions.code) in the response. */
  errorCodes: string[];
  /** Transaction types of the postings root mutation fields returned. */
  postingTypes: string[];
}

/** A symbol-keyed property, because Apollo copies the context object (own properties) per operation. */
const RECORD = Symbol('requestRecord');

/** Ties a request's context to its record, so the plugin can fill it in. Returns the context. */
export function bindRecord<T extends object>(context: T, record: RequestRecord): T {
  Object.defineProperty(context, RECORD, { value: record, enumerable: true });
  return context;
}

function recordOf(context: object): RequestRecord | undefined {
  return (context as { [RECORD]?: RequestRecord })[RECORD];
}

/**
 * Walks a root mutation field's resolved payload (the resolver's value, whatever the client selected)
 * for `userErrors` arrays and `transaction` objects with a `type`, a few levels deep (batch payloads
 * hold a list of results).
 */
export function collectFromPayload(value: unknown, record: Pick<RequestRecord, 'userErrorCodes' | 'postingTypes'>, depth = 0): void {
  if (depth > 3 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectFromPayload(item, record, depth + 1);
    return;
  }
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'userErrors' && Array.isArray(field)) {
      for (const e of field) if (e && typeof (e as { code?: unknown }).code === 'string') record.userErrorCodes.push((e as { code: string }).code);
    } else if ((key === 'transaction' || key === 'transactions') && field && typeof field === 'object') {
      for (const t of Array.isArray(field) ? field : [field]) {
        const type = (t as { type?: unknown } | null)?.type;
        if (typeof type === 'string') record.postingTypes.push(type);
      }
    } else if (key === 'results' || key === 'items') {
      collectFromPayload(field, record, depth + 1);
    }
  }
}

/**
 * The Apollo plugin that fills the RequestRecord: operation name and type, caller, GraphQL error
 * codes, and, for mutations only (queries pay nothing), the userErrors codes and posting types of
 * each root field's payload.
 */
export function observePlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const record = recordOf(contextValue);
      if (!record) return {};
      record.graphql = true;
      record.caller = contextValue.caller;
      return {
        async didResolveOperation({ operation, operationName }) {
          record.resolved = true;
          record.operation = operationName ?? operation?.name?.value ?? undefined;
          record.operationType = operation?.operation;
        },
        async executionDidStart({ operation }) {
          if (operation?.operation !== 'mutation') return {};
          return {
            willResolveField({ info }: { info: GraphQLResolveInfo }) {
              if (info.path.prev !== undefined) return undefined;
              return (error: Error | null, result: unknown) => {
                if (!error) collectFromPayload(result, record);
              };
            },
          };
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          for (const error of response.body.singleResult.errors ?? []) {
            const code = error.extensions?.code;
            record.errorCodes.push(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
          }
        },
      };
    },
  };
}
