import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pending points (docs/rules.md, Lots): a lot gains `available_at`, the instant its points become
 * spendable (a purchase's return window; the referral bonuses it earned). NULL: available from its
 * creation, as every lot before this migration, so nothing is backfilled. The partial index holds
 * only open lots that ever had a window, so "what is pending now" is one short index range per
 * member (normally empty), like the expired points read over IDX_lot_open.
 */
export class PendingPoints1764510000000 implements MigrationInterface {
  name = 'PendingPoints1764510000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "lot" ADD "available_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "lot" ADD CONSTRAINT "CHK_lot_available" CHECK ("available_at" IS NULL OR "available_at" < "expires_at")`);
    await q.query(`CREATE INDEX "IDX_lot_pending" ON "lot" ("member_id", "available_at") WHERE "remaining" > 0 AND "available_at" IS NOT NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_lot_pending"`);
    await q.query(`ALTER TABLE "lot" DROP CONSTRAINT "CHK_lot_available"`);
    await q.query(`ALTER TABLE "lot" DROP COLUMN "available_at"`);
  }
}
