import { lookup } from 'node:dns/promises';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, fail, forbidden, ok, userError } from '../../api/errors';
import { clock } from '../../common/clock';
import { uuidv7, isUuid } from '../../common/ids';
import { Connection, DEFAULT_PAGE_SIZE, cursorTimestamp, decodeCursor, toConnection } from '../../common/pagination';
import { inTransaction, rows } from '../../db/transaction';
import {
  ALL_EVENTS, EVENT_TYPES, NO_MEMBER, OwnerType, ROTATION_OVERLAP_MS, TEST_EVENT_TYPE, isForbiddenAddress, newSecret, unknownEventTypes, urlProblem,
} from './webhook.rules';
import { AttemptRow, DeliveryRow, EndpointRow } from './webhook.store';
import { audit } from '../audit/audit.service';
import {
  CreateWebhookEndpointInput, DeleteWebhookEndpointInput, ReplayWebhookDeliveriesInput, RotateWebhookSecretInput, SendTestWebhookInput, UpdateWebhookEndpointInput,
} from './webhook.inputs';
import { DeliveryStatus, WebhookDelivery, WebhookEndpoint } from './webhook.types';

/** Whose endpoints a caller manages: the operator's (and sees everyone's), a partner's or an affiliate's. */
function ownerOf(ctx: RequestContext): { type: OwnerType; id: string | null } {
  const caller = ctx.caller;
  if (caller?.role === Role.ADMIN) return { type: OwnerType.OPERATOR, id: null };
  if (caller?.role === Role.PARTNER) return { type: OwnerType.PARTNER, id: caller.partnerId };
  if (caller?.role === Role.AFFILIATE) return { type: OwnerType.AFFILIATE, id: caller.affiliateId };
  throw forbidden('Webhook endpoints belong to the operator, partners and affiliates');
}

const ENDPOINT_COLUMNS = 'id, owner_type, owner_id, url, event_types, description, enabled, disabled_reason, secret, previous_secret, previous_secret_until, failing_since, created_at';

export function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return { id: row.id, url: row.url, eventTypes: row.event_types, description: row.description, enabled: row.enabled, disabledReason: row.disabled_reason,
    createdAt: row.created_at, ownerType: row.owner_type, ownerId: row.owner_id };
}

/** The endpoint if the caller may manage it (the operator: any), else undefined. */
async function visibleEndpoint(ctx: RequestContext, id: string, q?: Parameters<typeof rows>[0], lock = false): Promise<EndpointRow | undefined> {
  if (!isUuid(id)) return undefined;
  const owner = ownerOf(ctx);
  const [row] = await rows<EndpointRow>(q ?? ctx.db, `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE id = $1
    AND ($2::text = 'OPERATOR' OR (owner_type = $2 AND owner_id = $3::uuid))${lock ? ' FOR UPDATE' : ''}`, [id, owner.type, owner.id]);
  return row;
}

/** The partner an endpoint belongs to, for the audit log's partner scope. */
const ownerPartner = (row: EndpointRow) => (row.owner_type === OwnerType.PARTNER ? row.owner_id : null);

const notFound = () => fail(userError(ErrorCode.NOT_FOUND, 'No such webhook endpoint', ['input', 'endpointId']));

/**
 * Checks an endpoint URL: its form (https unless private targets are allowed), then — unless
 * WEBHOOK_ALLOW_PRIVATE — that none of the addresses its host resolves to is loopback, private,
 * link-local or a metadata address (server-side request forgery). The worker checks again before
 * every attempt, since DNS answers change.
 */
export async function checkUrl(url: string, allowPrivate: boolean): Promise<string | null> {
  const problem = urlProblem(url, allowPrivate);
  if (problem || allowPrivate) return problem;
  return addressProblem(new URL(url).hostname);
}

/** Null when every address `host` resolves to may be reached; else why not. */
export async function addressProblem(host: string): Promise<string | null> {
  const bare = host.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return `url's host ${host} does not resolve`;
  }
  const bad = addresses.find(isForbiddenAddress);
  return bad ? `url's host resolves to ${bad}, a loopback, private, link-local, metadata or other special-purpose (not globally reachable) address` : null;
}

function eventTypesProblem(types: string[]): string | null {
  if (!types.length) return 'eventTypes must name at least one event type (or "*")';
  const unknown = unknownEventTypes(types);
  return unknown.length ? `unknown event types: ${unknown.join(', ')} (see webhookEventTypes)` : null;
}

/** createWebhookEndpoint: the endpoint, owned by the caller, and its signing secret (shown this once). */
export async function createEndpoint(ctx: RequestContext, input: CreateWebhookEndpointInput): Promise<Outcome<{ endpoint: WebhookEndpoint; secret: string }>> {
  const owner = ownerOf(ctx);
  const urlError = await checkUrl(input.url, ctx.config.webhookAllowPrivate);
  if (urlError) return fail(userError(ErrorCode.INVALID_INPUT, urlError, ['input', 'url']));
  const typesError = eventTypesProblem(input.eventTypes);
  if (typesError) return fail(userError(ErrorCode.INVALID_INPUT, typesError, ['input', 'eventTypes']));
  const secret = newSecret();
  return inTransaction(ctx.db, async (q) => {
    const [row] = await rows<EndpointRow>(q, `INSERT INTO webhook_endpoint (id, owner_type, owner_id, url, event_types, description, secret, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${ENDPOINT_COLUMNS}`,
    [uuidv7(), owner.type, owner.id, input.url, [...new Set(input.eventTypes)], input.description ?? null, secret, clock.now()]);
    await audit(ctx, q, { action: 'webhook.endpointCreated', subjectType: 'WEBHOOK_ENDPOINT', subjectId: row!.id, input });
    return ok({ endpoint: toEndpoint(row!), secret });
  });
}

/** updateWebhookEndpoint: url, event types, description; `enabled: true` re-enables a disabled endpoint. */
export async function updateEndpoint(ctx: RequestContext, input: UpdateWebhookEndpointInput): Promise<Outcome<WebhookEndpoint>> {
  if (input.url != null) {
    const urlError = await checkUrl(input.url, ctx.config.webhookAllowPrivate);
    if (urlError) return fail(userError(ErrorCode.INVALID_INPUT, urlError, ['input', 'url']));
  }
  if (input.eventTypes != null) {
    const typesError = eventTypesProblem(input.eventTypes);
    if (typesError) return fail(userError(ErrorCode.INVALID_INPUT, typesError, ['input', 'eventTypes']));
  }
  return inTransaction(ctx.db, async (q) => {
    const current = await visibleEndpoint(ctx, input.endpointId, q, true);
    if (!current) return notFound();
    const enabled = input.enabled ?? current.enabled;
    const [row] = await rows<EndpointRow>(q, `UPDATE webhook_endpoint SET url = $2, event_types = $3, description = $4, enabled = $5,
        disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END, failing_since = CASE WHEN $5 AND NOT enabled THEN NULL ELSE failing_since END
      WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
    [current.id, input.url ?? current.url, input.eventTypes ? [...new Set(input.eventTypes)] : current.event_types,
      input.description === undefined ? current.description : input.description, enabled]);
    if (input.enabled === false) await rows(q, `UPDATE webhook_endpoint SET disabled_reason = 'disabled by its owner' WHERE id = $1`, [current.id]);
    await audit(ctx, q, { action: 'webhook.endpointUpdated', subjectType: 'WEBHOOK_ENDPOINT', subjectId: current.id, partnerId: ownerPartner(current), input });
    return ok(toEndpoint({ ...row!, disabled_reason: input.enabled === false ? 'disabled by its owner' : row!.disabled_reason }));
  });
}

/** deleteWebhookEndpoint: the endpoint and its deliveries are removed; events stay. */
export async function deleteEndpoint(ctx: RequestContext, input: DeleteWebhookEndpointInput): Promise<Outcome<string>> {
  return inTransaction(ctx.db, async (q) => {
    const current = await visibleEndpoint(ctx, input.endpointId, q, true);
    if (!current) return notFound();
    await rows(q, 'DELETE FROM webhook_attempt WHERE delivery_id IN (SELECT id FROM webhook_delivery WHERE endpoint_id = $1)', [current.id]);
    await rows(q, 'DELETE FROM webhook_delivery WHERE endpoint_id = $1', [current.id]);
    await rows(q, 'DELETE FROM webhook_endpoint WHERE id = $1', [current.id]);
    await audit(ctx, q, { action: 'webhook.endpointDeleted', subjectType: 'WEBHOOK_ENDPOINT', subjectId: current.id, partnerId: ownerPartner(current), input });
    return ok(current.id);
  });
}

/** rotateWebhookSecret: a new secret (shown this once); the old one still signs for 24 hours. */
export async function rotateSecret(ctx: RequestContext, input: RotateWebhookSecretInput): Promise<Outcome<{ endpoint: WebhookEndpoint; secret: string }>> {
  const secret = newSecret();
  return inTransaction(ctx.db, async (q) => {
    const current = await visibleEndpoint(ctx, input.endpointId, q, true);
    if (!current) return notFound();
    const [row] = await rows<EndpointRow>(q, `UPDATE webhook_endpoint SET previous_secret = secret, previous_secret_until = $2, secret = $3
      WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`, [current.id, new Date(clock.now().getTime() + ROTATION_OVERLAP_MS), secret]);
    await audit(ctx, q, { action: 'webhook.secretRotated', subjectType: 'WEBHOOK_ENDPOINT', subjectId: current.id, partnerId: ownerPartner(current), input });
    return ok({ endpoint: toEndpoint(row!), secret });
  });
}

/**
 * replayWebhookDeliveries: one delivery (`deliveryId`), or every FAILED one created since
 * `failedSince`, is sent again as a new delivery of the same event — the same `webhook-id` and body,
 * so receivers deduplicate it — due now. Returns how many were queued.
 */
export async function replayDeliveries(ctx: RequestContext, input: ReplayWebhookDeliveriesInput): Promise<Outcome<number>> {
  if ((input.deliveryId == null) === (input.failedSince == null)) {
    return fail(userError(ErrorCode.INVALID_INPUT, 'Give either deliveryId or failedSince', ['input']));
  }
  if (input.deliveryId != null && !isUuid(input.deliveryId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such delivery', ['input', 'deliveryId']));
  return inTransaction(ctx.db, async (q) => {
    const endpoint = await visibleEndpoint(ctx, input.endpointId, q);
    if (!endpoint) return notFound();
    const now = clock.now();
    const copied = await rows<{ id: string }>(q, `INSERT INTO webhook_delivery (id, endpoint_id, event_member_id, event_id, event_type, body, order_at, status, attempt_count, next_attempt_at, created_at)
      SELECT gen_random_uuid(), endpoint_id, event_member_id, event_id, event_type, body, order_at, 'PENDING', 0, $4, $4 FROM webhook_delivery
      WHERE endpoint_id = $1 AND (($2::uuid IS NOT NULL AND id = $2::uuid) OR ($2::uuid IS NULL AND status = 'FAILED' AND created_at >= $3))
      RETURNING id`, [endpoint.id, input.deliveryId ?? null, input.failedSince ?? null, now]);
    if (input.deliveryId != null && !copied.length) return fail(userError(ErrorCode.NOT_FOUND, 'No such delivery', ['input', 'deliveryId']));
    return ok(copied.length);
  });
}

/** sendTestWebhook: an event of type `webhook.test` to this endpoint only, delivered like any other. */
export async function sendTest(ctx: RequestContext, input: SendTestWebhookInput): Promise<Outcome<WebhookDelivery>> {
  return inTransaction(ctx.db, async (q) => {
    const endpoint = await visibleEndpoint(ctx, input.endpointId, q);
    if (!endpoint) return notFound();
    const now = clock.now();
    const eventId = uuidv7(now.getTime());
    const data = { endpointId: endpoint.id, message: 'A test event from coalition-hub' };
    await rows(q, `INSERT INTO event (member_id, id, type, occurred_at, data) VALUES ($1, $2, $3, $4, $5)`, [NO_MEMBER, eventId, TEST_EVENT_TYPE, now, JSON.stringify(data)]);
    const body = JSON.stringify({ id: eventId, type: TEST_EVENT_TYPE, timestamp: now.toISOString(), data });
    const [row] = await rows<DeliveryRow>(q, `INSERT INTO webhook_delivery (id, endpoint_id, event_member_id, event_id, event_type, body, order_at, status, attempt_count, next_attempt_at, created_at)
      VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, 'PENDING', 0, $6, $6) RETURNING *`, [endpoint.id, NO_MEMBER, eventId, TEST_EVENT_TYPE, body, now]);
    return ok(toDelivery(row!, []));
  });
}

export function eventTypes(): string[] {
  return [...EVENT_TYPES];
}

/** webhookEndpoints: the caller's own (the operator: every endpoint), oldest first. */
export async function listEndpoints(ctx: RequestContext): Promise<WebhookEndpoint[]> {
  const owner = ownerOf(ctx);
  const found = await rows<EndpointRow>(ctx.db, `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoint
    WHERE $1::text = 'OPERATOR' OR (owner_type = $1 AND owner_id = $2::uuid) ORDER BY created_at, id LIMIT 500`, [owner.type, owner.id]);
  return found.map(toEndpoint);
}

/**
 * A delivery with its attempts in order: the first one from the delivery's own row when it was made
 * (and answered) at fan-out, then its attempt rows.
 */
function toDelivery(row: DeliveryRow, attempts: AttemptRow[]): WebhookDelivery {
  const first = row.first_at ? [{ at: row.first_at, statusCode: row.first_status_code, durationMs: row.first_duration_ms!, error: row.first_error, responseExcerpt: row.first_response_excerpt }] : [];
  return {
    id: row.id, eventId: row.event_id, eventType: row.event_type, status: row.status as DeliveryStatus,
    attempts: [...first, ...attempts.map((a) => ({ at: a.at, statusCode: a.status_code, durationMs: a.duration_ms, error: a.error, responseExcerpt: a.response_excerpt }))],
    nextAttemptAt: row.status === 'PENDING' ? row.next_attempt_at : null, createdAt: row.created_at,
  };
}

/** webhookDeliveries: an endpoint's deliveries, newest first, each with every attempt. */
export async function listDeliveries(ctx: RequestContext, endpointId: string, status: DeliveryStatus | undefined,
  page: { first?: number; after?: string }): Promise<Connection<WebhookDelivery>> {
  const endpoint = await visibleEndpoint(ctx, endpointId);
  const first = page.first ?? DEFAULT_PAGE_SIZE;
  if (!endpoint) return toConnection([], first, () => [], (r: never) => r, async () => 0);
  const [at, id] = page.after ? decodeCursor(page.after, ['timestamp', 'uuid']) : [null, null];
  const found = await rows<DeliveryRow & { cursor_at: string }>(ctx.db, `SELECT d.*, ${cursorTimestamp('d.created_at')} AS cursor_at FROM webhook_delivery d
    WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3::timestamptz, $4::uuid))
    ORDER BY d.created_at DESC, d.id DESC LIMIT $5`, [endpoint.id, status ?? null, at, id, first + 1]);
  const attempts = found.length ? await rows<AttemptRow>(ctx.db, `SELECT * FROM webhook_attempt WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, n`,
    [found.map((d) => d.id)]) : [];
  const byDelivery = new Map<string, AttemptRow[]>();
  for (const a of attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), a]);
  return toConnection(found, first, (r) => [r.cursor_at, r.id], (r) => toDelivery(r, byDelivery.get(r.id) ?? []),
    async () => Number((await rows<{ n: string }>(ctx.db, `SELECT count(*) AS n FROM webhook_delivery WHERE endpoint_id = $1 AND ($2::text IS NULL OR status = $2)`,
      [endpoint.id, status ?? null]))[0]!.n));
}

export { ALL_EVENTS };
