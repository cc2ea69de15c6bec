import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Settlement models (DESIGN.md, Settlement models: bilateral or operator clearing): the coalition's
 * `settlement_model` (BILATERAL until the operator changes it) and each partner's
 * `issuance_price_per_point`, the money per point it pays the operator for the points it issues in
 * CLEARING. Existing partners start at their redemption value: a partner buys its points at what it
 * is paid to redeem them until the operator sets a price.
 */
export class SettlementModels1764520000000 implements MigrationInterface {
  name = 'SettlementModels1764520000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "coalition" ADD "settlement_model" character varying(10) NOT NULL DEFAULT 'BILATERAL'`);
    await q.query(`ALTER TABLE "coalition" ADD CONSTRAINT "CHK_coalition_settlement_model" CHECK ("settlement_model" IN ('BILATERAL', 'CLEARING'))`);
    await q.query(`ALTER TABLE "partner" ADD "issuance_price_per_point" numeric(20,6)`);
    await q.query(`UPDATE "partner" SET "issuance_price_per_point" = "redemption_value_per_point"`);
    await q.query(`ALTER TABLE "partner" ALTER COLUMN "issuance_price_per_point" SET NOT NULL`);
    // The operator economics report reads obligations by kind over a period.
    await q.query(`CREATE INDEX "IDX_obligation_kind_posted" ON "obligation" ("kind", "posted_at")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_obligation_kind_posted"`);
    await q.query(`ALTER TABLE "partner" DROP COLUMN "issuance_price_per_point"`);
    await q.query(`ALTER TABLE "coalition" DROP CONSTRAINT "CHK_coalition_settlement_model"`);
    await q.query(`ALTER TABLE "coalition" DROP COLUMN "settlement_model"`);
  }
}
