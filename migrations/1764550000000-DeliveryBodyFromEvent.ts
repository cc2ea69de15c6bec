import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A delivery of an event keeps no copy of its body: the body is what its endpoint's owner may see of
 * the event (the event's data, or the view written for that partner or affiliate), and events are
 * immutable, so the worker builds it from the event each time it sends (the same text every time:
 * the same `webhook-id`, the same signature input). Only a test event's body is stored: its event
 * row names no partner or affiliate, so a partner's or an affiliate's test body could not be built
 * from it. Saves each delivery about 400 bytes of row and WAL, and building the body twice (once to
 * send, once to store) at fan-out. (A comment corrected before any release; the statements are as
 * first committed.)
 */
export class DeliveryBodyFromEvent1764550000000 implements MigrationInterface {
  name = 'DeliveryBodyFromEvent1764550000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "webhook_delivery" ALTER COLUMN "body" DROP NOT NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    // Rows without a body get theirs back from their event, as the worker builds it.
    await q.query(`UPDATE "webhook_delivery" d SET "body" = jsonb_build_object('id', e.id, 'type', e.type,
        'timestamp', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'data', CASE ep.owner_type WHEN 'OPERATOR' THEN e.data
          WHEN 'PARTNER' THEN CASE WHEN ep.owner_id = ANY(e.partner_ids) THEN e.views -> ('partner:' || ep.owner_id::text) END
          WHEN 'AFFILIATE' THEN CASE WHEN ep.owner_id = ANY(e.affiliate_ids) THEN e.views -> ('affiliate:' || ep.owner_id::text) END END)::text
      FROM "event" e, "webhook_endpoint" ep WHERE d."body" IS NULL AND e.member_id = d.event_member_id AND e.id = d.event_id AND ep.id = d.endpoint_id`);
    await q.query(`DELETE FROM "webhook_attempt" WHERE delivery_id IN (SELECT id FROM "webhook_delivery" WHERE "body" IS NULL)`);
    await q.query(`DELETE FROM "webhook_delivery" WHERE "body" IS NULL`);
    await q.query(`ALTER TABLE "webhook_delivery" ALTER COLUMN "body" SET NOT NULL`);
  }
}
