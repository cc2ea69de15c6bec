import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The foundation: coalition settings, partners, members and their identifiers, and the ledger
 * (transactions, entries, lots, lot movements, debts, obligations).
 *
 * Shaped for a Citus cluster distributed by member (DESIGN.md, Growing past one machine): every
 * member-scoped table has `member_id` first in its primary key and in every unique constraint;
 * identifiers live in their own table keyed by the identifier; the partner's side of a posting is
 * an entry row stored with the member, so no partner row is written per purchase.
 */
export class LedgerCore1763800000000 implements MigrationInterface {
  name = 'LedgerCore1763800000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "coalition" (
        "id" smallint NOT NULL DEFAULT 1,
        "name" text NOT NULL,
        "currency" character varying(3) NOT NULL,
        "currency_exponent" smallint NOT NULL,
        "donation_value_per_point" numeric(20,6) NOT NULL,
        "tiers" jsonb NOT NULL DEFAULT '[]',
        "referral" jsonb,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_coalition" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_coalition_single_row" CHECK ("id" = 1)
      )`);
    await q.query(`INSERT INTO "coalition" ("id", "name", "currency", "currency_exponent", "donation_value_per_point")
                   VALUES (1, 'Coalition', 'EUR', 2, 0.01)`);

    await q.query(`
      CREATE TABLE "partner" (
        "id" uuid NOT NULL,
        "code" character varying(40) NOT NULL,
        "name" character varying(200) NOT NULL,
        "redemption_value_per_point" numeric(20,6) NOT NULL,
        "earn_rule" jsonb NOT NULL,
        "commission_plan" jsonb,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_partner" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_partner_code" UNIQUE ("code")
      )`);

    await q.query(`
      CREATE TABLE "member" (
        "id" uuid NOT NULL,
        "member_code" character varying(20) NOT NULL,
        "referral_code" character varying(20) NOT NULL,
        "email" character varying(254),
        "phone" character varying(20),
        "birth_date" date,
        "balance" bigint NOT NULL DEFAULT 0,
        "debt" bigint NOT NULL DEFAULT 0,
        "referred_by_member_id" uuid,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_member" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_member_debt" CHECK ("debt" >= 0),
        CONSTRAINT "CHK_member_balance" CHECK ("balance" >= -"debt")
      )`);

    // Keyed by the identifier, not the member: keeps identifiers unique across the coalition.
    await q.query(`
      CREATE TABLE "member_identifier" (
        "kind" character varying(20) NOT NULL,
        "value" character varying(300) NOT NULL,
        "member_id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_member_identifier" PRIMARY KEY ("kind", "value")
      )`);
    await q.query(`CREATE INDEX "IDX_member_identifier_member" ON "member_identifier" ("member_id")`);

    await q.query(`
      CREATE TABLE "member_partner_link" (
        "member_id" uuid NOT NULL,
        "partner_id" uuid NOT NULL,
        "external_ref" character varying(200),
        "linked_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_member_partner_link" PRIMARY KEY ("member_id", "partner_id")
      )`);
    await q.query(`CREATE INDEX "IDX_member_partner_link_partner" ON "member_partner_link" ("partner_id", "linked_at", "member_id")`);

    await q.query(`
      CREATE TABLE "ledger_transaction" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "type" character varying(20) NOT NULL,
        "partner_id" uuid,
        "caller" character varying(60) NOT NULL,
        "idempotency_key" character varying(200) NOT NULL,
        "request_hash" character varying(64) NOT NULL,
        "points" integer NOT NULL,
        "amount_minor" bigint,
        "reverses_id" uuid,
        "bonus_action" character varying(20),
        "description" character varying(500),
        "breakdown" jsonb NOT NULL DEFAULT '[]',
        "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "posted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_ledger_transaction" PRIMARY KEY ("member_id", "id"),
        CONSTRAINT "UQ_ledger_transaction_idempotency" UNIQUE ("member_id", "caller", "idempotency_key")
      )`);
    await q.query(`CREATE INDEX "IDX_ledger_transaction_reverses" ON "ledger_transaction" ("member_id", "reverses_id") WHERE "reverses_id" IS NOT NULL`);
    await q.query(`CREATE INDEX "IDX_ledger_transaction_partner" ON "ledger_transaction" ("partner_id", "id")`);

    await q.query(`
      CREATE TABLE "ledger_entry" (
        "member_id" uuid NOT NULL,
        "transaction_id" uuid NOT NULL,
        "seq" smallint NOT NULL,
        "account_type" character varying(20) NOT NULL,
        "account_id" uuid,
        "points" bigint NOT NULL,
        "posted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_ledger_entry" PRIMARY KEY ("member_id", "transaction_id", "seq")
      )`);

    await q.query(`
      CREATE TABLE "lot" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "transaction_id" uuid NOT NULL,
        "issuer_type" character varying(20) NOT NULL,
        "issuer_id" uuid,
        "points" integer NOT NULL,
        "remaining" integer NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_lot" PRIMARY KEY ("member_id", "id"),
        CONSTRAINT "CHK_lot_remaining" CHECK ("remaining" >= 0 AND "remaining" <= "points")
      )`);
    await q.query(`CREATE INDEX "IDX_lot_open" ON "lot" ("member_id", "expires_at", "created_at") WHERE "remaining" > 0`);

    await q.query(`
      CREATE TABLE "lot_movement" (
        "member_id" uuid NOT NULL,
        "transaction_id" uuid NOT NULL,
        "lot_id" uuid NOT NULL,
        "points" integer NOT NULL,
        CONSTRAINT "PK_lot_movement" PRIMARY KEY ("member_id", "transaction_id", "lot_id")
      )`);
    await q.query(`CREATE INDEX "IDX_lot_movement_lot" ON "lot_movement" ("member_id", "lot_id")`);

    await q.query(`
      CREATE TABLE "member_debt" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "transaction_id" uuid NOT NULL,
        "creditor_partner_id" uuid,
        "points" integer NOT NULL,
        "remaining" integer NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_member_debt" PRIMARY KEY ("member_id", "id"),
        CONSTRAINT "CHK_member_debt_remaining" CHECK ("remaining" >= 0 AND "remaining" <= "points")
      )`);

    await q.query(`
      CREATE TABLE "obligation" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "transaction_id" uuid NOT NULL,
        "kind" character varying(20) NOT NULL,
        "payer_type" character varying(20) NOT NULL,
        "payer_id" uuid,
        "payee_type" character varying(20) NOT NULL,
        "payee_id" uuid,
        "points" integer NOT NULL,
        "rate" numeric(20,6) NOT NULL,
        "posted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_obligation" PRIMARY KEY ("member_id", "id")
      )`);
    await q.query(`CREATE INDEX "IDX_obligation_posted" ON "obligation" ("posted_at")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const table of ['obligation', 'member_debt', 'lot_movement', 'lot', 'ledger_entry', 'ledger_transaction',
      'member_partner_link', 'member_identifier', 'member', 'partner', 'coalition']) {
      await q.query(`DROP TABLE "${table}"`);
    }
  }
}
