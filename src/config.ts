import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Everything the process reads from its environment, validated in one place. */
export interface Config {
  port: number;
  /** Unset: an embedded PostgreSQL is started under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  jwtSecret: string;
  nodeEnv: string;
  /** Connections the app keeps to PostgreSQL. */
  dbPoolSize: number;
  /** Stack traces and internal messages in GraphQL errors: development only. */
  exposeErrors: boolean;
  logLevel: 'silent' | 'error' | 'info';
  /** How often this server runs the expiry job; 0: never (several servers may all run it). */
  expiryIntervalSeconds: number;
  /** How often this server stores approvals of commissions whose hold ended (commission.approved); 0: never. */
  commissionApprovalIntervalSeconds: number;
  /** How often this server writes points.expiring reminders; 0: never (several servers may all run it). */
  expiryReminderIntervalSeconds: number;
  /** How long after a period's end it may be closed: postings still in flight at the end must have committed. */
  settlementGraceSeconds: number;
  /** METRICS_PORT: /metrics on this port only; unset: on the API port. */
  metricsPort?: number;
  /** Webhooks may target http and loopback/private addresses (development and tests only). */
  webhookAllowPrivate: boolean;
  /** Pause between the webhook worker's ticks, ms; 0: this server delivers nothing. */
  webhookPollMs: number;
  /** Introspection (`__schema`, `__type`): off in production unless GRAPHQL_INTROSPECTION=true. */
  introspection: boolean;
  /** A caller's bucket of query cost (RATE_LIMIT_MAX_COST), points; 0: no throttling. */
  rateLimitMaxCost: number;
  /** Points a caller's bucket gets back each second (RATE_LIMIT_RESTORE_RATE). */
  rateLimitRestoreRate: number;
}

export const JWT_ISSUER = 'coalition-hub';
export const JWT_AUDIENCE = 'coalition-hub';

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function boolFromEnv(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new Error(`${name} must be true or false, got "${raw}"`);
  return raw === 'true';
}

/**
 * The JWT secret: JWT_SECRET when set; otherwise (outside production) one generated once and kept
 * under DATA_DIR, so that the server and the token CLI sign with the same key.
 */
export function resolveJwtSecret(dataDir: string, nodeEnv: string): string {
  const fromEnv = process.env.JWT_SECRET;
  if (fromEnv) {
    if (fromEnv.length < 32) throw new Error('JWT_SECRET must be at least 32 characters');
    return fromEnv;
  }
  if (nodeEnv === 'production') throw new Error('JWT_SECRET is required when NODE_ENV=production');
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

export function loadConfig(): Config {
  // Unset is neither: no stack traces (development only) and a generated secret (not production).
  const nodeEnv = process.env.NODE_ENV ?? '';
  const dataDir = resolve(process.env.DATA_DIR || './.data');
  const logLevel = process.env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info');
  if (logLevel !== 'silent' && logLevel !== 'error' && logLevel !== 'info') {
    throw new Error(`LOG_LEVEL must be silent, error or info, got "${logLevel}"`);
  }
  return {
    port: intFromEnv('PORT', 4000, 0, 65535),
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir,
    jwtSecret: resolveJwtSecret(dataDir, nodeEnv),
    nodeEnv,
    dbPoolSize: intFromEnv('DB_POOL_SIZE', 20, 1, 500),
    exposeErrors: nodeEnv === 'development',
    logLevel,
    expiryIntervalSeconds: intFromEnv('EXPIRY_INTERVAL_SECONDS', 3600, 0, 31 * 86400),
    commissionApprovalIntervalSeconds: intFromEnv('COMMISSION_APPROVAL_INTERVAL_SECONDS', 60, 0, 86400),
    expiryReminderIntervalSeconds: intFromEnv('EXPIRY_REMINDER_INTERVAL_SECONDS', 3600, 0, 86400),
    settlementGraceSeconds: intFromEnv('SETTLEMENT_GRACE_SECONDS', 60, 0, 86400),
    metricsPort: process.env.METRICS_PORT ? intFromEnv('METRICS_PORT', 0, 0, 65535) : undefined,
    webhookAllowPrivate: process.env.WEBHOOK_ALLOW_PRIVATE === 'true',
    webhookPollMs: intFromEnv('WEBHOOK_POLL_MS', 500, 0, 3_600_000),
    introspection: boolFromEnv('GRAPHQL_INTROSPECTION', nodeEnv !== 'production'),
    rateLimitMaxCost: intFromEnv('RATE_LIMIT_MAX_COST', 20_000, 0, 1_000_000_000),
    rateLimitRestoreRate: intFromEnv('RATE_LIMIT_RESTORE_RATE', 1000, 1, 1_000_000_000),
  };
}
