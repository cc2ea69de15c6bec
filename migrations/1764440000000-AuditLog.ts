import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log: one append-only row per change of configuration or access, written in the
 * change's own transaction. Read newest first, all of it (operator) or one partner's (partner_id).
 */
export class AuditLog1764440000000 implements MigrationInterface {
  name = 'AuditLog1764440000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "audit_log" (
        "id" uuid NOT NULL,
        "at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "actor_role" character varying(20) NOT NULL,
        "actor_id" uuid,
        "action" character varying(100) NOT NULL,
        "subject_type" character varying(40) NOT NULL,
        "subject_id" character varying(100),
        "partner_id" uuid,
        "input" jsonb NOT NULL,
        CONSTRAINT "PK_audit_log" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "IDX_audit_log_partner" ON "audit_log" ("partner_id", "id")`);
    await q.query(`CREATE INDEX "IDX_audit_log_action" ON "audit_log" ("action", "id")`);
    await q.query(`CREATE INDEX "IDX_audit_log_subject" ON "audit_log" ("subject_id", "id")`);
    // Append-only: the hub never changes or removes an entry, and the database refuses to.
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
      END $$`);
    await q.query(`CREATE TRIGGER "TRG_audit_log_append_only" BEFORE UPDATE OR DELETE ON "audit_log"
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE "audit_log"');
    await q.query('DROP FUNCTION audit_log_append_only()');
  }
}
