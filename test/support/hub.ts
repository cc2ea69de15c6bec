import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { Caller, Role, signToken } from '../../src/api/auth';
import { HttpApp, startHttpServer } from '../../src/api/http-server';
import { Logger, createLogger } from '../../src/common/logger';
import { Config } from '../../src/config';
import { closeWebhookConnections } from '../../src/modules/webhook/webhook.worker';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown }; path?: string[] }[];
}

/** A running hub on its own fresh database, driven through real HTTP. */
export interface TestHub {
  url: string;
  db: DataSource;
  databaseUrl: string;
  config: Config;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  token(caller: Caller, ttlSeconds?: number): string;
  admin: string;
  /** Another server instance, with its own connection pool, on the same database. */
  startAnotherServer(): Promise<HttpApp>;
  close(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.TEST_DATABASE_SERVER_URL;
  assert.ok(url, 'TEST_DATABASE_SERVER_URL is unset: run the tests through jest (see jest.config.js)');
  return url;
}

export async function post(url: string, body: unknown, token?: string): Promise<GraphQLResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Omit<GraphQLResponse, 'status'> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { errors: [{ message: text }] };
  }
  return { status: res.status, ...json };
}

/** Creates a database, runs the migrations on it, and starts the HTTP server on a free port. */
/** `log`: the hub's logger (tests read the request log from it); `config`: settings over the test defaults. */
export async function startTestHub(options: { poolSize?: number; log?: Logger; config?: Partial<Config> } = {}): Promise<TestHub> {
  const name = `hub_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const databaseUrl = Object.assign(new URL(serverUrl()), { pathname: `/${name}` }).toString();
  const poolSize = options.poolSize ?? 10;
  const db = createDataSource(databaseUrl, poolSize);
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  const config: Config = {
    port: 0, databaseUrl, dataDir: '/nonexistent', jwtSecret: randomBytes(32).toString('hex'), nodeEnv: 'test',
    dbPoolSize: poolSize, exposeErrors: false, logLevel: 'silent', expiryIntervalSeconds: 0, settlementGraceSeconds: 0,
    commissionApprovalIntervalSeconds: 0, expiryReminderIntervalSeconds: 0,
    webhookAllowPrivate: true, webhookPollMs: 0,
    // Cost buckets too big for any test to spend (the throttle is tested with a small one).
    introspection: true, rateLimitMaxCost: 1_000_000_000, rateLimitRestoreRate: 1_000_000_000,
    ...options.config,
  };
  const log = options.log ?? createLogger(process.env.TEST_LOG === '1' ? 'info' : 'silent');
  const apps: HttpApp[] = [await startHttpServer(db, config, log, 0)];
  const others: DataSource[] = [];
  const token = (caller: Caller, ttl = 3600) => signToken(config.jwtSecret, caller, ttl);
  return {
    url: apps[0]!.url,
    db,
    databaseUrl,
    config,
    token,
    admin: token({ role: Role.ADMIN }),
    gql: async (query, variables, tok) => post(apps[0]!.url, { query, variables }, tok),
    startAnotherServer: async () => {
      const otherDb = createDataSource(databaseUrl, poolSize);
      await otherDb.initialize();
      others.push(otherDb);
      const app = await startHttpServer(otherDb, config, log, 0);
      apps.push(app);
      return app;
    },
    close: async () => {
      for (const app of apps) await app.close();
      await closeWebhookConnections();
      for (const other of others) await other.destroy();
      await db.destroy();
      const cleanup = new Client({ connectionString: serverUrl() });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
