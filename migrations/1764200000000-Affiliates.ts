import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Affiliates (a reference table), a member's sticky attribution (on its row), and commissions —
 * stored with the member, beside the purchase that caused them, and keyed by member first.
 */
export class Affiliates1764200000000 implements MigrationInterface {
  name = 'Affiliates1764200000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "affiliate" (
        "id" uuid NOT NULL,
        "code" character varying(40) NOT NULL,
        "name" character varying(200) NOT NULL,
        "email" character varying(254) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_affiliate" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_affiliate_code" UNIQUE ("code")
      )`);
    await q.query(`ALTER TABLE "member" ADD "affiliate_id" uuid`);
    await q.query(`ALTER TABLE "member" ADD "affiliate_attributed_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`
      CREATE TABLE "commission" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "purchase_id" uuid NOT NULL,
        "partner_id" uuid NOT NULL,
        "affiliate_id" uuid NOT NULL,
        "plan" jsonb NOT NULL,
        "purchase_amount_minor" bigint NOT NULL,
        "base_amount_minor" bigint NOT NULL,
        "amount_minor" bigint NOT NULL,
        "status" character varying(20) NOT NULL,
        "clawback_of" uuid,
        "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "approves_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "settlement_run_id" uuid,
        CONSTRAINT "PK_commission" PRIMARY KEY ("member_id", "id")
      )`);
    await q.query(`CREATE INDEX "IDX_commission_purchase" ON "commission" ("member_id", "purchase_id")`);
    await q.query(`CREATE INDEX "IDX_commission_affiliate" ON "commission" ("affiliate_id", "id")`);
    await q.query(`CREATE INDEX "IDX_commission_partner" ON "commission" ("partner_id", "id")`);
    await q.query(`CREATE INDEX "IDX_commission_unsettled" ON "commission" ("approves_at") WHERE "settlement_run_id" IS NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "commission"`);
    await q.query(`ALTER TABLE "member" DROP COLUMN "affiliate_attributed_at"`);
    await q.query(`ALTER TABLE "member" DROP COLUMN "affiliate_id"`);
    await q.query(`DROP TABLE "affiliate"`);
  }
}
