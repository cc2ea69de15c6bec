import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Program integrity, earning side: the coalition's limit on backdated purchases (DESIGN.md,
 * Earning: occurredAt at most maxBackdateDays in the past, default 30).
 */
export class EarningIntegrity1764410000000 implements MigrationInterface {
  name = 'EarningIntegrity1764410000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "coalition" ADD "max_backdate_days" integer NOT NULL DEFAULT 30
      CONSTRAINT "CHK_coalition_max_backdate_days" CHECK ("max_backdate_days" BETWEEN 1 AND 3650)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "coalition" DROP COLUMN "max_backdate_days"`);
  }
}
