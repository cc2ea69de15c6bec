import type { DataSource, QueryRunner } from 'typeorm';
import type { Logger } from '../../common/logger';
import { countWebhookAttempt } from '../../api/metrics';
import { clock } from '../../common/clock';
import { rows } from '../../db/transaction';
import { DELIVERY_TIMEOUT_MS, DISABLE_AFTER_MS, NO_MEMBER, excerpt, nextAttemptAt, signatureHeader } from './webhook.rules';
import { addressProblem } from './webhook.service';

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
    const taken = await rows<{ n: number }>(q, `WITH p AS (
        DELETE FROM event_pending WHERE (member_id, event_id) IN (SELECT member_id, event_id FROM event_pending ORDER BY occurred_at, event_id LIMIT ${FAN_OUT_BATCH})
        RETURNING member_id, event_id),
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
      SELECT (SELECT count(*) FROM p)::int AS n`, [clock.now()]);
    await q.commitTransaction();
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

/** One signed POST of a delivery; never throws. */
async function attempt(d: Claimed, now: Date, allowPrivate: boolean): Promise<AttemptResult> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null, text: string | null): AttemptResult =>
    ({ statusCode, error, responseExcerpt: text === null ? null : excerpt(text), durationMs: Math.round(performance.now() - started) });
  try {
    if (!allowPrivate) {
      const problem = await addressProblem(new URL(d.url).hostname);
      if (problem) return done(null, `not sent: ${problem}`.slice(0, 300), null);
    }
    const timestamp = Math.floor(now.getTime() / 1000);
    const secrets = [d.secret, ...(d.previous_secret && d.previous_secret_until && d.previous_secret_until > now ? [d.previous_secret] : [])];
    const res = await fetch(d.url, {
      method: 'POST',
      redirect: 'manual', // a redirect could point anywhere, private addresses included: it counts as a failure
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json', 'user-agent': 'coalition-hub-webhooks/1',
        'webhook-id': d.event_id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader(secrets, d.event_id, timestamp, d.body),
      },
      body: d.body,
    });
    const text = (await res.text().catch(() => '')).slice(0, 1000);
    return done(res.status, res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`, text);
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : `${e.cause?.code ?? e.name}: ${e.message}`;
    return done(null, why.slice(0, 300), null);
  }
}

/** Records an attempt's outcome: DELIVERED, the next retry, or FAILED; and the endpoint's failure window. */
async function settle(q: QueryRunner, d: Claimed, result: AttemptResult, now: Date, random: () => number): Promise<void> {
  const n = d.attempt_count + 1;
  await rows(q, `INSERT INTO webhook_attempt (delivery_id, n, at, status_code, duration_ms, error, response_excerpt) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [d.id, n, now, result.statusCode, result.durationMs, result.error, result.responseExcerpt]);
  if (result.error === null) {
    await rows(q, `UPDATE webhook_delivery SET status = 'DELIVERED', attempt_count = $2 WHERE id = $1`, [d.id, n]);
    await rows(q, `UPDATE webhook_endpoint SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [d.endpoint_id]);
    countWebhookAttempt('delivered');
    return;
  }
  const next = nextAttemptAt(n, now, random());
  countWebhookAttempt(next ? 'retry' : 'failed');
  await rows(q, `UPDATE webhook_delivery SET status = $2, attempt_count = $3, next_attempt_at = COALESCE($4, next_attempt_at) WHERE id = $1`,
    [d.id, next ? 'PENDING' : 'FAILED', n, next]);
  await rows(q, `UPDATE webhook_endpoint SET failing_since = COALESCE(failing_since, $2),
      enabled = enabled AND $2 - COALESCE(failing_since, $2) < $3 * interval '1 millisecond',
      disabled_reason = CASE WHEN enabled AND $2 - COALESCE(failing_since, $2) >= $3 * interval '1 millisecond'
        THEN 'disabled: every delivery failed for 5 days (since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '); last error: ' || $4
        ELSE disabled_reason END
    WHERE id = $1`, [d.endpoint_id, now, DISABLE_AFTER_MS, (result.error ?? '').slice(0, 200)]);
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
    const claimed = await rows<Claimed>(q, `SELECT d.id, d.endpoint_id, d.event_id, d.body, d.attempt_count, ep.url, ep.secret, ep.previous_secret, ep.previous_secret_until
      FROM webhook_delivery d JOIN webhook_endpoint ep ON ep.id = d.endpoint_id AND ep.enabled
      WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1
        AND (d.event_member_id = '${NO_MEMBER}' OR NOT EXISTS (SELECT 1 FROM webhook_delivery o WHERE o.endpoint_id = d.endpoint_id
          AND o.event_member_id = d.event_member_id AND o.status = 'PENDING' AND (o.order_at, o.created_at, o.id) < (d.order_at, d.created_at, d.id)))
      ORDER BY d.next_attempt_at, d.order_at LIMIT ${CLAIM_BATCH} FOR UPDATE OF d SKIP LOCKED`, [now]);
    if (!claimed.length) {
      await q.commitTransaction();
      return 0;
    }
    const results = await Promise.all(claimed.map((d) => attempt(d, now, options.allowPrivate)));
    const after = clock.now();
    for (let i = 0; i < claimed.length; i++) await settle(q, claimed[i]!, results[i]!, after, random);
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
