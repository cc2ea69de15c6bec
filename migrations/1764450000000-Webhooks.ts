import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events out (the outbox) and webhook delivery. `event` rows are written in the same transaction as
 * the change they describe and never change; member-scoped ones carry the member's id first in their
 * key (the nil UUID for events of no member), like every member-scoped table. `event_pending` marks
 * events not yet fanned out to endpoints; deliveries are per endpoint and event, with every attempt.
 */
export class Webhooks1764450000000 implements MigrationInterface {
  name = 'Webhooks1764450000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "event" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "type" character varying(60) NOT NULL,
        "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "partner_ids" uuid[] NOT NULL DEFAULT '{}',
        "affiliate_ids" uuid[] NOT NULL DEFAULT '{}',
        "data" jsonb NOT NULL,
        "views" jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT "PK_event" PRIMARY KEY ("member_id", "id")
      )`);
    await q.query(`
      CREATE TABLE "event_pending" (
        "member_id" uuid NOT NULL,
        "event_id" uuid NOT NULL,
        "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_event_pending" PRIMARY KEY ("member_id", "event_id")
      )`);
    await q.query(`CREATE INDEX "IDX_event_pending_order" ON "event_pending" ("occurred_at", "event_id")`);
    await q.query(`
      CREATE TABLE "webhook_endpoint" (
        "id" uuid NOT NULL,
        "owner_type" character varying(16) NOT NULL,
        "owner_id" uuid,
        "url" character varying(2000) NOT NULL,
        "event_types" text[] NOT NULL,
        "description" character varying(500),
        "enabled" boolean NOT NULL DEFAULT true,
        "disabled_reason" character varying(500),
        "secret" character varying(100) NOT NULL,
        "previous_secret" character varying(100),
        "previous_secret_until" TIMESTAMP WITH TIME ZONE,
        "failing_since" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_webhook_endpoint" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_webhook_endpoint_owner" CHECK (("owner_type" = 'OPERATOR') = ("owner_id" IS NULL))
      )`);
    await q.query(`CREATE INDEX "IDX_webhook_endpoint_owner" ON "webhook_endpoint" ("owner_type", "owner_id")`);
    await q.query(`
      CREATE TABLE "webhook_delivery" (
        "id" uuid NOT NULL,
        "endpoint_id" uuid NOT NULL,
        "event_member_id" uuid NOT NULL,
        "event_id" uuid NOT NULL,
        "event_type" character varying(60) NOT NULL,
        "body" text NOT NULL,
        "order_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'PENDING',
        "attempt_count" integer NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_webhook_delivery" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "IDX_webhook_delivery_due" ON "webhook_delivery" ("next_attempt_at") WHERE "status" = 'PENDING'`);
    await q.query(`CREATE INDEX "IDX_webhook_delivery_order" ON "webhook_delivery" ("endpoint_id", "event_member_id", "order_at") WHERE "status" = 'PENDING'`);
    await q.query(`CREATE INDEX "IDX_webhook_delivery_endpoint" ON "webhook_delivery" ("endpoint_id", "id")`);
    await q.query(`
      CREATE TABLE "webhook_attempt" (
        "delivery_id" uuid NOT NULL,
        "n" integer NOT NULL,
        "at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "status_code" integer,
        "duration_ms" integer NOT NULL,
        "error" character varying(300),
        "response_excerpt" character varying(300),
        CONSTRAINT "PK_webhook_attempt" PRIMARY KEY ("delivery_id", "n")
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const table of ['webhook_attempt', 'webhook_delivery', 'webhook_endpoint', 'event_pending', 'event']) await q.query(`DROP TABLE "${table}"`);
  }
}
