import { ApolloServer, HeaderMap, HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLFormattedError } from 'graphql';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { Config } from '../config';
import { Logger } from '../common/logger';
import { VerifiedTokens } from './auth';
import { RequestContext, createLoaders } from './context';
import { LIMIT_ERROR_CODES, QUERY_LIMITS, armor, costPlugin, introspectionDepthRule } from './limits';
import { serveGraphiQL, wantsGraphiQL } from './graphiql';
import { serveMetrics, startMetricsServer, watchPool } from './metrics';
import { RequestRecord, bindRecord, observePlugin } from './observe';
import { beginRequest, finishRequest } from './request-log';
import { buildAppSchema } from './schema';

/** Codes a client may see with their message; anything else is a fault of ours, masked outside development. */
const CLIENT_ERROR_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE', ...LIMIT_ERROR_CODES]);

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Read on and drop the rest, so the 413 reaches a client that is still sending.
        chunks.length = 0;
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export interface HttpApp {
  server: Server;
  url: string;
  /** Where /metrics is served (the API port unless METRICS_PORT). */
  metricsUrl: string;
  close(): Promise<void>;
}

/**
 * The HTTP side: POST/GET /graphql through Apollo Server on Node's http module, GET /healthz.
 * Holds no state between requests, so any number of instances can serve one database.
 */
export async function startHttpServer(db: DataSource, config: Config, log: Logger, port = config.port): Promise<HttpApp> {
  const schema = await buildAppSchema();
  const limits = armor(config);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    // Apollo's landing page loads from a CDN: off everywhere; browsers get GraphiQL (graphiql.ts).
    // Cache control is off: no type carries a cache hint (answers are per caller), and its
    // per-field hook cost every answer a walk over all its fields.
    plugins: [...limits.plugins, costPlugin(schema, config), ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), observePlugin()],
    validationRules: [...limits.validationRules, introspectionDepthRule(QUERY_LIMITS.maxIntrospectionDepth)],
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: config.exposeErrors,
    introspection: config.introspection,
    // Nothing here uses automatic persisted queries: a request that sends one is a 400 (costPlugin).
    persistedQueries: false,
    formatError: (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
      const code = formatted.extensions?.code;
      if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return formatted;
      log.error('unexpected error in a GraphQL request', unwrapResolverError(error));
      if (config.exposeErrors) return formatted;
      return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    },
  });
  await apollo.start();

  const tokens = new VerifiedTokens(config.jwtSecret);
  const contextFor = (req: IncomingMessage): RequestContext => {
    const ctx: RequestContext = { caller: undefined, db, config, loaders: createLoaders(db), clientAddress: req.socket.remoteAddress };
    const header = req.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const verified = match ? tokens.verify(match[1]!) : { invalid: 'Authorization must be "Bearer <token>"' };
      if ('invalid' in verified) ctx.authFailure = verified.invalid;
      else ctx.caller = verified;
    }
    return ctx;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, record: RequestRecord): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/metrics' && config.metricsPort === undefined) return serveMetrics(res);
    if (url.pathname === '/healthz') {
      try {
        await db.query('SELECT 1');
        return sendJson(res, 200, { status: 'ok' });
      } catch {
        return sendJson(res, 503, { status: 'database unavailable' });
      }
    }
    if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'Not found: GraphQL is served on /graphql' });
    if (wantsGraphiQL(req, url)) return serveGraphiQL(req, res);
    let body: unknown;
    if (req.method === 'POST') {
      let text: string;
      try {
        text = await readBody(req, QUERY_LIMITS.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) return sendJson(res.setHeader('connection', 'close'), 413, { errors: [{ message: `Request body over ${QUERY_LIMITS.maxBodyBytes} bytes`, extensions: { code: 'BAD_REQUEST' } }] });
        throw error;
      }
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
      }
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: req.method?.toUpperCase() ?? 'GET', headers, search: url.search, body };
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => bindRecord(contextFor(req), record) });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };

  const server = createServer((req, res) => {
    const record = beginRequest(req, res);
    finishRequest(record, res, log);
    handle(req, res, record).catch((error: unknown) => {
      log.error('request failed', error);
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, resolveListen);
  });
  const address = server.address() as AddressInfo;
  const unwatchPool = watchPool(db);
  const metricsServer = config.metricsPort === undefined ? undefined
    : await startMetricsServer(config.metricsPort).catch((error: unknown) => {
      unwatchPool();
      server.close();
      throw error;
    });
  return {
    server,
    url: `http://localhost:${address.port}/graphql`,
    metricsUrl: `http://localhost:${metricsServer?.port ?? address.port}/metrics`,
    close: async () => {
      unwatchPool();
      await metricsServer?.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      });
      await apollo.stop();
    },
  };
}
