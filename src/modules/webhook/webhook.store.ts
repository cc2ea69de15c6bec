import type { QueryRunner } from 'typeorm';
import { uuidv7 } from '../../common/ids';
import { rows } from '../../db/transaction';
import { NO_MEMBER } from './webhook.rules';

/**
 * An event to write with the change it describes. `data` is what the operator sees; `views` holds
 * what each other receiver may see, keyed `partner:<id>` or `affiliate:<id>` — a receiver without
 * a view gets nothing, so a payload can never carry more than its receiver may read through the API.
 */
export interface NewEvent {
  memberId: string | null;
  type: string;
  occurredAt: Date;
  partnerIds: string[];
  affiliateIds: string[];
  data: object;
  views: Record<string, object>;
}

/**
 * Writes events (and marks them pending for fan-out) in the caller's transaction, in one statement.
 * Units: timestamps UTC. Returns the events' ids in the order given.
 */
export async function recordEvents(q: QueryRunner, events: NewEvent[]): Promise<string[]> {
  if (!events.length) return [];
  const ids = events.map((e) => uuidv7(e.occurredAt.getTime()));
  await rows(q, `WITH e AS (
      INSERT INTO event (member_id, id, type, occurred_at, partner_ids, affiliate_ids, data, views)
      SELECT m, i, t, o, ARRAY(SELECT jsonb_array_elements_text(p))::uuid[], ARRAY(SELECT jsonb_array_elements_text(a))::uuid[], d, v
      FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::jsonb[], $6::jsonb[], $7::jsonb[], $8::jsonb[]) AS x(m, i, t, o, p, a, d, v)
      RETURNING member_id, id, occurred_at)
    INSERT INTO event_pending (member_id, event_id, occurred_at) SELECT member_id, id, occurred_at FROM e`,
  [events.map((e) => e.memberId ?? NO_MEMBER), ids, events.map((e) => e.type), events.map((e) => e.occurredAt.toISOString()),
    events.map((e) => JSON.stringify(e.partnerIds)), events.map((e) => JSON.stringify(e.affiliateIds)),
    events.map((e) => JSON.stringify(e.data)), events.map((e) => JSON.stringify(e.views))]);
  return ids;
}

export interface EndpointRow {
  id: string;
  owner_type: string;
  owner_id: string | null;
  url: string;
  event_types: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  failing_since: Date | null;
  created_at: Date;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_member_id: string;
  event_id: string;
  event_type: string;
  /** Stored for a test event only; a delivery of an event builds its body from the event. */
  body: string | null;
  status: string;
  attempt_count: number;
  next_attempt_at: Date;
  created_at: Date;
  /** Its first attempt, when made at fan-out and answered within its wait (else null, and every attempt is an AttemptRow). */
  first_at: Date | null;
  first_status_code: number | null;
  first_duration_ms: number | null;
  first_error: string | null;
  first_response_excerpt: string | null;
}

export interface AttemptRow {
  delivery_id: string;
  n: number;
  at: Date;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_excerpt: string | null;
}
