import { LookupAddress, lookup as dnsLookup } from 'node:dns';
import { LookupFunction, Socket, isIP } from 'node:net';
import type { DataSource, QueryRunner } from 'typeorm';
import { Dispatcher, Pool, buildConnector } from 'undici';
import type { Logger } from '../../common/logger';
import { countWebhookAttempt, setOutboxLag } from '../../api/metrics';
import { clock } from '../../common/clock';
import { preparedRows, rows } from '../../db/transaction';
import { arrayLiteral } from '../../db/row-source';
import { uuidv7 } from '../../common/ids';
import { DELIVERY_TIMEOUT_MS, DISABLE_AFTER_MS, EXCERPT_CHARS, NO_MEMBER, excerpt, isForbiddenAddress, nextAttemptAt, signatureHeader } from './webhook.rules';

/** Deliveries one claim sends at once (one transaction holds their row locks while they are in flight). */
const CLAIM_BATCH = 256;
/**
 * Deliveries to one receiver host (URL origin: endpoints on one host count together) in one claim:
 * with LANES claims, a host is never sent more than LANES × this many requests at once by the queue
 * of one instance (Svix and Stripe bound concurrency per endpoint the same way).
 */
const CLAIM_PER_HOST = 32;
/**
 * Claims a worker has in flight at once: while one waits on its receivers and its commit, the next
 * is sent, so the wait of one round does not idle the worker.
 */
const LANES = 3;
/** Due deliveries a claim looks at (in due order) to pick its batch: bounds the claim's scan. */
const CLAIM_WINDOW = 2048;
/** The shortest time (ms) from one round's start to the next while a tick finds work (lag ≤ this + the send). */
const ROUND_MS = 200;
/** The pause (ms) after a tick that found work, when the configured interval is longer. */
const BUSY_POLL_MS = 100;
/** How long (ms) a fan-out waits for the first attempts it makes before it commits without the slow ones. */
const DIRECT_WAIT_MS = 500;
/** How long (ms) a first attempt still in flight when its fan-out commits is leased to its sender: the 10 s timeout and 5 s to settle. */
const LEASE_MS = DELIVERY_TIMEOUT_MS + 5_000;
/** Events fanned out to deliveries per statement. */
const FAN_OUT_BATCH = 1000;
/** Rounds (claims, with the fan-outs before them) a tick may do in all its lanes before it yields to the next tick. */
const MAX_ROUNDS_PER_TICK = 150;

/** First attempts a fan-out has in flight at once to one receiver host, and in all. */
const PER_ORIGIN = 96;
const MAX_IN_FLIGHT = 512;
/** Bytes of an answer read at most: past them the connection is closed (its status stands). */
const ANSWER_BYTES_READ = 16_384;
/** An endpoint whose recent answers took longer than this on average (ms) gets its deliveries through the queue. */
const SLOW_ANSWER_MS = 250;
/** How often (ms) such an endpoint is tried at a fan-out anyway, to see whether it answers quickly again. */
const PROBE_MS = 1_000;
/**
 * Requests in flight at once to one receiver host from one instance: the fan-out's and the claims'
 * (at most CLAIM_PER_HOST a host in a claim, LANES claims), so no request waits for room; carried, for
 * each endpoint URL (connectionsFor), on up to CONNECTIONS kept-alive connections, PIPELINING requests
 * deep, and for an endpoint that answers quickly on DEEP_CONNECTIONS more, DEEP_PIPELINING deep.
 */
const MAX_CONNECTIONS = PER_ORIGIN + CLAIM_PER_HOST * LANES;
const PIPELINING = 12;
const CONNECTIONS = Math.ceil(MAX_CONNECTIONS / PIPELINING);
/**
 * A fan-out's first attempts to an endpoint that has answered quickly (pipelinesDeep) go on two
 * connections of their own, pipelined up to 48 deep (room for PER_ORIGIN): a fan-out's burst to it
 * rides one or two connections instead of up to eight, so it leaves in one or two writes and its
 * answers come back in few reads, on both sides (undici fills a connection before it opens the next).
 * Measured side by side in the bench's (f): README, "Measured".
 * The price is head-of-line waiting at a receiver that handles pipelined requests one after another
 * (Go's net/http and most Python servers do): each answer of a burst waits for all before it on its
 * connection, up to 48 × its own time. The answer times, measured from the write, include that wait,
 * so such a receiver soon averages past SLOW_ANSWER_MS and is sent to through the queue, which always
 * pipelines 12 deep (retries, replays, slow or failing endpoints, a backlog); and a deep burst of which
 * some are still unanswered when the fan-out's wait ends keeps the endpoint at 12 deep for SHALLOW_MS
 * (its quick answers at 12 deep would otherwise bring it back to a deep burst at every other fan-out).
 * One slower than ~200 ms a request that looked quick until then can see the last requests of one
 * deep burst time out: they are retried on the schedule, same webhook-id.
 */
const DEEP_PIPELINING = 48;
const DEEP_CONNECTIONS = 2;
/** How long (ms) an endpoint is sent to 12 deep after a deep burst of it was answered late (pipelinesDeep). */
const SHALLOW_MS = 10 * 60_000;

/**
 * Connections to receivers are kept open between deliveries (HTTP keep-alive), as every webhook
 * sender at volume does, through undici (Node's own HTTP client, as a library: about half the CPU
 * a request of node:http's, measured side by side here). An idle connection is closed after 4 s.
 * Addresses are checked where a connection is opened (guardedLookup), so a reused one was checked;
 * one connector with the check and one without (development and tests), made when first needed.
 * Each endpoint URL has connections of its own (a Pool, and a second one for deep bursts): requests are pipelined only behind
 * requests to the same URL, so an endpoint that does not answer holds up only its own deliveries,
 * never those of another endpoint on the same host (one Agent per host would pipeline them together).
 */
const connectors = new Map<boolean, buildConnector.connector>();

/** One endpoint URL's connections of one depth: its undici Pool, the sockets it opened, and whether they are corked (holdWritesToImmediates). */
interface Connections {
  pool: Pool;
  sockets: Set<Socket>;
  corked: boolean;
}
const connections = new Map<string, Connections>();
/** Pools (two at most an endpoint URL: 12 and DEEP_PIPELINING deep) kept before idle ones (no connection, nothing queued) are closed. */
const MAX_POOLS = 2_000;
function connectionsFor(allowPrivate: boolean, url: Target, deep: boolean): Connections {
  const key = `${allowPrivate}|${deep}|${url.text}`;
  let found = connections.get(key);
  if (!found) {
    let build = connectors.get(allowPrivate);
    if (!build) connectors.set(allowPrivate, (build = buildConnector({ lookup: guardedLookup(allowPrivate), timeout: DELIVERY_TIMEOUT_MS + 1_000 })));
    const base = build;
    const sockets = new Set<Socket>();
    const connect: buildConnector.connector = (options, callback) => base(options, (error, socket) => {
      if (socket) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      }
      (callback as (...args: unknown[]) => void)(error, socket);
    });
    if (connections.size >= MAX_POOLS) {
      for (const [k, c] of connections) if (c.pool.stats.connected === 0 && c.pool.stats.size === 0) { connections.delete(k); void c.pool.close(); }
    }
    // undici's own timeouts are a backstop, a second past the attempt's deadline (DEADLINE_SWEEP_MS
    // late at most), which ends the attempt first and names what was seen.
    const backstop = DELIVERY_TIMEOUT_MS + 1_000;
    const pool = new Pool(url.origin, { connections: deep ? DEEP_CONNECTIONS : CONNECTIONS, pipelining: deep ? DEEP_PIPELINING : PIPELINING,
      keepAliveTimeout: 4_000, headersTimeout: backstop, bodyTimeout: backstop, connect });
    connections.set(key, (found = { pool, sockets, corked: false }));
  }
  return found;
}

/**
 * Holds the writes to one endpoint URL's connections until this turn of the event loop has run its
 * immediates: the requests started meanwhile that go to one connection (pipelined) leave in one
 * write instead of one each: a burst of first attempts, or the next requests sent as a burst of
 * answers is read, share one system call (on loopback, also the receiver's wake-up).
 * Until the immediates, not the end of this tick: undici (6.29 on, GHSA-35p6-xmwp-9g52) writes the
 * first requests on a kept-alive connection that was idle from an immediate of its own, queued as
 * they are dispatched, so that bytes the receiver sent meanwhile (a close, stray data) are read
 * first; the uncork is queued after those (a tick from now), so it flushes what they wrote. Released
 * at the tick's end, each request left in a write of its own (seen with strace: 288 writes a round
 * of 288 requests). Connections opened meanwhile write as they open.
 */
function holdWritesToImmediates(to: Connections): void {
  if (to.corked) return;
  to.corked = true;
  const held = [...to.sockets];
  for (const socket of held) socket.cork();
  // The tick runs once the dispatches of this callback (and of its promise continuations) are done,
  // so the immediate it queues runs after undici's.
  process.nextTick(() => setImmediate(() => {
    to.corked = false;
    for (const socket of held) socket.uncork();
  }));
}

/** Closes the connections kept open to receivers (at shutdown, after the worker has stopped). */
export async function closeWebhookConnections(): Promise<void> {
  const open = [...connections.values()];
  connections.clear();
  await Promise.all(open.map((c) => c.pool.destroy()));
}

export interface WorkerOptions {
  allowPrivate: boolean;
  log: Logger;
  /** Uniform [0, 1) for retry jitter; tests pin it. */
  random?: () => number;
  /** How long (ms) a fan-out waits for its first attempts (default DIRECT_WAIT_MS); tests that need every answer in the tick raise it. */
  directWaitMs?: number;
  /** The shortest time (ms) from one round's start to the next while work is found (default ROUND_MS); tests set 0. */
  roundMs?: number;
}

/**
 * SQL: what receiver `ep` may see of event `e` (operator: the event's data; a partner or an affiliate:
 * the view written for it, if the event names it; else NULL), as `v.view`.
 */
const RECEIVER_VIEW = `CROSS JOIN LATERAL (SELECT CASE ep.owner_type WHEN 'OPERATOR' THEN e.data
    WHEN 'PARTNER' THEN CASE WHEN ep.owner_id = ANY(e.partner_ids) THEN e.views -> ('partner:' || ep.owner_id::text) END
    WHEN 'AFFILIATE' THEN CASE WHEN ep.owner_id = ANY(e.affiliate_ids) THEN e.views -> ('affiliate:' || ep.owner_id::text) END END AS view) v`;
/**
 * SQL: the body a delivery of an event sends (Standard Webhooks: id, type, timestamp, data), from
 * the SQL expressions of the event's id, type, time and the receiver's view of it. Built from the
 * event whenever the delivery is sent — at fan-out and at every retry or replay — and never stored
 * for an event (events are immutable: the same text each time).
 */
function deliveryBody(id: string, type: string, at: string, view: string): string {
  // The text jsonb_build_object('id', …, 'type', …, 'timestamp', …, 'data', …)::text gives, byte for
  // byte (jsonb orders keys by length, then bytes: id, data, type, timestamp; ", " and ": " between),
  // written out instead of built as a jsonb and printed again: a third less of PostgreSQL's work a body.
  return `'{"id": "' || ${id}::text || '", "data": ' || COALESCE(${view}::text, 'null') || ', "type": ' || to_json(${type}::text)::text
    || ', "timestamp": "' || to_char(${at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"}'`;
}
/** deliveryBody of event `e` with view `v.view` (RECEIVER_VIEW). */
const DELIVERY_BODY = deliveryBody('e.id', 'e.type', 'e.occurred_at', 'v.view');

/** A delivery fan-out makes: the claimed shape plus what its row needs, and whether it must wait in the queue. */
interface Fanned extends Claimed {
  event_member_id: string;
  event_type: string;
  /** The event's time (its delivery's order_at), as PostgreSQL's text of it: to the microsecond, which a Date is not. */
  order_at: string;
  /** The endpoint has an earlier delivery of this member still pending, or is failing: not sent at fan-out (nor when it is slow). */
  queued: boolean;
}

/**
 * Turns pending events into deliveries, one endpoint each that wants the event and may see it
 * (operator: every event; a partner or an affiliate: events naming it, with the view written for it),
 * and makes each delivery's first attempt right there — its row is written once, with the outcome
 * and that attempt (`first_*`), in the transaction that takes the events (a delivery that waits in the
 * queue is written, locked, updated: about five times the database work). The endpoints it sends to
 * are held (FOR KEY SHARE) until it commits, so a deletion waits for it. Runs under a transaction-scoped advisory lock, so one
 * instance at a time fans out, events in order of (time, id) — for a member's postings, which its
 * lock serializes, commit order; a member's deliveries to one endpoint are sent one after another in
 * that order, and one that fails holds the ones after it in the queue.
 *
 * Not sent at fan-out, but queued due now: deliveries to an endpoint that is failing or slow (see
 * sendAtFanOut), or that has an earlier delivery of the member pending. A receiver that has not answered within DIRECT_WAIT_MS
 * does not hold the fan-out: its delivery is written pending under a lease (due again after
 * LEASE_MS, longer than the 10 s timeout) and settled when the answer comes (settleLate); if this
 * process dies first, the lease runs out and a worker sends it again. If it dies before the commit,
 * the events are still pending and are fanned out again: at least once, same webhook-id.
 * Returns how many events it took and how many first attempts it made.
 */
export async function fanOut(db: DataSource, options: WorkerOptions): Promise<{ taken: number; attempted: number }> {
  const random = options.random ?? Math.random;
  const q = db.createQueryRunner();
  try {
    await q.connect();
    await q.startTransaction();
    const [lock] = await rows<{ got: boolean }>(q, `SELECT pg_try_advisory_xact_lock(hashtext('coalition-hub:webhook-fan-out')) AS got`);
    if (!lock!.got) {
      await q.rollbackTransaction();
      return { taken: 0, attempted: 0 };
    }
    const now = clock.now();
    // Planned on every call, not prepared: a plan kept from a connection's first call (small tables)
    // hash-joined whole tables once they had grown — the bench's (f) fell behind its events by 10 s.
    const taken = await rows<Fanned & { n: number; oldest: Date | null }>(q, `WITH p AS (
        -- By row address (a TID scan of just these rows): matched by key, the planner hash-joins a seq
        -- scan of the whole table, dead rows included, which a queue table has many of between vacuums.
        DELETE FROM event_pending WHERE ctid = ANY(ARRAY(SELECT ctid FROM event_pending ORDER BY occurred_at, event_id LIMIT ${FAN_OUT_BATCH}))
        RETURNING member_id, event_id, occurred_at),
      d AS (SELECT ep.id AS endpoint_id, e.member_id AS event_member_id, e.id AS event_id, e.type, e.occurred_at, v.view,
          ep.url, ep.secret, ep.previous_secret, ep.previous_secret_until,
          ep.failing_since IS NOT NULL OR EXISTS (SELECT 1 FROM webhook_delivery o WHERE o.endpoint_id = ep.id AND o.event_member_id = e.member_id AND o.status = 'PENDING') AS queued,
          -- An event's receivers that see it alike (the operator's endpoints, or one owner's) share one
          -- body: it is built for the first of them (nth 1), the others come right after it (group g).
          dense_rank() OVER (PARTITION BY e.member_id, e.id ORDER BY ep.owner_type, ep.owner_id) AS g,
          row_number() OVER (PARTITION BY e.member_id, e.id, ep.owner_type, ep.owner_id ORDER BY ep.id) AS nth
        FROM p JOIN event e ON e.member_id = p.member_id AND e.id = p.event_id
        JOIN webhook_endpoint ep ON ep.enabled AND (e.type = ANY(ep.event_types) OR '*' = ANY(ep.event_types))
        ${RECEIVER_VIEW}
        WHERE v.view IS NOT NULL)
      -- The deliveries in event order (the order as a number: nothing to parse), then one last row with
      -- how many events were taken (some may have no receiver) and the oldest.
      SELECT endpoint_id, event_member_id, event_id, event_type, order_at, body, url, secret, previous_secret, previous_secret_until, queued, o, n, oldest FROM (
        SELECT d.endpoint_id, d.event_member_id, d.event_id, d.type AS event_type, d.occurred_at::text AS order_at, CASE WHEN d.nth = 1 THEN ${deliveryBody('d.event_id', 'd.type', 'd.occurred_at', 'd.view')} END AS body,
          d.url, d.secret, d.previous_secret, d.previous_secret_until, d.queued, extract(epoch FROM d.occurred_at) AS o, d.g, d.nth, NULL::int AS n, NULL::timestamptz AS oldest FROM d
        UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, (SELECT count(*) FROM p)::int, (SELECT min(occurred_at) FROM p)) x
      ORDER BY o NULLS LAST, event_id, g, nth`);
    const summary = taken.pop()!;
    // The rows become the deliveries (completed in place: each is a fresh object of this statement).
    // A group's body is sent as the UTF-8 bytes its deliveries share (one copy, not one a request).
    let fanned: Fanned[] = taken;
    let shared: Buffer | undefined;
    for (const f of fanned) {
      if (f.body !== null) shared = Buffer.from(f.body);
      f.body = shared!;
      f.id = uuidv7(now.getTime());
      f.attempt_count = 0;
      f.next_attempt_at = now;
    }
    // The endpoints it sends to are held (FOR KEY SHARE) until the fan-out commits: an endpoint being
    // deleted (deleteEndpoint locks it FOR UPDATE) waits for it and then removes its deliveries too;
    // one deleted meanwhile is not sent to. An owner's other changes (they lock FOR UPDATE too) wait
    // at most as long as a fan-out (its 500 ms wait and its insert); workers' health updates do not.
    const endpointIds = [...new Set(fanned.map((f) => f.endpoint_id))];
    if (endpointIds.length) {
      const held = new Set((await rows<{ id: string }>(q, 'SELECT id FROM webhook_endpoint WHERE id = ANY($1::uuid[]) ORDER BY id FOR KEY SHARE',
        [arrayLiteral(endpointIds, 'uuid')])).map((r) => r.id));
      if (held.size < endpointIds.length) fanned = fanned.filter((f) => held.has(f.endpoint_id));
    }
    const sent = fanned.length ? await sendAtFanOut(db, q, fanned, now, options, random) : { attempted: 0, late: [] };
    await q.commitTransaction();
    // Only now: a late answer settled before the commit would find no row, and be sent again.
    if (sent.late.length) settleLate(db, sent.late, random);
    setOutboxLag('fan_out', summary.oldest ? (clock.now().getTime() - summary.oldest.getTime()) / 1000 : 0);
    return { taken: summary.n!, attempted: sent.attempted };
  } catch (error) {
    if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await q.release();
  }
}

/** A first attempt that outlived its fan-out's wait: the delivery, its attempt in flight, and whether it counts its endpoint slow. */
type Late = [Fanned, Promise<AttemptResult>, boolean];

/**
 * The first attempts of a fan-out (see fanOut), and the rows of all its deliveries, written in the
 * fan-out's transaction: each member's deliveries to one endpoint in order, one after another,
 * stopping at the first failure; chains side by side, at most PER_ORIGIN at once to one receiver
 * host (endpoints on one host share its connections) and MAX_IN_FLIGHT in all; waiting at most
 * DIRECT_WAIT_MS. Endpoints that answer slowly (recent answers over SLOW_ANSWER_MS on average, or
 * late first attempts still in flight) are left to the queue. Returns how many attempts it made
 * (the late ones included) and the late ones, to be settled after the commit.
 */
async function sendAtFanOut(db: DataSource, q: QueryRunner, fanned: Fanned[], now: Date, options: WorkerOptions,
  random: () => number): Promise<{ attempted: number; late: Late[] }> {
  const lanes = lanesOf(db);
  const chains = new Map<string, Fanned[]>();
  for (const f of fanned) {
    const key = `${f.endpoint_id}/${f.event_member_id}`;
    const chain = chains.get(key);
    if (chain) chain.push(f);
    else chains.set(key, [f]);
  }
  const byOrigin = new Map<string, Fanned[][]>();
  /** Each endpoint's answersQuickly, asked once a fan-out (a probe takes all of it). */
  const quickByEndpoint = new Map<string, boolean>();
  for (const chain of chains.values()) {
    const first = chain[0]!;
    let quick = quickByEndpoint.get(first.endpoint_id);
    if (quick === undefined) quickByEndpoint.set(first.endpoint_id, (quick = answersQuickly(lanes, first.endpoint_id, now.getTime())));
    if (first.queued || lanes.slowEndpoints.has(first.endpoint_id) || !quick) continue;
    const origin = parsedUrl(first.url).origin;
    const queue = byOrigin.get(origin);
    if (queue) queue.push(chain);
    else byOrigin.set(origin, [chain]);
  }
  const results = new Map<Fanned, AttemptResult>();
  const inFlight = new Map<Fanned, Attempt>();
  /** The attempts sent DEEP_PIPELINING deep. */
  const deep = new Set<Fanned>();
  let closed = false;
  const sender = async (queue: Fanned[][]) => {
    for (let chain = queue.shift(); chain && !closed; chain = queue.shift()) {
      for (const f of chain) {
        if (closed) return;
        const pipelined = pipelinesDeep(lanes, f.endpoint_id, now.getTime());
        if (pipelined) deep.add(f);
        const sending = attempt(f, now, options.allowPrivate, pipelined);
        inFlight.set(f, sending);
        const result = await sending.result;
        if (result === WITHDRAWN) return;
        inFlight.delete(f);
        results.set(f, result);
        noteAnswer(lanes, f.endpoint_id, result);
        if (result.error !== null) break;
      }
    }
  };
  const perOrigin = Math.max(1, Math.min(PER_ORIGIN, Math.floor(MAX_IN_FLIGHT / Math.max(1, byOrigin.size))));
  const senders = [...byOrigin.values()].flatMap((queue) => Array.from({ length: Math.min(perOrigin, queue.length) }, () => sender(queue)));
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(senders), new Promise<void>((resolveWait) => { waited = setTimeout(resolveWait, options.directWaitMs ?? DIRECT_WAIT_MS); })]);
  clearTimeout(waited);
  closed = true;
  // Requests still waiting for their turn on a connection (our own backlog, not the receiver's
  // slowness) are withdrawn: their deliveries wait in the queue, due now, and their endpoints are
  // not counted slow. Only requests already written become late first attempts, under a lease.
  for (const [f, sending] of [...inFlight]) if (sending.withdraw()) inFlight.delete(f);
  const after = clock.now();
  // A late attempt counts its endpoint slow (its next deliveries queued) only when its request has been
  // out longer than SLOW_ANSWER_MS: one written just before the wait ended says nothing of the receiver.
  const late: Late[] = [...inFlight].map(([f, sending]) => [f, sending.result, sending.writtenMs() > SLOW_ANSWER_MS]);
  for (const [f, , slow] of late) {
    if (!slow) continue;
    lanes.slowEndpoints.set(f.endpoint_id, (lanes.slowEndpoints.get(f.endpoint_id) ?? 0) + 1);
    // A deep burst answered late: the receiver makes pipelined requests wait for each other; 12 deep for SHALLOW_MS.
    if (!deep.has(f)) continue;
    if (lanes.shallowUntil.size > 10_000) lanes.shallowUntil.clear();
    lanes.shallowUntil.set(f.endpoint_id, now.getTime() + SHALLOW_MS);
  }
  const outcomes = [...results].map(([f, result]) => outcomeOf(f, result, after, random));
  const byFanned = new Map(outcomes.map((o) => [o.d, o]));
  const lease = new Date(after.getTime() + LEASE_MS);
  // Every delivery's row: settled ones with their outcome and their first attempt (first_*, at `after`;
  // no webhook_attempt row), late ones under a lease, the rest due now. No body: it is built from the
  // event whenever the delivery is sent again (deliveryBody).
  // Prepared: its plan reads no table (the rows come in arrays), so a plan kept for the connection stays right.
  await preparedRows(q, `INSERT INTO webhook_delivery (id, endpoint_id, event_member_id, event_id, event_type, body, order_at, status, attempt_count, next_attempt_at, created_at,
      first_at, first_status_code, first_duration_ms, first_error, first_response_excerpt)
    SELECT x.id, x.ep_id, x.m, x.ev, x.ty, NULL, x.oa, x.st, x.n, x.nx, $7::timestamptz,
      CASE WHEN x.fm IS NOT NULL THEN $9::timestamptz END, x.fc, x.fm, x.fe, x.fx
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::int[], $8::timestamptz[], $10::int[], $11::int[], $12::text[], $13::text[], $14::text[], $15::timestamptz[])
      AS x(id, ep_id, m, ev, st, n, nx, fc, fm, fe, fx, ty, oa)`,
  [arrayLiteral(fanned.map((f) => f.id), 'uuid'), arrayLiteral(fanned.map((f) => f.endpoint_id), 'uuid'), arrayLiteral(fanned.map((f) => f.event_member_id), 'uuid'),
    arrayLiteral(fanned.map((f) => f.event_id), 'uuid'), arrayLiteral(fanned.map((f) => byFanned.get(f)?.status ?? 'PENDING'), 'text'),
    arrayLiteral(fanned.map((f) => byFanned.get(f)?.n ?? 0), 'int'), now,
    arrayLiteral(fanned.map((f) => (byFanned.get(f)?.next ?? (inFlight.has(f) ? lease : now)).toISOString()), 'timestamptz'), after,
    arrayLiteral(fanned.map((f) => byFanned.get(f)?.result.statusCode ?? null), 'int'), arrayLiteral(fanned.map((f) => byFanned.get(f)?.result.durationMs ?? null), 'int'),
    arrayLiteral(fanned.map((f) => byFanned.get(f)?.result.error ?? null), 'text'), arrayLiteral(fanned.map((f) => byFanned.get(f)?.result.responseExcerpt ?? null), 'text'),
    arrayLiteral(fanned.map((f) => f.event_type), 'text'), arrayLiteral(fanned.map((f) => f.order_at), 'timestamptz')]);
  await recordEndpointHealth(q, outcomes, after);
  return { attempted: outcomes.length + late.length, late };
}

/**
 * Whether an endpoint's recent answers came within SLOW_ANSWER_MS on average. One whose average is
 * slower is still tried at a fan-out once every PROBE_MS (`now`, ms): the average moves only with new
 * answers, so a burst that once made a quick receiver look slow (our own backlog, a cold start) would
 * otherwise keep its deliveries in the queue, the dearer path, for as long as the queue fed it.
 */
function answersQuickly(lanes: Lanes, endpointId: string, now: number): boolean {
  if ((lanes.answerMs.get(endpointId) ?? 0) <= SLOW_ANSWER_MS) {
    lanes.probedAt.delete(endpointId);
    return true;
  }
  const since = lanes.probedAt.get(endpointId);
  if (since !== undefined && now - since < PROBE_MS) return false;
  if (lanes.probedAt.size > 10_000) lanes.probedAt.clear();
  lanes.probedAt.set(endpointId, now);
  // Found slow now: queued for PROBE_MS; found slow again PROBE_MS after that: tried once more.
  return since !== undefined;
}

/**
 * Whether a fan-out sends to an endpoint DEEP_PIPELINING deep (see there) at `now` (ms, the hub's
 * clock): its recent answers came within SLOW_ANSWER_MS on average (noteAnswer), and no deep burst of
 * it was answered late in the last SHALLOW_MS. An endpoint not heard from yet in this process, or
 * tried again while slow (answersQuickly's probe), is sent to 12 deep until it has answered quickly.
 */
function pipelinesDeep(lanes: Lanes, endpointId: string, now: number): boolean {
  const ms = lanes.answerMs.get(endpointId);
  if (ms === undefined || ms > SLOW_ANSWER_MS) return false;
  const until = lanes.shallowUntil.get(endpointId);
  if (until === undefined) return true;
  if (now < until) return false;
  lanes.shallowUntil.delete(endpointId);
  return true;
}

/** Keeps each endpoint's recent answer time (ms, a moving average; failures count as slow). */
function noteAnswer(lanes: Lanes, endpointId: string, result: AttemptResult): void {
  const ms = result.error === null ? result.durationMs : DELIVERY_TIMEOUT_MS;
  const before = lanes.answerMs.get(endpointId);
  lanes.answerMs.set(endpointId, before === undefined ? ms : before * 0.8 + ms * 0.2);
  if (lanes.answerMs.size > 10_000) lanes.answerMs.clear();
}

/**
 * Settles the late first attempts of one fan-out once they have all answered (each within the 10 s
 * timeout), together in one transaction: the fan-out has committed their deliveries under the 15 s
 * lease. Until then their endpoints count as slow. If settling fails, the leases run out and the
 * deliveries are sent again. Tracked per process so stopping the worker waits for it.
 */
function settleLate(db: DataSource, late: Late[], random: () => number): void {
  const lanes = lanesOf(db);
  const settling = (async () => {
    const results = await Promise.all(late.map(([f, sending, slow]) => sending.then((result) => {
      noteAnswer(lanes, f.endpoint_id, result);
      if (slow) {
        const left = lanes.slowEndpoints.get(f.endpoint_id)! - 1;
        if (left > 0) lanes.slowEndpoints.set(f.endpoint_id, left);
        else lanes.slowEndpoints.delete(f.endpoint_id);
      }
      return result;
    })));
    const q = db.createQueryRunner();
    try {
      await q.connect();
      await q.startTransaction();
      await settleAll(q, late.map(([f]) => f), results, clock.now(), random);
      await q.commitTransaction();
    } catch {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      // Not recorded: the leases run out and the deliveries are sent again.
    } finally {
      await q.release();
    }
  })();
  lanes.late.add(settling);
  void settling.finally(() => lanes.late.delete(settling));
}

/** Waits for the late first attempts this process still has in flight (at shutdown; tests). */
export async function settleLateAttempts(db: DataSource): Promise<void> {
  await Promise.all([...lanesOf(db).late]);
}

/**
 * What the delivery lanes of one process (one DataSource) share: the deliveries they have in flight,
 * which a new claim leaves out (they are still PENDING and locked, and SKIP LOCKED would only skip
 * them after picking them), and the turn of claiming.
 */
interface Lanes {
  inFlight: Set<string>;
  claiming: Promise<void>;
  /** First attempts made at fan-out that outlived its wait, being settled on their own. */
  late: Set<Promise<void>>;
  /** Endpoints with such late first attempts in flight, and how many. */
  slowEndpoints: Map<string, number>;
  /** Each endpoint's recent answer time, ms (noteAnswer). */
  answerMs: Map<string, number>;
  /** Since when (ms) an endpoint that answers slowly has been queued, or was last tried at a fan-out anyway (answersQuickly). */
  probedAt: Map<string, number>;
  /** Until when (ms, the hub's clock) an endpoint is sent to 12 deep: a deep burst of it was answered late (pipelinesDeep). */
  shallowUntil: Map<string, number>;
}
const lanesByDb = new WeakMap<DataSource, Lanes>();
function lanesOf(db: DataSource): Lanes {
  let lanes = lanesByDb.get(db);
  if (!lanes) lanesByDb.set(db, (lanes = { inFlight: new Set(), claiming: Promise.resolve(), late: new Set(), slowEndpoints: new Map(), answerMs: new Map(), probedAt: new Map(), shallowUntil: new Map() }));
  return lanes;
}

interface Claimed {
  id: string;
  next_attempt_at: Date;
  endpoint_id: string;
  event_id: string;
  /** The request body: as text (claims) or as UTF-8 bytes shared with the deliveries of the same body (fan-out). */
  body: string | Buffer;
  attempt_count: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
}

interface AttemptResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

/**
 * The DNS lookup a delivery connects with: the addresses are checked where the socket is opened, so
 * a name that resolved to a public address when checked cannot point at a private one when used
 * (DNS rebinding). With private targets allowed (development, tests) it is the plain lookup.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as unknown as LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => isForbiddenAddress(a.address));
      if (bad) return callback(Object.assign(new Error(`${hostname} resolves to ${bad.address}, a loopback, private, link-local, metadata or other special-purpose (not globally reachable) address`), { code: 'EADDRNOTALLOWED' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** An endpoint's URL taken apart once: origin (`https://host:port`), path with query, host without IPv6 brackets. */
interface Target {
  text: string;
  origin: string;
  path: string;
  host: string;
}
const targets = new Map<string, Target>();
/** An endpoint's URL, parsed once (a few hundred endpoints at most are live; the cache is bounded anyway). */
function parsedUrl(text: string): Target {
  let target = targets.get(text);
  if (!target) {
    if (targets.size >= 10_000) targets.clear();
    const url = new URL(text);
    targets.set(text, (target = { text, origin: url.origin, path: url.pathname + url.search, host: url.hostname.replace(/^\[|\]$/g, '') }));
  }
  return target;
}

/** The result of a withdrawn attempt (Attempt.withdraw): nothing was sent; not an attempt to record. */
const WITHDRAWN: AttemptResult = { statusCode: null, error: 'withdrawn before it was sent', responseExcerpt: null, durationMs: 0 };

/**
 * How often (ms) the attempts in flight are checked against their deadline: one sweep for all of
 * them instead of a timer each (an attempt ends at most this much after its 10 s).
 */
const DEADLINE_SWEEP_MS = 100;
/** Attempts in flight in this process, for the deadline sweep. */
const pending = new Set<Attempt>();
let sweeper: NodeJS.Timeout | undefined;
function sweepDeadlines(): void {
  const now = performance.now();
  for (const a of pending) if (now >= a.deadline) a.expire();
  if (!pending.size) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/**
 * One signed POST of a delivery, in flight: undici's handler for it, its state, and what its sender
 * may do meanwhile (withdraw it while unwritten, ask how long it has been out). One object an
 * attempt, not a closure per callback: a worker makes thousands a second. `result` resolves once,
 * never rejects: within the 10 s deadline from the start (the wait for a connection included), no
 * redirect followed. `durationMs` counts from the moment the request was written to its connection
 * (the receiver's time, not the wait for a connection), or from the start when it never was.
 */
class Attempt implements Dispatcher.DispatchHandlers {
  readonly result: Promise<AttemptResult>;
  /** performance.now() (ms) past which the attempt ends as a timeout (sweepDeadlines). */
  readonly deadline: number;
  private settle!: (result: AttemptResult) => void;
  private since = performance.now();
  private written = false;
  private finished = false;
  private statusCode: number | null = null;
  private received = 0;
  /** The answer's first chunks, up to EXCERPT_CHARS × 4 bytes (excerpt() cuts them to EXCERPT_CHARS). */
  private kept: Buffer[] | null = null;
  private abortRequest: ((error?: Error) => void) | null = null;

  constructor() {
    this.result = new Promise<AttemptResult>((settle) => { this.settle = settle; });
    this.deadline = this.since + DELIVERY_TIMEOUT_MS;
    pending.add(this);
    sweeper ??= setInterval(sweepDeadlines, DEADLINE_SWEEP_MS).unref();
  }

  /** Ends the attempt with what was seen (not sent: `error` only). */
  end(statusCode: number | null, error: string | null, withText: boolean): void {
    if (this.finished) return;
    this.finished = true;
    pending.delete(this);
    const text = withText && this.kept ? (this.kept.length === 1 ? this.kept[0]! : Buffer.concat(this.kept)).toString('utf8') : withText ? '' : null;
    this.settle({ statusCode, error, responseExcerpt: text === null ? null : excerpt(text), durationMs: Math.round(performance.now() - this.since) });
  }

  /**
   * The deadline passed: an answer whose status came but whose body did not finish keeps its
   * status, and is a failure; a request not yet written is dropped when undici comes to write it (onConnect).
   */
  expire(): void {
    const answered = this.statusCode !== null && this.statusCode >= 200;
    if (answered) this.end(this.statusCode, `answer not complete within ${DELIVERY_TIMEOUT_MS / 1000} s`, true);
    else this.end(null, `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`, false);
    this.abortRequest?.();
  }

  /**
   * Withdraws the attempt if its request has not been written yet (it is still waiting for room on
   * a connection): it then resolves to WITHDRAWN and nothing is sent. False once written.
   */
  withdraw(): boolean {
    if (this.written || this.finished) return false;
    this.finished = true;
    pending.delete(this);
    this.settle(WITHDRAWN);
    return true;
  }

  /** How long (ms) the request has been written; 0 while it is not. */
  writtenMs(): number {
    return this.written ? performance.now() - this.since : 0;
  }

  onConnect(abortRequest: (error?: Error) => void): void {
    // Throwing here makes undici drop this request alone; calling abortRequest would also close
    // the connection, and re-send the requests pipelined on it.
    if (this.finished) throw new Error('deadline passed or withdrawn before the request was written');
    if (!this.written) {
      this.written = true;
      this.since = performance.now();
    }
    this.abortRequest = abortRequest;
    // Called again when undici re-sends the request (idempotent, after a connection reset): what
    // the earlier try read is forgotten.
    this.statusCode = null;
    this.received = 0;
    this.kept = null;
  }

  onHeaders(statusCode: number): boolean {
    this.statusCode = statusCode; // the last one: 1xx answers come before
    return true;
  }

  // The first EXCERPT_CHARS characters of the answer are kept; an answer longer than
  // ANSWER_BYTES_READ is not read further: the connection is closed and the status stands.
  onData(chunk: Buffer): boolean {
    if (this.received < EXCERPT_CHARS * 4) (this.kept ??= []).push(chunk);
    this.received += chunk.length;
    if (this.received > ANSWER_BYTES_READ) {
      this.onComplete();
      this.abortRequest?.();
      return false;
    }
    return true;
  }

  onComplete(): void {
    const code = this.statusCode!;
    this.end(code, code >= 200 && code < 300 ? null : `HTTP ${code}`, true);
  }

  onError(caught: Error): void {
    const error = caught as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const cause = error.cause ?? error;
    const why = cause.code === 'EADDRNOTALLOWED' ? `not sent: ${cause.message}` : `${cause.code ?? cause.name}: ${cause.message}`;
    this.end(null, why.slice(0, 300), false);
  }
}

/** A request's constant headers (Standard Webhooks' three follow). */
const CONSTANT_HEADERS = ['content-type', 'application/json', 'user-agent', 'coalition-hub-webhooks/1'];

/**
 * Starts one signed POST of a delivery (see Attempt) at `now` (its webhook-timestamp): its body as
 * text, or as the UTF-8 bytes it shares with other deliveries of the same body; `deep`: on the
 * endpoint's connections pipelined DEEP_PIPELINING deep instead of 12 (pipelinesDeep).
 */
function attempt(d: Claimed, now: Date, allowPrivate: boolean, deep: boolean): Attempt {
  const sending = new Attempt();
  const url = parsedUrl(d.url);
  // A literal address never goes through the lookup: check it here.
  if (!allowPrivate && isIP(url.host) && isForbiddenAddress(url.host)) {
    sending.end(null, `not sent: ${url.host} is a loopback, private, link-local, metadata or other special-purpose (not globally reachable) address`, false);
    return sending;
  }
  const timestamp = Math.floor(now.getTime() / 1000);
  const secrets = d.previous_secret && d.previous_secret_until && d.previous_secret_until > now ? [d.secret, d.previous_secret] : [d.secret];
  const to = connectionsFor(allowPrivate, url, deep);
  holdWritesToImmediates(to);
  try {
    // undici's lowest layer: no response stream, no AbortSignal, no promise per request beyond this one
    // (about half the CPU of its request(), measured by bench/webhook-cost.ts). A redirect is not
    // followed (it could point anywhere, private addresses included): it counts as a failure.
    to.pool.dispatch({
      origin: url.origin, path: url.path, method: 'POST', body: d.body,
      // Safe to send pipelined (and again): receivers deduplicate by webhook-id (Standard Webhooks).
      idempotent: true,
      headers: [...CONSTANT_HEADERS, 'webhook-id', d.event_id, 'webhook-timestamp', String(timestamp), 'webhook-signature', signatureHeader(secrets, d.event_id, timestamp, d.body)],
    }, sending);
  } catch (caught) {
    sending.onError(caught as Error);
  }
  return sending;
}


/** An attempt's consequence for its delivery: the attempt number, and DELIVERED, due again at `next`, or FAILED. */
interface Outcome {
  d: Claimed;
  result: AttemptResult;
  n: number;
  next: Date | null;
  status: 'DELIVERED' | 'PENDING' | 'FAILED';
}

function outcomeOf(d: Claimed, result: AttemptResult, now: Date, random: () => number): Outcome {
  const n = d.attempt_count + 1;
  const next = result.error === null ? null : nextAttemptAt(n, now, random());
  countWebhookAttempt(result.error === null ? 'delivered' : next ? 'retry' : 'failed');
  return { d, result, n, next, status: result.error === null ? 'DELIVERED' : next ? 'PENDING' : 'FAILED' };
}

/**
 * Records outcomes' attempts (one row each, at `at`, UTC) and then the endpoints' failure windows
 * (recordEndpointHealth), in the caller's transaction.
 */
async function recordAttempts(q: QueryRunner, outcomes: Outcome[], at: Date): Promise<void> {
  if (!outcomes.length) return;
  await rows(q, `INSERT INTO webhook_attempt (delivery_id, n, at, status_code, duration_ms, error, response_excerpt)
    SELECT id, n, $7::timestamptz, code, ms, err, ex FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[]) AS x(id, n, code, ms, err, ex)`,
  [arrayLiteral(outcomes.map((o) => o.d.id), 'uuid'), arrayLiteral(outcomes.map((o) => o.n), 'int'), arrayLiteral(outcomes.map((o) => o.result.statusCode), 'int'),
    arrayLiteral(outcomes.map((o) => o.result.durationMs), 'int'), arrayLiteral(outcomes.map((o) => o.result.error), 'text'),
    arrayLiteral(outcomes.map((o) => o.result.responseExcerpt), 'text'), at]);
  await recordEndpointHealth(q, outcomes, at);
}

/**
 * Each endpoint's failure window after some outcomes, as if they had been applied one by one in
 * order: a success clears the window; a failure after the endpoint's last success opens it, or
 * disables the endpoint once it is 5 days old.
 */
async function recordEndpointHealth(q: QueryRunner, outcomes: Outcome[], now: Date): Promise<void> {
  const byEndpoint = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    const list = byEndpoint.get(o.d.endpoint_id);
    if (list) list.push(o);
    else byEndpoint.set(o.d.endpoint_id, [o]);
  }
  const cleared: string[] = [];
  const failing: { id: string; error: string }[] = [];
  // Endpoint rows are updated in id order, the one order every worker uses (no deadlock between them).
  for (const [id, list] of [...byEndpoint].sort(([x], [y]) => (x < y ? -1 : 1))) {
    let lastSuccess = -1;
    list.forEach((o, i) => { if (o.result.error === null) lastSuccess = i; });
    if (lastSuccess >= 0) cleared.push(id);
    const firstFailure = list.slice(lastSuccess + 1).find((o) => o.result.error !== null);
    if (firstFailure) failing.push({ id, error: firstFailure.result.error! });
  }
  if (cleared.length) await rows(q, 'UPDATE webhook_endpoint SET failing_since = NULL WHERE id = ANY($1::uuid[]) AND failing_since IS NOT NULL', [cleared]);
  for (const f of failing) {
    await rows(q, `UPDATE webhook_endpoint SET failing_since = COALESCE(failing_since, $2),
        enabled = enabled AND $2 - COALESCE(failing_since, $2) < $3 * interval '1 millisecond',
        disabled_reason = CASE WHEN enabled AND $2 - COALESCE(failing_since, $2) >= $3 * interval '1 millisecond'
          THEN 'disabled: every delivery failed for 5 days (since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '); last error: ' || $4
          ELSE disabled_reason END
      WHERE id = $1 AND (failing_since IS NULL OR (enabled AND $2 - failing_since >= $3 * interval '1 millisecond'))`, [f.id, now, DISABLE_AFTER_MS, f.error.slice(0, 200)]);
  }
}

/**
 * Records outcomes of claimed deliveries in a few statements, whatever their number: every attempt;
 * each delivery DELIVERED, due again (the next retry) or FAILED — only while it is still at the
 * attempt count it was sent at (a delivery sent at fan-out and settled late may meanwhile have been
 * taken again after its lease: that attempt is the one recorded); then the endpoints' failure windows.
 */
async function settleAll(q: QueryRunner, claimed: Claimed[], results: AttemptResult[], now: Date, random: () => number): Promise<void> {
  const outcomes = claimed.map((d, i) => outcomeOf(d, results[i]!, now, random));
  const settled = await rows<{ id: string }>(q, `UPDATE webhook_delivery d SET status = v.status, attempt_count = v.n, next_attempt_at = COALESCE(v.next, d.next_attempt_at)
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[]) AS v(id, n, status, next) WHERE d.id = v.id AND d.attempt_count = v.n - 1 AND d.status = 'PENDING'
    RETURNING d.id`, [arrayLiteral(outcomes.map((o) => o.d.id), 'uuid'), arrayLiteral(outcomes.map((o) => o.n), 'int'), arrayLiteral(outcomes.map((o) => o.status), 'text'),
    arrayLiteral(outcomes.map((o) => o.next?.toISOString() ?? null), 'timestamptz')]);
  const kept = new Set(settled.map((r) => r.id));
  const recorded = outcomes.filter((o) => kept.has(o.d.id));
  await recordAttempts(q, recorded, now);
}

/**
 * Claims due deliveries with FOR UPDATE SKIP LOCKED (another instance skips them), sends them, and
 * records the outcomes in the same transaction. A delivery waits while an earlier delivery of the
 * same member's events to the same endpoint is still pending, so each member's events arrive in
 * order. If this process dies mid-delivery, its transaction rolls back and the delivery stays due:
 * at least once, never lost. Returns how many deliveries it attempted.
 */
export async function deliverDue(db: DataSource, options: WorkerOptions): Promise<number> {
  const random = options.random ?? Math.random;
  const lanes = lanesOf(db);
  const q = db.createQueryRunner();
  let claimed: Claimed[] = [];
  let releaseClaim: (() => void) | undefined;
  try {
    await q.connect();
    // Most rounds find nothing due (first attempts go at fan-out): asked first, in a statement read from
    // the partial index of pending deliveries, instead of planning the claim (about 1 ms) and opening a
    // transaction for nothing. One that only another worker's claim holds is claimed and skipped as before.
    const [due] = await rows<{ due: boolean }>(q, `SELECT EXISTS (SELECT 1 FROM webhook_delivery WHERE status = 'PENDING' AND next_attempt_at <= $1) AS due`, [clock.now()]);
    if (!due!.due) return 0;
    // Claims in this process take turns, so a claim can leave out what the claims before it hold.
    const turn = lanes.claiming;
    lanes.claiming = new Promise<void>((resolveTurn) => { releaseClaim = resolveTurn; });
    await turn;
    await q.startTransaction();
    const now = clock.now();
    // The batch: due deliveries in due order, at most CLAIM_PER_HOST a receiver host, each the member's
    // earliest pending one to its endpoint; locked, skipping what another worker holds.
    claimed = await rows<Claimed>(q, `WITH due AS (
        SELECT d.id, substring(ep.url from '^[^:]+://[^/?#]+') AS origin, d.next_attempt_at, d.order_at
        FROM webhook_delivery d JOIN webhook_endpoint ep ON ep.id = d.endpoint_id AND ep.enabled
        WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 AND d.id <> ALL($2::uuid[])
          AND (d.event_member_id = '${NO_MEMBER}' OR NOT EXISTS (SELECT 1 FROM webhook_delivery o WHERE o.endpoint_id = d.endpoint_id
            AND o.event_member_id = d.event_member_id AND o.status = 'PENDING' AND (o.order_at, o.event_id, o.id) < (d.order_at, d.event_id, d.id)))
        ORDER BY d.next_attempt_at, d.order_at LIMIT ${CLAIM_WINDOW}),
      picked AS (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY origin ORDER BY next_attempt_at, order_at) AS rank FROM due) r WHERE rank <= ${CLAIM_PER_HOST})
      SELECT d.id, d.endpoint_id, d.event_id, COALESCE(d.body, ${DELIVERY_BODY}) AS body, d.attempt_count, d.next_attempt_at,
        ep.url, ep.secret, ep.previous_secret, ep.previous_secret_until
      FROM webhook_delivery d JOIN webhook_endpoint ep ON ep.id = d.endpoint_id AND ep.enabled
      -- A delivery of an event has no stored body: it is built from the event (a test event's is stored).
      LEFT JOIN event e ON e.member_id = d.event_member_id AND e.id = d.event_id ${RECEIVER_VIEW}
      -- Checked again on the locked row: a delivery another worker has just settled (sent, or due later) is not taken.
      WHERE d.id IN (SELECT id FROM picked) AND d.status = 'PENDING' AND d.next_attempt_at <= $1
      ORDER BY d.next_attempt_at, d.order_at LIMIT ${CLAIM_BATCH} FOR UPDATE OF d SKIP LOCKED`, [now, [...lanes.inFlight]]);
    for (const d of claimed) lanes.inFlight.add(d.id);
    releaseClaim!();
    if (!claimed.length) {
      await q.commitTransaction();
      return 0;
    }
    setOutboxLag('delivery', Math.max(...claimed.map((d) => now.getTime() - d.next_attempt_at.getTime())) / 1000);
    const results = await Promise.all(claimed.map(async (d) => {
      const result = await attempt(d, now, options.allowPrivate, false).result;
      noteAnswer(lanes, d.endpoint_id, result);
      return result;
    }));
    const after = clock.now();
    await settleAll(q, claimed, results, after, random);
    await q.commitTransaction();
    return claimed.length;
  } catch (error) {
    if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    releaseClaim?.();
    for (const d of claimed) lanes.inFlight.delete(d.id);
    await q.release();
  }
}

/**
 * One pass, in rounds: fan out what is pending (one instance at a time), then claim and send what is
 * due, again while either found work (a member's next event waits for its previous one, and events
 * keep arriving). While there is work, up to LANES − 1 more lanes claim and send side by side, each
 * until it finds nothing, so a lane waiting on a slow receiver or on its commit holds only its own
 * round. At most MAX_ROUNDS_PER_TICK rounds in all. Returns what it did.
 */
export async function runWebhookTick(db: DataSource, options: WorkerOptions): Promise<{ fannedOut: number; attempted: number }> {
  let fannedOut = 0;
  let attempted = 0;
  let rounds = 0;
  const running: Promise<void>[] = [];
  let others = 0;
  // Another lane for the queue, when a claim found work and fewer than LANES are running; it stops when it finds nothing.
  const more = () => {
    if (others >= LANES - 1) return;
    others++;
    running.push((async () => {
      try {
        while (rounds++ < MAX_ROUNDS_PER_TICK) {
          const sent = await deliverDue(db, options);
          attempted += sent;
          if (sent === 0) return;
        }
      } finally {
        others--;
      }
    })());
  };
  try {
    while (rounds++ < MAX_ROUNDS_PER_TICK) {
      const roundStarted = performance.now();
      let fanned = 0;
      let sentAtFanOut = 0;
      for (let full = true; full;) {
        const { taken, attempted: first } = await fanOut(db, options);
        fanned += taken;
        sentAtFanOut += first;
        full = taken === FAN_OUT_BATCH;
      }
      attempted += sentAtFanOut;
      const sent = await deliverDue(db, options);
      fannedOut += fanned;
      attempted += sent;
      if (fanned === 0 && sent === 0) break;
      if (sent > 0) more();
      // Rounds at most every ROUND_MS while events trickle in: a round's fixed statements (about ten
      // round trips) are then shared by many deliveries instead of a few.
      const rest = (options.roundMs ?? ROUND_MS) - (performance.now() - roundStarted);
      if (rest > 0) await new Promise((resolveRest) => setTimeout(resolveRest, rest));
    }
  } finally {
    // Every lane has finished before the tick ends; a lane's failure is the tick's failure.
    const lanes = await Promise.allSettled(running);
    const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return { fannedOut, attempted };
}

/**
 * The delivery worker every server instance runs (never inside a request): a tick, then a pause of
 * `intervalMs` (100 ms at most after a tick that found work), and again. Several instances share the work through the advisory lock and SKIP
 * LOCKED. Returns a function that stops it and waits for the tick in flight.
 */
export function startWebhookWorker(db: DataSource, intervalMs: number, options: WorkerOptions): () => Promise<void> {
  if (intervalMs <= 0) return async () => undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = (async () => {
      let busy = false;
      try {
        const done = await runWebhookTick(db, options);
        busy = done.fannedOut + done.attempted > 0;
      } catch (error) {
        options.log.error(`webhook worker: tick failed (${error instanceof Error ? error.message : String(error)}); retrying next tick`);
      }
      if (!stopped) {
        // While events keep coming, look again soon: the lag target is seconds, the idle poll need not be.
        timer = setTimeout(loop, busy ? Math.min(intervalMs, BUSY_POLL_MS) : intervalMs);
        timer.unref();
      }
    })();
  };
  timer = setTimeout(loop, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
    await settleLateAttempts(db);
    await closeWebhookConnections();
  };
}
