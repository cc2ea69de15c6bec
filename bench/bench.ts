import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Pool } from 'pg';
import { createDataSource } from '../ormconfig';
import { Role, signToken } from '../src/api/auth';
import { freePort, startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { uuidv7 } from '../src/common/ids';
import { AccountType, LotState, emptyChanges, memberEntries } from '../src/modules/ledger/ledger.rules';
import { loadExpiredPoints, lockMembers, writePosting } from '../src/modules/ledger/ledger.store';
import { transactionPostedEvents } from '../src/modules/posting/transaction.events';
import type { QueryRunner } from 'typeorm';
import { cpuSeconds, postgresCpuSeconds } from './proc-cpu';
import { ReceiverCounts, forkReceivers } from './webhook-receivers';

/**
 * npm run bench — throughput and latency, measured side by side in one run on this machine:
 * GraphQL over HTTP against the same writes and reads issued as raw SQL through pg (the floor the
 * design could reach). Starts its own embedded PostgreSQL (fsync on, as in production) and a
 * server process; prints events/s, p50/p99 and the ratios. Not part of the tests.
 */

const CONNECTIONS = 32;
const MEMBERS_PER_CONNECTION = 100;
const PARTNERS = 32;
/** How long a phase runs (ms); BENCH_WARMUP_MS sets the warm-up's (default twice a phase). */
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 6000);
/**
 * Each of (a)'s and (f)'s two halves (ms): a whole phase. With 3 s halves one run's f/a moved by
 * ±0.08 from the next on this box, and the deliveries of an (f) half's last ~0.5 s (the delivery lag)
 * are sent after it, uncounted: a larger share of a shorter half.
 */
const AF_HALF_MS = Number(process.env.BENCH_AF_HALF_MS ?? PHASE_MS);
/**
 * Blocks of (a) and (f) measured in the order a, f, f, a (BENCH_AF_BLOCKS, default 2): f/a is taken
 * over all of them. On this shared box one 6 s half runs up to 15 % faster or slower than the next
 * for reasons of its own (other tenants); more halves average that out.
 */
const AF_BLOCKS = Number(process.env.BENCH_AF_BLOCKS ?? 2);
/** BENCH_ONLY=a,tpcb,d1,… runs only the phases whose label starts with one of these (others print as skipped); no settlement. */
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => `(${s.trim()})`);
const BATCH_SIZE = 500;
/** (c2): batches over members that several connections share. */
const SHARED_CONNECTIONS = 4;
const SHARED_MEMBERS = 256;
/** Scale of the TPC-B-like reference (pgbench's accounts: 100,000 a unit of scale). */
const TPCB_SCALE = 10;
/** The coalition currency of a fresh database (the migrations' default), for the raw references' outbox events. */
const BENCH_CURRENCY = { code: 'EUR', exponent: 2 };

/**
 * Where a phase's cost went: CPU of the server process and of PostgreSQL per event, and WAL bytes
 * per event, read before and after the phase.
 */
interface Probe {
  /** The process whose CPU counts as the server's: the hub, or a reference server. */
  serverPid: number;
  snapshot(): Promise<{ server: number; postgres: number; walLsn: string }>;
  walBytes(from: string, to: string): Promise<number>;
}
let probe: Probe | undefined;

/**
 * BENCH_PG_STATS=1: PostgreSQL loads pg_stat_statements (with planning time) for the bench only,
 * and each phase prints its statements: calls per event, planning and execution time per call (ms)
 * and per event (µs), shared buffers (hit or read) and WAL per call — where PostgreSQL's time of a phase goes, statement by statement.
 */
const PG_STATS = process.env.BENCH_PG_STATS === '1';
let statsPool: Pool | undefined;

async function statementsReport(events: number): Promise<string> {
  if (!statsPool || events <= 0) return '';
  const { rows: found } = await statsPool.query<{ query: string; calls: string; plans: string; plan_ms: number; exec_ms: number; wal: string; buffers: string }>(
    `SELECT regexp_replace(left(query, 400), '\\s+', ' ', 'g') AS query, calls, plans, total_plan_time AS plan_ms, total_exec_time AS exec_ms, wal_bytes::bigint AS wal,
            shared_blks_hit + shared_blks_read AS buffers
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_current_wal_lsn%' AND query NOT LIKE '%pg_wal_lsn_diff%'
     ORDER BY total_plan_time + total_exec_time DESC LIMIT 8`);
  await statsPool.query('SELECT pg_stat_statements_reset()');
  const lines = found.map((r) => {
    const calls = Number(r.calls);
    const perEvent = ((r.plan_ms + r.exec_ms) * 1000) / events;
    return `      ${(calls / events).toFixed(2).padStart(6)}/event  ${perEvent.toFixed(0).padStart(5)} µs/event  plan ${(r.plan_ms / Math.max(1, Number(r.plans))).toFixed(3)} ms (${r.plans} plans)  exec ${(r.exec_ms / calls).toFixed(3)} ms  ${(Number(r.buffers) / calls).toFixed(1)} buf  WAL ${(Number(r.wal) / calls).toFixed(0)} B  ${r.query.slice(0, 150)}`;
  });
  return `\n${lines.join('\n')}`;
}

interface PhaseResult {
  name: string;
  events: number;
  seconds: number;
  latencies: number[];
  errors: number;
  /** CPU seconds the server and PostgreSQL used during the phase (0 without a probe). */
  serverCpu?: number;
  postgresCpu?: number;
}

const rate = (r: PhaseResult) => r.events / r.seconds;
function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
}

/** Two runs of one workload as one: events, seconds and latencies added up, named `name`. */
function together(name: string, x: PhaseResult, y: PhaseResult): PhaseResult {
  return { name, events: x.events + y.events, seconds: x.seconds + y.seconds, latencies: [...x.latencies, ...y.latencies].sort((p, q) => p - q), errors: x.errors + y.errors,
    serverCpu: (x.serverCpu ?? 0) + (y.serverCpu ?? 0), postgresCpu: (x.postgresCpu ?? 0) + (y.postgresCpu ?? 0) };
}

/**
 * Idempotency-key prefixes for one run (`nonce`: random per run): `keysOf(phaseId)` is
 * `<nonce>-<phaseId>`, and a phase id asked for twice throws — two phases sharing keys would make
 * the later one replay the earlier one's postings (an idempotent replay is cheap) and look faster.
 */
function phaseKeys(nonce: string): (phaseId: string) => string {
  const used = new Set<string>();
  return (phaseId) => {
    if (used.has(phaseId)) throw new Error(`bench: phase id ${phaseId} used twice`);
    used.add(phaseId);
    return `${nonce}-${phaseId}`;
  };
}

/**
 * After a writing phase: the transactions posted since `since` (taken before the phase started)
 * whose idempotency key starts with `keys-` must be exactly the events the phase counted — fewer
 * means some calls replayed keys written before (an idempotent replay writes nothing and is cheap)
 * or were lost. A mismatch is printed and counted as one error of the phase (the `errors:` line).
 */
async function checkKeys(pool: Pool, keys: string, since: Date, result: PhaseResult): Promise<PhaseResult> {
  const written = Number((await pool.query(`SELECT count(*) AS n FROM ledger_transaction WHERE idempotency_key LIKE $1 AND posted_at >= $2`,
    [`${keys}-%`, since])).rows[0].n);
  if (written === result.events) return result;
  console.error(`${result.name}: ${result.events} events counted but ${written} transactions written during the phase with its keys (${keys}-…)`);
  return { ...result, errors: result.errors + 1 };
}

/** Runs `worker(connection, iteration)` on `connections` loops for `ms` (PHASE_MS); each call returns how many events it did. */
async function phase(name: string, worker: (connection: number, i: number) => Promise<number>, connections = CONNECTIONS, ms = PHASE_MS): Promise<PhaseResult> {
  if (ONLY && !name.startsWith('warm-up') && !ONLY.some((p) => name.startsWith(p))) return { name, events: 0, seconds: 1, latencies: [], errors: 0 };
  const latencies: number[] = [];
  let events = 0;
  let errors = 0;
  if (statsPool) await statsPool.query('SELECT pg_stat_statements_reset()');
  const before = await probe?.snapshot();
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(Array.from({ length: connections }, async (_, c) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const t0 = performance.now();
      try {
        const done = await worker(c, i); // not `events += await …`: that reads `events` before the await
        events += done;
      } catch (error) {
        errors++;
        if (errors <= 3) console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result: PhaseResult = { name, events, seconds, latencies, errors };
  let cost = '';
  if (probe && before && events > 0) {
    const after = await probe.snapshot();
    result.serverCpu = after.server - before.server;
    result.postgresCpu = after.postgres - before.postgres;
    const us = (s: number) => ((s * 1e6) / events).toFixed(0).padStart(5);
    cost = `   cpu/event server ${us(after.server - before.server)} µs, postgres ${us(after.postgres - before.postgres)} µs, WAL ${((await probe.walBytes(before.walLsn, after.walLsn)) / events).toFixed(0).padStart(5)} B`;
  }
  console.log(`${name.padEnd(58)} ${rate(result).toFixed(0).padStart(8)} events/s   p50 ${percentile(latencies, 50).toFixed(1).padStart(6)} ms   p99 ${percentile(latencies, 99).toFixed(1).padStart(6)} ms   errors ${errors}${cost}${await statementsReport(events)}`);
  return result;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function graphql(port: number, token: string, query: string, variables: unknown): Promise<any> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolveRequest, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (res.statusCode !== 200 || json.errors) reject(new Error(`HTTP ${res.statusCode}: ${JSON.stringify(json.errors ?? json).slice(0, 300)}`));
        else resolveRequest(json.data);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitForHealth(port: number, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (server.exitCode !== null) throw new Error('the server exited during start-up');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not answer /healthz within 30 s');
}

/** POST of a JSON body to a loopback port; the parsed JSON answer (any non-200 throws). */
function postJson(port: number, path: string, token: string, payload: unknown): Promise<any> {
  const body = JSON.stringify(payload);
  return new Promise((resolveRequest, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolveRequest(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error('the reference server exited during start-up');
    const up = await new Promise<boolean>((r) => {
      const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET' }, (res) => { res.resume(); r(true); });
      req.on('error', () => r(false));
      req.end();
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the reference server did not start within 10 s');
}

/**
 * The TPC-B-like reference (pgbench's default script: 5 statements in one transaction — update an
 * account, read it, update a teller and a branch, insert history) issued through pg by the bench,
 * against the same PostgreSQL, at scale 10, with named prepared statements.
 */
async function tpcbPhase(pool: Pool): Promise<PhaseResult> {
  await pool.query(`CREATE TABLE IF NOT EXISTS pgb_branches (bid int PRIMARY KEY, bbalance int NOT NULL, filler char(88)) WITH (fillfactor = 100);
    CREATE TABLE IF NOT EXISTS pgb_tellers (tid int PRIMARY KEY, bid int NOT NULL, tbalance int NOT NULL, filler char(84)) WITH (fillfactor = 100);
    CREATE TABLE IF NOT EXISTS pgb_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler char(84)) WITH (fillfactor = 100);
    CREATE TABLE IF NOT EXISTS pgb_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));`);
  await pool.query(`INSERT INTO pgb_branches SELECT b, 0, '' FROM generate_series(1, $1::int) b;
    INSERT INTO pgb_tellers SELECT t, (t - 1) / 10 + 1, 0, '' FROM generate_series(1, $1::int * 10) t;
    INSERT INTO pgb_accounts SELECT a, (a - 1) / 100000 + 1, 0, '' FROM generate_series(1, $1::int * 100000) a;`.replace(/\$1::int/g, String(TPCB_SCALE)));
  await pool.query('VACUUM ANALYZE pgb_branches, pgb_tellers, pgb_accounts, pgb_history');
  const random = (n: number) => 1 + Math.floor(Math.random() * n);
  return phase('(tpcb) TPC-B-like transaction through pg (5 statements)', async () => {
    const client = await pool.connect();
    try {
      const aid = random(TPCB_SCALE * 100000);
      const bid = random(TPCB_SCALE);
      const tid = random(TPCB_SCALE * 10);
      const delta = Math.floor(Math.random() * 10001) - 5000;
      await client.query('BEGIN');
      await client.query({ name: 'tpcb-1', text: 'UPDATE pgb_accounts SET abalance = abalance + $1 WHERE aid = $2', values: [delta, aid] });
      await client.query({ name: 'tpcb-2', text: 'SELECT abalance FROM pgb_accounts WHERE aid = $1', values: [aid] });
      await client.query({ name: 'tpcb-3', text: 'UPDATE pgb_tellers SET tbalance = tbalance + $1 WHERE tid = $2', values: [delta, tid] });
      await client.query({ name: 'tpcb-4', text: 'UPDATE pgb_branches SET bbalance = bbalance + $1 WHERE bid = $2', values: [delta, bid] });
      await client.query({ name: 'tpcb-5', text: 'INSERT INTO pgb_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)', values: [tid, bid, aid, delta] });
      await client.query('COMMIT');
      return 1;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  });
}

/**
 * Settlement at scale: obligation rows (the settlement events of redemptions between 20 partners)
 * are inserted by SQL into a past period, then the period is closed through GraphQL and timed
 * next to the plain GROUP BY over the same rows. At 100k rows and at 1M rows.
 */
async function settlementBench(pool: Pool, port: number, jwtSecret: string, allPartners: string[]): Promise<string> {
  const partners = allPartners.slice(0, 20);
  const admin = signToken(jwtSecret, { role: Role.ADMIN }, 3600);
  const out: string[] = ['settlement close (20 partners; rows inserted by SQL into a past period)'];
  const CLOSE = 'mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) { run { id } userErrors { code } } }';
  const READ = 'query($id: ID!) { settlementRun(id: $id) { lines { points } transfers { amount { amount } } } }';
  for (const [rowsWanted, month] of [[100_000, 1], [1_000_000, 2]] as const) {
    const start = new Date(Date.UTC(2020, month, 1));
    const end = new Date(Date.UTC(2020, month + 1, 1));
    const t0 = performance.now();
    await pool.query(`INSERT INTO obligation (member_id, id, transaction_id, kind, payer_type, payer_id, payee_type, payee_id, points, rate, posted_at)
      SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), CASE WHEN i % 10 = 0 THEN 'DEBT_RECOVERY' ELSE 'REDEMPTION' END,
        'PARTNER', ($1::uuid[])[1 + (i % 20)], 'PARTNER', ($1::uuid[])[1 + ((i / 20 + 1 + i % 19) % 20)], (1 + (i::bigint * 7919) % 500)::int,
        (0.005 + (i % 20) * 0.000125)::numeric(20,6), $2::timestamptz + (i % 2419200) * interval '1 second'
      FROM generate_series(1, $3::int) AS i`, [partners, start.toISOString(), rowsWanted]);
    await pool.query('ANALYZE obligation');
    const inserted = (performance.now() - t0) / 1000;
    const plain = `SELECT kind, payer_type, payer_id, payee_type, payee_id, sum(points), sum(points * rate) FROM obligation
      WHERE posted_at >= $1 AND posted_at < $2 GROUP BY kind, payer_type, payer_id, payee_type, payee_id`;
    await pool.query(plain, [start, end]); // warm the cache for both
    const q0 = performance.now();
    await pool.query(plain, [start, end]);
    const queryMs = performance.now() - q0;
    const c0 = performance.now();
    const closed = await graphql(port, admin, CLOSE, { input: { periodStart: start.toISOString(), periodEnd: end.toISOString() } });
    const closeMs = performance.now() - c0;
    if (closed.closeSettlementPeriod.userErrors.length) throw new Error(JSON.stringify(closed.closeSettlementPeriod.userErrors));
    const run = (await graphql(port, admin, READ, { id: closed.closeSettlementPeriod.run.id })).settlementRun;
    out.push(`  ${rowsWanted.toLocaleString('en').padStart(9)} rows: close ${closeMs.toFixed(0).padStart(5)} ms, plain GROUP BY ${queryMs.toFixed(0).padStart(5)} ms, ratio ${(closeMs / queryMs).toFixed(2)} [≤ 1.5; close < 5000 ms at 1M]; ${run.lines.length} lines, ${run.transfers.length} transfers (insert ${inserted.toFixed(1)} s)`);
  }
  return out.join('\n');
}

/**
 * What a purchase's deliveries cost in (f), in CPU µs a purchase: the server's and PostgreSQL's
 * above (a)'s (all halves of each), and the bench's receivers' own (their process, which runs on the
 * same cores: a receiver elsewhere would not count here). Empty without CPU figures.
 */
function deliveryCost(a: PhaseResult, f: PhaseResult, receiversMicros: number): string {
  if (!a.serverCpu || !f.serverCpu || !a.events || !f.events) return '';
  const perPurchase = (x: PhaseResult, cpu: 'serverCpu' | 'postgresCpu') => ((x[cpu] ?? 0) * 1e6) / x.events;
  const server = perPurchase(f, 'serverCpu') - perPurchase(a, 'serverCpu');
  const postgres = perPurchase(f, 'postgresCpu') - perPurchase(a, 'postgresCpu');
  const receivers = receiversMicros / f.events;
  const sign = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(0)}`;
  return `\n(f) a purchase's deliveries, CPU:                   server ${sign(server)} µs, PostgreSQL ${sign(postgres)} µs (each against (a)), the bench's receivers ${receivers.toFixed(0)} µs;`
    + ` a purchase in (a) ${(perPurchase(a, 'serverCpu') + perPurchase(a, 'postgresCpu')).toFixed(0)} µs (server and PostgreSQL)`;
}

/**
 * The warm-up, then (a) and (f). (f) is recordPurchase with three webhook endpoints subscribed to
 * `transaction.posted` (receivers on loopback in a child process, answering 200 at once), (a) the
 * same purchases without endpoints, on the same server: f/a is what the outbox write and the
 * in-server delivery worker cost a posting (target ≥ 0.9).
 *
 * Like against like: the warm-up runs with the endpoints subscribed, so the delivery path is warm
 * (compiled, connected, planned) as well as the posting path; and (a) and (f) are measured in
 * AF_BLOCKS blocks, each in the order a, f, f, a, each half AF_HALF_MS (`purchase` runs one half),
 * because the server keeps getting faster for a minute after its start (a later half ran 10–20 %
 * faster than an earlier one of the same workload): in this order a steady drift cancels instead of
 * being credited to whichever ran second. Endpoints are enabled during the warm-up and the f halves
 * only (disabled between, not deleted: see unsubscribe); each (a) half starts once every delivery
 * before it has arrived.
 *
 * Then the delivery lag, event committed → receiver got it, p50/p99 over every delivery of the f
 * halves, waiting (at most 120 s) after each block for the backlog to drain (target p99 < 2 s).
 * Prints the machine's load average around it: the numbers are only as good as the machine is
 * quiet. Returns the warm-up, and (a) and (f), each over all their halves.
 */
async function purchasesWithAndWithoutWebhooks(pool: Pool, port: number, jwtSecret: string, purchase: (id: string, label: string, ms: number) => Promise<PhaseResult>,
  warmUpMs: number): Promise<{ warmUp: PhaseResult; a: PhaseResult; f: PhaseResult }> {
  const A = '(a) recordPurchase, GraphQL over HTTP';
  const F = '(f) recordPurchase, 3 webhook endpoints on transaction.posted';
  const receivers = await forkReceivers();
  const { ports, ask } = receivers;
  const admin = signToken(jwtSecret, { role: Role.ADMIN }, 3600);
  try {
    const endpoints: string[] = [];
    /** Sets whether the endpoints receive (enabled) or not. */
    const enable = async (enabled: boolean) => {
      for (const id of endpoints) {
        const data = await graphql(port, admin, 'mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { userErrors { message } } }',
          { input: { endpointId: id, enabled } });
        if (data.updateWebhookEndpoint.userErrors.length) throw new Error(JSON.stringify(data.updateWebhookEndpoint.userErrors));
      }
    };
    /** Creates the endpoints the first time, enables them again after. */
    const subscribe = async () => {
      if (endpoints.length) return enable(true);
      for (const p of ports) {
        const data = await graphql(port, admin, 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } userErrors { message } } }',
          { input: { url: `http://127.0.0.1:${p}/hooks`, eventTypes: ['transaction.posted'] } });
        if (data.createWebhookEndpoint.userErrors.length) throw new Error(JSON.stringify(data.createWebhookEndpoint.userErrors));
        endpoints.push(data.createWebhookEndpoint.endpoint.id);
      }
    };
    /** Waits until the receivers have `expected` deliveries (at most 120 s); how many they have and how long it took (s). */
    const drain = async (expected: number) => {
      const started = performance.now();
      let count = 0;
      while ((count = (await ask<{ count: number }>('count')).count) < expected && performance.now() - started < 120_000) await new Promise((r) => setTimeout(r, 200));
      return { count, seconds: (performance.now() - started) / 1000 };
    };
    /**
     * Disables the endpoints once nothing is left to fan out or to send again: the next purchases are
     * delivered to nobody, and no delivery of this block waits to go out in the next. Disabled, not
     * deleted: deleting an endpoint deletes its deliveries (~8,000 rows each a block), and that bulk
     * delete and its cleanup (vacuum) landed in the halves after it — work no steady coalition does,
     * measured against whichever workload ran then.
     */
    const unsubscribe = async () => {
      const left = async () => Number((await pool.query(`SELECT (SELECT count(*) FROM event_pending) + (SELECT count(*) FROM webhook_delivery WHERE status = 'PENDING') AS n`)).rows[0].n);
      for (let i = 0; i < 600 && (await left()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      await enable(false);
    };
    /** Waits until every pending event has been fanned out (the next purchases start from an empty outbox). */
    const fannedOut = async () => {
      for (let i = 0; i < 600 && Number((await pool.query('SELECT count(*) AS n FROM event_pending')).rows[0].n) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    };
    await subscribe();
    const warmUp = await purchase('warm-up', 'warm-up (not counted): recordPurchase, with the 3 endpoints', warmUpMs);
    const warmed = await drain(warmUp.events * ports.length);
    await unsubscribe();
    const aHalves: PhaseResult[] = [];
    const fHalves: PhaseResult[] = [];
    const lags: number[] = [];
    let expected = 0;
    let received = 0;
    let drained = 0;
    let receiversMicros = 0;
    /** Deliveries received again (at least once: counted once in `received`) and bodies without an id or a timestamp. */
    let duplicates = 0;
    let unreadable = 0;
    const loadBefore = loadavg();
    for (let block = 1; block <= AF_BLOCKS; block++) {
      const a1 = await purchase(`a${2 * block - 1}`, `${A}, block ${block}, 1st half`, AF_HALF_MS);
      // (a)'s events are fanned out before the endpoints exist again, so they are not delivered to them.
      await fannedOut();
      await subscribe();
      await ask<{ lags: number[] }>('reset');
      const receiversBefore = (await ask<{ cpuMicros: number }>('count')).cpuMicros;
      const f1 = await purchase(`f${2 * block - 1}`, `${F}, block ${block}, 1st half`, AF_HALF_MS);
      const f2 = await purchase(`f${2 * block}`, `${F}, block ${block}, 2nd half`, AF_HALF_MS);
      const blockExpected = (f1.events + f2.events) * ports.length;
      const got = await drain(blockExpected);
      receiversMicros += (await ask<ReceiverCounts>('count')).cpuMicros - receiversBefore;
      drained = Math.max(drained, got.seconds);
      await unsubscribe();
      // Counted once nothing is left to send again (a retry after a timeout comes during unsubscribe).
      const after = await ask<ReceiverCounts>('count');
      duplicates += after.duplicates;
      unreadable += after.unreadable;
      lags.push(...(await ask<{ lags: number[] }>('report')).lags);
      expected += blockExpected;
      received += after.count;
      const a2 = await purchase(`a${2 * block}`, `${A}, block ${block}, 2nd half`, AF_HALF_MS);
      aHalves.push(a1, a2);
      fHalves.push(f1, f2);
    }
    const loadAfter = loadavg();
    const a = aHalves.reduce((x, y) => together(A, x, y));
    const f = fHalves.reduce((x, y) => together(F, x, y));
    const sorted = lags.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
    const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
    const pairs = fHalves.map((fh, i) => `f${i + 1}/a${i + 1} ${(rate(fh) / rate(aHalves[i]!)).toFixed(2)}`).join(', ');
    const blocks = Array.from({ length: AF_BLOCKS }, (_, b) => (rate(together(F, fHalves[2 * b]!, fHalves[2 * b + 1]!)) / rate(together(A, aHalves[2 * b]!, aHalves[2 * b + 1]!))).toFixed(2)).join(', ');
    console.log(`(a) all halves ${rate(a).toFixed(0)} events/s, (f) all halves ${rate(f).toFixed(0)} events/s
(f)/(a)  purchases with 3 endpoints vs without:      ${(rate(f) / rate(a)).toFixed(2)}   [≥ 0.9]   (each block a f f a: ${blocks}; halves side by side: ${pairs})
(f) lag  event committed → receiver got it:           p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(0)} ms   [p99 < 2000]
         ${received} of ${expected} deliveries received (${duplicates} again, ${unreadable} unreadable), the last ${drained.toFixed(1)} s after its block at most; load average before ${load(loadBefore)}, after ${load(loadAfter)}${deliveryCost(a, f, receiversMicros)}`);
    if (received !== expected) f.errors += Math.abs(expected - received);
    f.errors += unreadable;
    if (warmed.count < warmUp.events * ports.length) warmUp.errors += warmUp.events * ports.length - warmed.count;
    return { warmUp, a, f };
  } finally {
    receivers.stop();
  }
}

/** Runs the bench; resolves to the exit code (1 when a phase had errors or the ledger check was not clean). */
async function main(): Promise<number> {
  let failed = false;
  const dir = mkdtempSync(join(tmpdir(), 'coalition-hub-bench-'));
  const pg = await startEmbeddedPostgres({ dir, log: (line) => console.error(`postgres: ${line}`), settings: { max_connections: 200,
    ...(PG_STATS ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on', 'pg_stat_statements.max': 1000 } : {}) } });
  let server: ChildProcess | undefined;
  let bare: ChildProcess | undefined;
  try {
    const setup = new Client({ connectionString: pg.url });
    await setup.connect();
    await setup.query('CREATE DATABASE bench');
    await setup.end();
    const url = Object.assign(new URL(pg.url), { pathname: '/bench' }).toString();
    const db = createDataSource(url, 4);
    await db.initialize();
    await db.runMigrations();
    await db.destroy();

    // Reference data and members are set up with SQL: only the measured work goes through the API.
    const pool = new Pool({ connectionString: url, max: CONNECTIONS + 4 });
    const partners = Array.from({ length: PARTNERS }, () => uuidv7());
    await pool.query(`INSERT INTO partner (id, code, code_key, name, redemption_value_per_point, issuance_price_per_point, earn_rule)
      SELECT id, 'bench-' || n, 'BENCH' || n, 'Bench partner ' || n, 0.01, 0.01, '{"pointsPerUnit":"1.5","minSpend":null,"categoryMultipliers":[],"maxPointsPerTransaction":null,"maxPointsPerMemberPerDay":null,"firstPurchaseBonus":null,"everyNthVisit":null,"visitBonus":null,"pointsValidityDays":365}'
      FROM unnest($1::uuid[]) WITH ORDINALITY AS p(id, n)`, [partners]);
    const members = Array.from({ length: CONNECTIONS * MEMBERS_PER_CONNECTION }, () => uuidv7());
    await pool.query(`INSERT INTO member (id, member_code, referral_code) SELECT id, lpad(n::text, 12, '0'), 'B' || lpad(n::text, 7, '0') FROM unnest($1::uuid[]) WITH ORDINALITY AS m(id, n)`, [members]);
    await pool.query(`INSERT INTO member_identifier (kind, value, member_id) SELECT 'MEMBER_CODE', member_code, id FROM member`);
    await pool.query(`INSERT INTO member_partner_link (member_id, partner_id) SELECT m.id, p.id FROM member m CROSS JOIN partner p`);
    // Only the tables filled here. ANALYZE of the empty posting tables (lot, ledger_transaction, …)
    // records them as empty, and each connection's generic plan made in the first seconds then reads
    // them by sequential scan, dearer as they grow, until autovacuum analyzes them again (it had not
    // in two minutes of a run): the near-lots read went from 17 to 100 buffers a call, 0.14 to 2.1 ms,
    // through one run of (a)/(f) (README, Measured, sixth round). Tables never analyzed, as on a fresh install, get index plans.
    await pool.query('ANALYZE partner, member, member_identifier, member_partner_link');
    if (PG_STATS) {
      await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      statsPool = pool;
    }

    const port = await freePort();
    const jwtSecret = randomBytes(32).toString('hex');
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the server, to see where a phase's time goes.
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    // The flags `npm start` gives the server (package.json): a young generation large enough that a
    // batch's objects die young instead of being promoted and collected by full mark-compacts, at
    // that size from the start (V8 otherwise grows it over the first minute: a drifting server).
    server = spawn(process.execPath, ['--min-semi-space-size=64', '--max-semi-space-size=64', ...profile, resolve(__dirname, '../src/main.js')], {
      env: { ...process.env, DATABASE_URL: url, PORT: String(port), JWT_SECRET: jwtSecret, NODE_ENV: 'production', LOG_LEVEL: 'error', RATE_LIMIT_MAX_COST: '0', WEBHOOK_ALLOW_PRIVATE: 'true', DB_POOL_SIZE: String(CONNECTIONS + 8) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForHealth(port, server);
    const { rows: [dataDirectory] } = await pool.query<{ data_directory: string }>('SHOW data_directory');
    const postmasterPid = Number(readFileSync(join(dataDirectory!.data_directory, 'postmaster.pid'), 'utf8').split('\n')[0]);
    probe = {
      serverPid: server.pid!,
      async snapshot() {
        return { server: cpuSeconds(this.serverPid, false), postgres: postgresCpuSeconds(postmasterPid),
          walLsn: (await pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn };
      },
      walBytes: async (from, to) => Number((await pool.query<{ d: string }>('SELECT pg_wal_lsn_diff($2, $1)::bigint AS d', [from, to])).rows[0]!.d),
    };
    const tokens = partners.map((partnerId) => signToken(jwtSecret, { role: Role.PARTNER, partnerId }, 3600));
    const memberOf = (c: number, i: number) => members[c * MEMBERS_PER_CONNECTION + (i % MEMBERS_PER_CONNECTION)]!;
    const run = randomBytes(4).toString('hex');
    const keysOf = phaseKeys(run);

    console.log(`\ncoalition-hub bench: ${CONNECTIONS} concurrent connections, ${PHASE_MS / 1000} s a phase, ${members.length} members, PostgreSQL fsync on\n`);
    const PURCHASE = 'mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { transaction { id points } member { balance } userErrors { code } } }';
    /** Purchases for PHASE_MS under the phase id `id` (its keys' prefix), then checked: every event a row of its own. */
    const purchaseVia = async (partnerFor: (c: number) => number, id: string, label: string, ms = PHASE_MS) => {
      const keys = keysOf(id);
      const since = new Date();
      return checkKeys(pool, keys, since, await phase(label, async (c, i) => {
        const data = await graphql(port, tokens[partnerFor(c)]!, PURCHASE,
          { input: { idempotencyKey: `${keys}-${c}-${i}`, memberId: memberOf(c, i), amount: '12.34' } });
        if (data.recordPurchase.userErrors.length) throw new Error(JSON.stringify(data.recordPurchase.userErrors));
        return 1;
      }, CONNECTIONS, ms));
    };
    const { warmUp, a, f } = await purchasesWithAndWithoutWebhooks(pool, port, jwtSecret, (id, label, ms) => purchaseVia((c) => c, id, label, ms),
      Number(process.env.BENCH_WARMUP_MS ?? 2 * PHASE_MS));
    const tpcb = await tpcbPhase(pool);

    // (b) The same statements the service sends for a purchase (ledger.store.ts), issued straight
    // through pg: lock the member with its earlier keys and its referral (the terms' version with
    // them: the service keeps the terms between purchases), read its expired and pending points, write, commit.
    const rawKeys = keysOf('b');
    const b = await checkKeys(pool, rawKeys, new Date(), await phase('(b) the same ledger writes, raw SQL through pg', async (c, i) => {
      const client = await pool.connect();
      try {
        const raw = { databaseConnection: client } as unknown as QueryRunner;
        const memberId = memberOf(c, i);
        const partnerId = partners[c]!;
        const caller = `partner:${partnerId}`;
        const key = `${rawKeys}-${c}-${i}`;
        const now = new Date();
        await client.query('BEGIN');
        const locked = await lockMembers(raw, [memberId], partnerId, caller, [{ memberId, key }], false, { purchases: [memberId], refunds: [] });
        const member = locked.get(memberId)!;
        await loadExpiredPoints(raw, [memberId], now);
        const txId = uuidv7();
        const lot: LotState = { id: uuidv7(), transactionId: txId, issuer: { partnerId }, points: 18, remaining: 18,
          expiresAt: new Date(now.getTime() + 365 * 86_400_000), createdAt: now, isNew: true, dirty: true };
        const changes = emptyChanges();
        changes.entries.push(...memberEntries(memberId, txId, 18, { type: AccountType.PARTNER, id: partnerId }));
        const transactions = [{ member_id: memberId, id: txId, type: 'PURCHASE', partner_id: partnerId, caller, idempotency_key: key, request_hash: 'raw',
          points: 18, amount_minor: '1234', reverses_id: null, bonus_action: null, description: null, breakdown: [], occurred_at: now, posted_at: now }];
        // The same rows the service writes, its outbox event included (`transaction.posted`).
        await writePosting(raw, {
          transactions, events: transactionPostedEvents(transactions, BENCH_CURRENCY),
          changes, lots: [lot], lotOwner: new Map([[lot, memberId]]), debts: [], commissions: [], changedCommissions: [], donations: [], campaigns: [],
          members: [{ id: memberId, balance: Number(member.balance) + 18, debt: 0, tier: member.tier, successfulReferrals: member.successful_referrals, referralRewardedAt: member.referral_rewarded_at }],
        }, now);
        await client.query('COMMIT');
        return 1;
      } finally {
        client.release();
      }
    }));

    const PURCHASES = 'mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { transaction { id } userErrors { code } } }';
    const batchKeys = keysOf('c');
    const c = await checkKeys(pool, batchKeys, new Date(), await phase(`(c) recordPurchases, batches of ${BATCH_SIZE}`, async (conn, i) => {
      const inputs = Array.from({ length: BATCH_SIZE }, (_, k) => ({ idempotencyKey: `${batchKeys}-${conn}-${i}-${k}`, memberId: memberOf(conn, k), amount: '7.50' }));
      const data = await graphql(port, tokens[conn]!, PURCHASES, { inputs });
      const failed = data.recordPurchases.filter((p: { userErrors: unknown[] }) => p.userErrors.length).length;
      if (failed) throw new Error(`${failed} purchases in a batch failed`);
      return BATCH_SIZE;
    }));

    // (c-raw) The same batches as the service's own statements straight through pg: lock the 500
    // members with their earlier keys and referrals, read their expired and pending points, one write, commit — the floor for (c).
    const rawBatchKeys = keysOf('c-raw');
    const cRaw = await checkKeys(pool, rawBatchKeys, new Date(), await phase(`(c-raw) the same batches, raw SQL through pg`, async (conn, i) => {
      const client = await pool.connect();
      try {
        const raw = { databaseConnection: client } as unknown as QueryRunner;
        const partnerId = partners[conn]!;
        const caller = `partner:${partnerId}`;
        const now = new Date();
        const batch = Array.from({ length: BATCH_SIZE }, (_, k) => ({ memberId: memberOf(conn, k), key: `${rawBatchKeys}-${conn}-${i}-${k}` }));
        const memberIds = [...new Set(batch.map((b) => b.memberId))].sort();
        await client.query('BEGIN');
        const locked = await lockMembers(raw, memberIds, partnerId, caller, batch, false, { purchases: batch.map((b) => b.memberId), refunds: [] });
        await loadExpiredPoints(raw, memberIds, now);
        const changes = emptyChanges();
        const lots: LotState[] = [];
        const lotOwner = new Map<LotState, string>();
        const added = new Map<string, number>();
        const transactions = batch.map(({ memberId, key }) => {
          const txId = uuidv7();
          const lot: LotState = { id: uuidv7(), transactionId: txId, issuer: { partnerId }, points: 11, remaining: 11,
            expiresAt: new Date(now.getTime() + 365 * 86_400_000), createdAt: now, isNew: true, dirty: true };
          lots.push(lot);
          lotOwner.set(lot, memberId);
          added.set(memberId, (added.get(memberId) ?? 0) + 11);
          changes.entries.push(...memberEntries(memberId, txId, 11, { type: AccountType.PARTNER, id: partnerId }));
          return { member_id: memberId, id: txId, type: 'PURCHASE', partner_id: partnerId, caller, idempotency_key: key, request_hash: 'raw',
            points: 11, amount_minor: '750', reverses_id: null, bonus_action: null, description: null, breakdown: [], occurred_at: now, posted_at: now };
        });
        await writePosting(raw, { transactions, events: transactionPostedEvents(transactions, BENCH_CURRENCY), changes, lots, lotOwner, debts: [], commissions: [], changedCommissions: [], donations: [], campaigns: [],
          members: memberIds.map((id) => {
            const m = locked.get(id)!;
            return { id, balance: Number(m.balance) + added.get(id)!, debt: 0, tier: m.tier, successfulReferrals: m.successful_referrals, referralRewardedAt: m.referral_rewarded_at };
          }) }, now);
        await client.query('COMMIT');
        return BATCH_SIZE;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    }));

    // (c2) The same batches where connections share members: 4 connections over the same 256.
    const shared = members.slice(0, SHARED_MEMBERS);
    const sharedKeys = keysOf('c2');
    const c2 = await checkKeys(pool, sharedKeys, new Date(), await phase(`(c2) recordPurchases, ${SHARED_CONNECTIONS} conns over ${SHARED_MEMBERS} shared members`, async (conn, i) => {
      const inputs = Array.from({ length: BATCH_SIZE }, (_, k) => ({ idempotencyKey: `${sharedKeys}-${conn}-${i}-${k}`, memberId: shared[(k + conn * 64) % SHARED_MEMBERS]!, amount: '7.50' }));
      const data = await graphql(port, tokens[conn]!, PURCHASES, { inputs });
      const failed = data.recordPurchases.filter((p: { userErrors: unknown[] }) => p.userErrors.length).length;
      if (failed) throw new Error(`${failed} purchases in a batch failed`);
      return BATCH_SIZE;
    }, SHARED_CONNECTIONS));

    const BALANCE = 'query($id: ID!) { member(id: $id) { balance } }';
    const dGraphql = await phase('(d1) balance query, GraphQL over HTTP', async (conn, i) => {
      const data = await graphql(port, tokens[conn]!, BALANCE, { id: memberOf(conn, i) });
      if (data.member === null) throw new Error('member not found');
      return 1;
    });
    const dSql = await phase('(d2) the same SELECT, raw SQL through pg', async (conn, i) => {
      const r = await pool.query(`SELECT m.balance FROM member m WHERE m.id = $1 AND EXISTS (SELECT 1 FROM member_partner_link l WHERE l.member_id = m.id AND l.partner_id = $2)`,
        [memberOf(conn, i), partners[conn]]);
      if (!r.rowCount) throw new Error('member not found');
      return 1;
    });

    // (d3) The same read over a bare node:http handler (same JWT check, same SQL), in its own process.
    const barePort = await freePort();
    bare = spawn(process.execPath, [resolve(__dirname, 'bare-read-server.js')], {
      env: { ...process.env, DATABASE_URL: url, PORT: String(barePort), JWT_SECRET: jwtSecret }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForPort(barePort, bare);
    probe.serverPid = bare.pid!;
    const dBare = await phase('(d3) the same read, bare node:http + JWT + pg', async (conn, i) => {
      const data = await postJson(barePort, '/', tokens[conn]!, { id: memberOf(conn, i) });
      if (data.balance === null) throw new Error('member not found');
      return 1;
    });
    bare.kill('SIGTERM');
    probe.serverPid = server.pid!;

    // (e1)/(e2) side by side as (a)/(f) are: in the order e1, e2, e2, e1, so a steady drift cancels instead
    // of being charged to whichever runs first. Before them a VACUUM and a checkpoint, then each workload
    // once, not counted. Run right after the batch phases, e1 paid alone for their rows: the first
    // reader of a page after a checkpoint sets its tuples' hint bits, and with data checksums on
    // (initdb's default since PostgreSQL 18) that writes the whole page to the WAL — 45–60 KB of WAL an
    // e1 purchase against 3.5 KB without (e1/e2 0.43–0.72 in full runs, 0.76–0.78 with e alone, e1 first).
    const E1 = '(e1) recordPurchase, all 32 connections at one partner';
    const E2 = '(e2) recordPurchase, spread over 32 partners';
    if (!ONLY || ONLY.some((p) => p.startsWith('(e'))) {
      await pool.query('VACUUM');
      await pool.query('CHECKPOINT');
      await purchaseVia(() => 0, 'e1-settle', `warm-up (not counted): ${E1.slice(5)}`, PHASE_MS / 4);
      await purchaseVia((conn) => conn, 'e2-settle', `warm-up (not counted): ${E2.slice(5)}`, PHASE_MS / 4);
    }
    const e1a = await purchaseVia(() => 0, 'e1', `${E1}, 1st half`);
    const e2a = await purchaseVia((conn) => conn, 'e2', `${E2}, 1st half`);
    const e2b = await purchaseVia((conn) => conn, 'e2b', `${E2}, 2nd half`);
    const e1b = await purchaseVia(() => 0, 'e1b', `${E1}, 2nd half`);
    const one = together(E1, e1a, e1b);
    const spread = together(E2, e2a, e2b);

    const settlement = ONLY ? 'settlement close: skipped (BENCH_ONLY)' : await settlementBench(pool, port, jwtSecret, partners);

    const errors = [warmUp, a, f, tpcb, b, c, cRaw, c2, dGraphql, dSql, dBare, one, spread].reduce((sum, r) => sum + r.errors, 0);
    const check = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${signToken(jwtSecret, { role: Role.ADMIN }, 600)}` },
      body: JSON.stringify({ query: '{ ledgerCheck { ok violations } }' }),
    }).then((r) => r.json() as Promise<{ data: { ledgerCheck: { ok: boolean; violations: string[] } } }>);
    await pool.end();

    const ratio = (x: number, y: number) => (x / y).toFixed(2);
    console.log(`
ratios (targets in brackets)
  a/tpcb  GraphQL purchase vs TPC-B-like through pg:   ${ratio(rate(a), rate(tpcb))}   [≥ 0.5]
  a/b     GraphQL purchase vs its own SQL through pg:  ${ratio(rate(a), rate(b))}
  c       batches of ${BATCH_SIZE}, disjoint members:        ${rate(c).toFixed(0)} purchases/s   [≥ 10000]
  c/c-raw batches vs the same batches as raw SQL:      ${ratio(rate(c), rate(cRaw))}   [≥ 0.8]
  c2/c    shared members vs disjoint:                  ${ratio(rate(c2), rate(c))}   [≥ 0.5]
  d1/d3   GraphQL balance read vs bare HTTP + JWT:     ${ratio(rate(dGraphql), rate(dBare))}   [≥ 0.75]
  d1/d2   GraphQL balance read vs raw SELECT:          ${ratio(rate(dGraphql), rate(dSql))}
  e1/e2   one partner vs spread over 32 partners:      ${ratio(rate(one), rate(spread))}   [≥ 0.8]   (in the order e1 e2 e2 e1; halves side by side: ${ratio(rate(e1a), rate(e2a))}, ${ratio(rate(e1b), rate(e2b))})
${settlement}
errors: ${errors}   ledger check: ${check.data.ledgerCheck.ok ? 'clean' : check.data.ledgerCheck.violations.slice(0, 5).join('; ')}
`);
    if (errors || !check.data.ledgerCheck.ok) failed = true;
  } finally {
    bare?.kill('SIGTERM');
    server?.kill('SIGTERM');
    if (server && server.exitCode === null) await new Promise((r) => server!.once('exit', r));
    agent.destroy();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

// The bench exits itself with its code: embedded-postgres's exit hook (async-exit-hook) calls
// process.exit(0) on 'beforeExit', which replaced a process.exitCode of 1 (seen: the bench exited 0
// after printing errors). stdout to a pipe or a file is written synchronously here.
main().then((code) => {
  process.exit(code);
}, (error: unknown) => {
  console.error(error);
  process.exit(1);
});
