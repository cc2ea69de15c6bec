import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The earn engine: promotions (a reference table), the member's tier and referral state on its
 * row, and per-partner limits on action bonuses. Purchase counts, day totals and tier
 * qualification are read from the ledger itself, so a purchase writes no extra counter rows.
 */
export class EarnEngine1764000000000 implements MigrationInterface {
  name = 'EarnEngine1764000000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "promotion" (
        "id" uuid NOT NULL,
        "partner_id" uuid NOT NULL,
        "name" character varying(200) NOT NULL,
        "starts_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "ends_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "multiplier" numeric(20,6),
        "bonus_points" integer,
        "categories" jsonb NOT NULL DEFAULT '[]',
        "tiers" jsonb NOT NULL DEFAULT '[]',
        "min_spend" numeric(20,6),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_promotion" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_promotion_window" CHECK ("ends_at" > "starts_at")
      )`);
    await q.query(`CREATE INDEX "IDX_promotion_partner" ON "promotion" ("partner_id", "ends_at")`);
    await q.query(`ALTER TABLE "member" ADD "tier" character varying(60)`);
    await q.query(`ALTER TABLE "member" ADD "successful_referrals" integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "member" ADD "referral_rewarded_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "partner" ADD "bonus_limits" jsonb NOT NULL DEFAULT '[]'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "partner" DROP COLUMN "bonus_limits"`);
    await q.query(`ALTER TABLE "member" DROP COLUMN "referral_rewarded_at"`);
    await q.query(`ALTER TABLE "member" DROP COLUMN "successful_referrals"`);
    await q.query(`ALTER TABLE "member" DROP COLUMN "tier"`);
    await q.query(`DROP TABLE "promotion"`);
  }
}
