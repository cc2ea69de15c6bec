import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rewards catalog and clubs: rewards (a partner's own, or the operator's with partner_id null),
 * clubs, club memberships (member-scoped: one row per grant or claim, the latest expiry counts), and
 * vouchers (member-scoped; the code → voucher index is its own table keyed by the code, as the
 * identifier index is, so codes stay unique across the coalition). Promotions gain club restrictions.
 */
export class RewardsCatalog1764460000000 implements MigrationInterface {
  name = 'RewardsCatalog1764460000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "club" (
        "id" uuid NOT NULL,
        "partner_id" uuid,
        "name" character varying(200) NOT NULL,
        "description" character varying(2000),
        "earn_multiplier" numeric(20,6) NOT NULL,
        "membership_days" integer NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_club_multiplier" CHECK ("earn_multiplier" >= 1),
        CONSTRAINT "CHK_club_days" CHECK ("membership_days" > 0),
        CONSTRAINT "PK_club" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "IDX_club_partner" ON "club" ("partner_id")`);
    await q.query(`
      CREATE TABLE "reward" (
        "id" uuid NOT NULL,
        "partner_id" uuid,
        "name" character varying(200) NOT NULL,
        "description" character varying(2000),
        "kind" character varying(20) NOT NULL,
        "club_id" uuid,
        "points_price" integer NOT NULL,
        "cash_price_minor" bigint,
        "value_minor" bigint NOT NULL,
        "value_is_default" boolean NOT NULL,
        "stock" integer,
        "claimed" integer NOT NULL DEFAULT 0,
        "per_member_limit" integer,
        "tiers" text array NOT NULL DEFAULT '{}',
        "clubs" uuid array NOT NULL DEFAULT '{}',
        "starts_at" TIMESTAMP WITH TIME ZONE,
        "ends_at" TIMESTAMP WITH TIME ZONE,
        "active" boolean NOT NULL DEFAULT true,
        "voucher_validity_days" integer NOT NULL DEFAULT 30,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_reward_kind" CHECK (("kind" = 'VOUCHER' AND "club_id" IS NULL) OR ("kind" = 'MEMBERSHIP' AND "club_id" IS NOT NULL)),
        CONSTRAINT "CHK_reward_price" CHECK ("points_price" > 0 AND ("cash_price_minor" IS NULL OR "cash_price_minor" >= 0) AND "value_minor" >= 0),
        CONSTRAINT "CHK_reward_stock" CHECK ("claimed" >= 0 AND ("stock" IS NULL OR "claimed" <= "stock")),
        CONSTRAINT "CHK_reward_limit" CHECK ("per_member_limit" IS NULL OR "per_member_limit" > 0),
        CONSTRAINT "CHK_reward_window" CHECK ("starts_at" IS NULL OR "ends_at" IS NULL OR "ends_at" > "starts_at"),
        CONSTRAINT "CHK_reward_validity" CHECK ("voucher_validity_days" > 0),
        CONSTRAINT "PK_reward" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "IDX_reward_partner" ON "reward" ("partner_id", "id")`);
    await q.query(`
      CREATE TABLE "club_membership" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "club_id" uuid NOT NULL,
        "source" character varying(10) NOT NULL,
        "paid_amount_minor" bigint,
        "reward_id" uuid,
        "transaction_id" uuid,
        "caller" character varying(200),
        "idempotency_key" character varying(200),
        "request_hash" character varying(64),
        "starts_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_club_membership_source" CHECK (("source" = 'PAID' AND "paid_amount_minor" >= 0) OR ("source" = 'POINTS' AND "reward_id" IS NOT NULL)),
        CONSTRAINT "CHK_club_membership_period" CHECK ("expires_at" > "starts_at"),
        CONSTRAINT "UQ_club_membership_idempotency" UNIQUE ("member_id", "caller", "idempotency_key"),
        CONSTRAINT "PK_club_membership" PRIMARY KEY ("member_id", "id")
      )`);
    await q.query(`CREATE INDEX "IDX_club_membership_club" ON "club_membership" ("member_id", "club_id", "expires_at")`);
    await q.query(`
      CREATE TABLE "voucher" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "code" character varying(16) NOT NULL,
        "reward_id" uuid NOT NULL,
        "state" character varying(10) NOT NULL DEFAULT 'ISSUED',
        "transaction_id" uuid,
        "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "redeemed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "CHK_voucher_state" CHECK ("state" IN ('ISSUED', 'REDEEMED', 'VOIDED', 'EXPIRED')),
        CONSTRAINT "CHK_voucher_redeemed" CHECK (("state" = 'REDEEMED') = ("redeemed_at" IS NOT NULL)),
        CONSTRAINT "UQ_voucher_code" UNIQUE ("member_id", "code"),
        CONSTRAINT "PK_voucher" PRIMARY KEY ("member_id", "id")
      )`);
    await q.query(`CREATE INDEX "IDX_voucher_reward" ON "voucher" ("member_id", "reward_id", "state")`);
    await q.query(`CREATE INDEX "IDX_voucher_expiry" ON "voucher" ("state", "expires_at")`);
    // The code → voucher index: keyed by the code alone, so a code is unique coalition-wide.
    await q.query(`
      CREATE TABLE "voucher_code" (
        "code" character varying(16) NOT NULL,
        "member_id" uuid NOT NULL,
        "voucher_id" uuid NOT NULL,
        CONSTRAINT "PK_voucher_code" PRIMARY KEY ("code")
      )`);
    await q.query(`ALTER TABLE "promotion" ADD "clubs" jsonb NOT NULL DEFAULT '[]'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "promotion" DROP COLUMN "clubs"');
    await q.query('DROP TABLE "voucher_code"');
    await q.query('DROP TABLE "voucher"');
    await q.query('DROP TABLE "club_membership"');
    await q.query('DROP TABLE "reward"');
    await q.query('DROP TABLE "club"');
  }
}
