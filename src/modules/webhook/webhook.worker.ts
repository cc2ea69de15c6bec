import { LookupAddress, lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LookupFunction, isIP } from 'node:net';
import type { DataSource, QueryRunner } from 'typeorm';
import type { Logger } from '../../common/logger';
import { countWebhookAttempt, setOutboxLag } from '../../api/metrics';
import { clock } from '../../common/clock';
import { rows } from '../../db/transaction';
import { DELIVERY_TIMEOUT_MS, DISABLE_AFTER_MS, NO_MEMBER, excerpt, isForbiddenAddress, nextAttemptAt, signatureHeader } from './webhook.rules';

/** Deliveries one worker sends at once (one transaction holds their row locks while they are in flight). */
const CLAIM_BATCH = 16;
/** Events fanned out to deliveries per statement. */
const FAN_OUT_BATCH = 1000;
/** Rounds of claiming a tick may do before it yields to the next tick. */
const MAX_ROUNDS_PER_TICK = 20;

export interface WorkerOptions {
  allowPrivate: boolean;
  log: Logger;
  /** Uniform [0, 1) for retry jitter; tests pin it. */
  random?: () => number;
}

/**
 * Turns pending events into deliveries, one endpoint each that wants the event and may see it
 * (operator: every event; a partner or an affiliate: events naming it, with the view written for it).
 * Runs under a transaction-scoped advisory lock, so one instance at a time fans out, in commit order
 * of each member's events (a member's postings are serialized by its lock), which keeps the
 * deliveries of one member to one endpoint in the order their events were committed.
 * Returns how many events it took.
 */
export async function fanOut(db: DataSource): Promise<number> {
  const q = db.createQueryRunner();
  try {
    await q.connect();
    await q.startTransaction();
    const [lock] = await rows<{ got: boolean }>(q, `SELECT pg_try_advisory_xact_lock(hashtext('coalition-hub:webhook-fan-out')) AS got`);
    if (!lock!.got) {
      await q.rollbackTransaction();
      return 0;
    }
    const taken = await rows<{ n: number; oldest: Date | null }>(q, `WITH p AS (
        DELETE FROM event_pending WHERE (member_id, event_id) IN (SELECT member_id, event_id FROM event_pending ORDER BY occurred_at, event_id LIMIT ${FAN_OUT_BATCH})
        RETURNING member_id, event_id, occurred_at),
      d AS (INSERT INTO webhook_delivery (id, endpoint_id, event_member_id, event_id, event_type, body, order_at, status, attempt_count, next_attempt_at, created_at)
        SELECT gen_random_uuid(), ep.id, e.member_id, e.id, e.type,
          jsonb_build_object('id', e.id, 'type', e.type, 'timestamp', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', v.view)::text,
          e.occurred_at, 'PENDING', 0, $1::timestamptz, $1::timestamptz
        FROM p JOIN event e ON e.member_id = p.member_id AND e.id = p.event_id
        JOIN webhook_endpoint ep ON ep.enabled AND (e.type = ANY(ep.event_types) OR '*' = ANY(ep.event_types))
        CROSS JOIN LATERAL (SELECT CASE ep.owner_type WHEN 'OPERATOR' THEN e.data
          WHEN 'PARTNER' THEN CASE WHEN ep.owner_id = ANY(e.partner_ids) THEN e.views -> ('partner:' || ep.owner_id::text) END
          WHEN 'AFFILIATE' THEN CASE WHEN ep.owner_id = ANY(e.affiliate_ids) THEN e.views -> ('affiliate:' || ep.owner_id::text) END END AS view) v
        WHERE v.view IS NOT NULL
        ORDER BY e.occurred_at, e.id
        RETURNING 1)
      SELECT (SELECT count(*) FROM p)::int AS n, (SELECT min(occurred_at) FROM p) AS oldest`, [clock.now()]);
    await q.commitTransaction();
    const oldest = taken[0]!.oldest;
    setOutboxLag('fan_out', oldest ? (clock.now().getTime() - oldest.getTime()) / 1000 : 0);
    return taken[0]!.n;
  } catch (error) {
    if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await q.release();
  }
}

interface Claimed {
  id: string;
  next_attempt_at: Date;
  endpoint_id: string;
  event_id: string;
  body: string;
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

/** One signed POST of a delivery (10 s at most, no redirects followed); never throws. */
async function attempt(d: Claimed, now: Date, allowPrivate: boolean): Promise<AttemptResult> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null, text: string | null): AttemptResult =>
    ({ statusCode, error, responseExcerpt: text === null ? null : excerpt(text), durationMs: Math.round(performance.now() - started) });
  const url = new URL(d.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A literal address never goes through the lookup: check it here.
  if (!allowPrivate && isIP(host) && isForbiddenAddress(host)) return done(null, `not sent: ${host} is a loopback, private, link-local, metadata or other special-purpose (not globally reachable) address`, null);
  const timestamp = Math.floor(now.getTime() / 1000);
  const secrets = [d.secret, ...(d.previous_secret && d.previous_secret_until && d.previous_secret_until > now ? [d.previous_secret] : [])];
  const body = Buffer.from(d.body, 'utf8');
  return new Promise<AttemptResult>((resolveAttempt) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      lookup: guardedLookup(allowPrivate),
      timeout: DELIVERY_TIMEOUT_MS,
      headers: {
        'content-type': 'application/json', 'content-length': body.length, 'user-agent': 'coalition-hub-webhooks/1',
        'webhook-id': d.event_id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader(secrets, d.event_id, timestamp, d.body),
      },
    }, (res) => {
      // A redirect could point anywhere, private addresses included: it is not followed, and counts as a failure.
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (text.length < 1000) text += chunk; });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolveAttempt(done(status, status >= 200 && status < 300 ? null : `HTTP ${status}`, text.slice(0, 1000)));
      });
      res.on('error', (error) => resolveAttempt(done(status(res.statusCode), `${error.name}: ${error.message}`.slice(0, 300), null)));
    });
    const deadline = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })), DELIVERY_TIMEOUT_MS);
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ETIMEDOUT' ? error.message : error.code === 'EADDRNOTALLOWED' ? `not sent: ${error.message}` : `${error.code ?? error.name}: ${error.message}`;
      resolveAttempt(done(null, why.slice(0, 300), null));
    });
    req.on('close', () => clearTimeout(deadline));
    req.end(body);
  });
}

const status = (code: number | undefined) => code ?? null;

/**
 * Records a round's outcomes in a few statements, whatever its size: every attempt; each delivery
 * DELIVERED, due again (the next retry) or FAILED; and each endpoint's failure window, as if the
 * outcomes had been applied one by one in claim order (a success clears the window; a failure after
 * the endpoint's last success in the round opens it, or disables the endpoint once it is 5 days old).
 */
async function settleAll(q: QueryRunner, claimed: Claimed[], results: AttemptResult[], now: Date, random: () => number): Promise<void> {
  const outcomes = claimed.map((d, i) => {
    const result = results[i]!;
    const n = d.attempt_count + 1;
    const next = result.error === null ? null : nextAttemptAt(n, now, random());
    countWebhookAttempt(result.error === null ? 'delivered' : next ? 'retry' : 'failed');
    return { d, result, n, next, status: result.error === null ? 'DELIVERED' : next ? 'PENDING' : 'FAILED' };
  });
  await rows(q, `WITH a AS (INSERT INTO webhook_attempt (delivery_id, n, at, status_code, duration_ms, error, response_excerpt)
      SELECT id, n, $3::timestamptz, code, ms, err, ex FROM unnest($1::uuid[], $2::int[], $4::int[], $5::int[], $6::text[], $7::text[]) AS x(id, n, code, ms, err, ex))
    UPDATE webhook_delivery d SET status = v.status, attempt_count = v.n, next_attempt_at = COALESCE(v.next, d.next_attempt_at)
    FROM unnest($1::uuid[], $2::int[], $8::text[], $9::timestamptz[]) AS v(id, n, status, next) WHERE d.id = v.id`,
  [outcomes.map((o) => o.d.id), outcomes.map((o) => o.n), now, outcomes.map((o) => o.result.statusCode), outcomes.map((o) => o.result.durationMs),
    outcomes.map((o) => o.result.error), outcomes.map((o) => o.result.responseExcerpt), outcomes.map((o) => o.status), outcomes.map((o) => o.next?.toISOString() ?? null)]);
  const byEndpoint = new Map<string, typeof outcomes>();
  for (const o of outcomes) byEndpoint.set(o.d.endpoint_id, [...(byEndpoint.get(o.d.endpoint_id) ?? []), o]);
  const cleared: string[] = [];
  const failing: { id: string; error: string }[] = [];
  for (const [id, list] of byEndpoint) {
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
      WHERE id = $1`, [f.id, now, DISABLE_AFTER_MS, f.error.slice(0, 200)]);
  }
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
  const q = db.createQueryRunner();
  try {
    await q.connect();
    await q.startTransaction();
    const now = clock.now();
    const claimed = await rows<Claimed>(q, `SELECT d.id, d.endpoint_id, d.event_id, d.body, d.attempt_count, d.next_attempt_at, ep.url, ep.secret, ep.previous_secret, ep.previous_secret_until
      FROM webhook_delivery d JOIN webhook_endpoint ep ON ep.id = d.endpoint_id AND ep.enabled
      WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1
        AND (d.event_member_id = '${NO_MEMBER}' OR NOT EXISTS (SELECT 1 FROM webhook_delivery o WHERE o.endpoint_id = d.endpoint_id
          AND o.event_member_id = d.event_member_id AND o.status = 'PENDING' AND (o.order_at, o.created_at, o.id) < (d.order_at, d.created_at, d.id)))
      ORDER BY d.next_attempt_at, d.order_at LIMIT ${CLAIM_BATCH} FOR UPDATE OF d SKIP LOCKED`, [now]);
    if (!claimed.length) {
      await q.commitTransaction();
      return 0;
    }
    setOutboxLag('delivery', Math.max(...claimed.map((d) => now.getTime() - d.next_attempt_at.getTime())) / 1000);
    const results = await Promise.all(claimed.map((d) => attempt(d, now, options.allowPrivate)));
    const after = clock.now();
    await settleAll(q, claimed, results, after, random);
    await q.commitTransaction();
    return claimed.length;
  } catch (error) {
    if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await q.release();
  }
}

/** One pass: fan out what is pending, then deliver what is due, in bounded rounds. */
export async function runWebhookTick(db: DataSource, options: WorkerOptions): Promise<{ fannedOut: number; attempted: number }> {
  let fannedOut = 0;
  for (let n = await fanOut(db); n > 0; n = n === FAN_OUT_BATCH ? await fanOut(db) : 0) fannedOut += n;
  let attempted = 0;
  for (let round = 0; round < MAX_ROUNDS_PER_TICK; round++) {
    // One claim at a time: claims side by side took CPU from the postings on a saturated machine
    // (bench (f): f/a 0.56 with four, 0.99 with one), and postings come first.
    const n = await deliverDue(db, options);
    attempted += n;
    // Another round while something was sent: a member's next event waits for its previous one.
    if (n === 0) break;
  }
  return { fannedOut, attempted };
}

/**
 * The delivery worker every server instance runs (never inside a request): a tick, then a pause of
 * `intervalMs`, and again. Several instances share the work through the advisory lock and SKIP
 * LOCKED. Returns a function that stops it and waits for the tick in flight.
 */
export function startWebhookWorker(db: DataSource, intervalMs: number, options: WorkerOptions): () => Promise<void> {
  if (intervalMs <= 0) return async () => undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = (async () => {
      try {
        await runWebhookTick(db, options);
      } catch (error) {
        options.log.error(`webhook worker: tick failed (${error instanceof Error ? error.message : String(error)}); retrying next tick`);
      }
      if (!stopped) {
        timer = setTimeout(loop, intervalMs);
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
  };
}
