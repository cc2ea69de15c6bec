import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { RequestRecord } from './observe';

/**
 * Prometheus metrics of this process (prom-client), served as text on /metrics.
 * One registry per process: Prometheus scrapes each instance, and jobs in src/modules count into it
 * through the one-line hooks below.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Operation names a client chose become label values: past this many distinct ones, "other". */
const MAX_OPERATION_NAMES = 500;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const operationNames = new Set<string>();

const requests = new Counter({
  name: 'hub_graphql_requests_total',
  help: 'GraphQL requests by operation name and outcome (ok, user_errors, errors, rejected)',
  labelNames: ['operation', 'outcome'] as const,
  registers: [registry],
});
const latency = new Histogram({
  name: 'hub_graphql_request_duration_seconds',
  help: 'GraphQL request duration from arrival to the last byte sent, by operation name',
  labelNames: ['operation'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const postings = new Counter({
  name: 'hub_postings_total',
  help: 'Ledger postings returned by mutations, by transaction type (an idempotent replay returns, and counts, its posting again)',
  labelNames: ['type'] as const,
  registers: [registry],
});
const userErrors = new Counter({
  name: 'hub_user_errors_total',
  help: 'userErrors returned by mutations, by code',
  labelNames: ['code'] as const,
  registers: [registry],
});
const jobRuns = new Counter({
  name: 'hub_job_runs_total',
  help: 'Background job runs by job and outcome (ok, failed)',
  labelNames: ['job', 'outcome'] as const,
  registers: [registry],
});

const webhookAttempts = new Counter({
  name: 'hub_webhook_attempts_total',
  help: 'Webhook delivery attempts by outcome: delivered, retry (failed, another attempt scheduled), failed (the last attempt failed)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** One-line hook for the webhook worker, after each attempt. */
export function countWebhookAttempt(outcome: 'delivered' | 'retry' | 'failed'): void {
  webhookAttempts.inc({ outcome });
}

const sources = new Set<DataSource>();
new Gauge({
  name: 'hub_outbox_lag_seconds',
  help: 'Outbox lag: age of the oldest event not yet fanned out to endpoints (fan_out), and how overdue the most overdue pending delivery to an enabled endpoint is (delivery)',
  labelNames: ['stage'] as const,
  registers: [registry],
  async collect() {
    const db = sources.values().next().value as DataSource | undefined;
    if (!db) return;
    try {
      const [row] = await db.query(`SELECT
          COALESCE(EXTRACT(EPOCH FROM now() - (SELECT min(occurred_at) FROM event_pending)), 0)::float8 AS fan_out,
          COALESCE(EXTRACT(EPOCH FROM now() - (SELECT min(d.next_attempt_at) FROM webhook_delivery d JOIN webhook_endpoint ep ON ep.id = d.endpoint_id AND ep.enabled
            WHERE d.status = 'PENDING' AND d.next_attempt_at <= now())), 0)::float8 AS delivery`);
      this.set({ stage: 'fan_out' }, Math.max(0, Number(row.fan_out)));
      this.set({ stage: 'delivery' }, Math.max(0, Number(row.delivery)));
    } catch {
      // the database is away: /healthz says so; the gauge keeps its last value
    }
  },
});

const pools = new Set<Pool>();
new Gauge({
  name: 'hub_db_pool_connections',
  help: 'PostgreSQL connections of this process: total open, idle, and requests waiting for one',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    let total = 0, idle = 0, waiting = 0;
    for (const pool of pools) {
      total += pool.totalCount;
      idle += pool.idleCount;
      waiting += pool.waitingCount;
    }
    this.set({ state: 'total' }, total);
    this.set({ state: 'idle' }, idle);
    this.set({ state: 'waiting' }, waiting);
  },
});

/** Counts a data source's pg pool in hub_db_pool_connections until the returned function is called. */
export function watchPool(db: DataSource): () => void {
  const pool = (db.driver as unknown as { master?: Pool }).master;
  sources.add(db);
  if (!pool) return () => sources.delete(db);
  pools.add(pool);
  return () => {
    pools.delete(pool);
    sources.delete(db);
  };
}

/** One-line hook for background jobs: `countJobRun('expiry', 'ok')` after each run. */
export function countJobRun(job: string, outcome: 'ok' | 'failed'): void {
  jobRuns.inc({ job, outcome });
}

/** The operation label: the name when valid and among the first 500 seen, "anonymous", "invalid" (not parsed/validated) or "other". */
export function operationLabel(record: RequestRecord): string {
  if (!record.resolved) return 'invalid';
  const name = record.operation;
  if (!name) return 'anonymous';
  if (!OPERATION_NAME.test(name)) return 'other';
  if (!operationNames.has(name)) {
    if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    operationNames.add(name);
  }
  return name;
}

/** ok, user_errors, errors (GraphQL errors), or rejected (an HTTP error before or instead of GraphQL). */
export function outcomeLabel(record: RequestRecord, status: number): 'ok' | 'user_errors' | 'errors' | 'rejected' {
  if (record.errorCodes.length) return 'errors';
  if (status >= 400) return 'rejected';
  if (record.userErrorCodes.length) return 'user_errors';
  return 'ok';
}

/** Counts a finished request that came to /graphql (GraphiQL pages excluded). */
export function observeRequest(record: RequestRecord, status: number, seconds: number): void {
  if (!record.graphql && status < 400) return;
  const operation = operationLabel(record);
  requests.inc({ operation, outcome: outcomeLabel(record, status) });
  latency.observe({ operation }, seconds);
  for (const code of record.userErrorCodes) userErrors.inc({ code });
  for (const type of record.postingTypes) postings.inc({ type });
}

/** Writes the Prometheus text exposition. */
export async function serveMetrics(res: ServerResponse): Promise<void> {
  const text = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType });
  res.end(text);
}

/** METRICS_PORT: /metrics on a port of its own (and then not on the API port). */
export async function startMetricsServer(port: number): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not found: metrics are served on /metrics\n');
      return;
    }
    serveMetrics(res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, resolveListen);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeIdleConnections();
    }),
  };
}
