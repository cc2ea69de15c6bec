import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events made by time (docs/rules.md, Events and webhooks):
 * - `coalition.expiry_reminder_days`: how many days before its lots expire a member is reminded
 *   (`points.expiring`), 1 to 365, default 30.
 * - `points_expiry_reminder`: one row per member and UTC expiry date once its reminder was written;
 *   the primary key is what makes the job safe on several instances (ON CONFLICT DO NOTHING).
 * - Commission approval becomes a stored change (`status` PENDING → APPROVED, with `commission.approved`),
 *   made by a job; the partial index finds the commissions whose hold has ended. Commissions whose hold
 *   ended before this migration are marked APPROVED here, without events: they were approved before the
 *   event existed, and a flood of stale approvals on upgrade would help no receiver.
 */
export class EventReminders1764480000000 implements MigrationInterface {
  name = 'EventReminders1764480000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "coalition" ADD "expiry_reminder_days" integer NOT NULL DEFAULT 30
      CONSTRAINT "CHK_coalition_expiry_reminder_days" CHECK ("expiry_reminder_days" BETWEEN 1 AND 365)`);
    await q.query(`
      CREATE TABLE "points_expiry_reminder" (
        "member_id" uuid NOT NULL,
        "expires_on" date NOT NULL,
        "points" integer NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_points_expiry_reminder" PRIMARY KEY ("member_id", "expires_on")
      )`);
    await q.query(`UPDATE "commission" SET "status" = 'APPROVED'
      WHERE "status" = 'PENDING' AND "settlement_run_id" IS NULL AND "approves_at" <= now()`);
    await q.query(`CREATE INDEX "IDX_commission_to_approve" ON "commission" ("approves_at") WHERE "status" = 'PENDING' AND "settlement_run_id" IS NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_commission_to_approve"`);
    await q.query(`UPDATE "commission" SET "status" = 'PENDING' WHERE "status" = 'APPROVED'`);
    await q.query(`DROP TABLE "points_expiry_reminder"`);
    await q.query(`ALTER TABLE "coalition" DROP COLUMN "expiry_reminder_days"`);
  }
}
