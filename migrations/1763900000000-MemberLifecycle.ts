import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Member lifecycle (issue 3): communication preferences, one row per member and channel the member
 * has set, keyed by member first like every member-scoped table; and the time a member was erased
 * (identifiers anonymized, ledger kept).
 */
export class MemberLifecycle1763900000000 implements MigrationInterface {
  name = 'MemberLifecycle1763900000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "member_preference" (
        "member_id" uuid NOT NULL,
        "channel" character varying(10) NOT NULL,
        "level" character varying(20) NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_member_preference" PRIMARY KEY ("member_id", "channel"),
        CONSTRAINT "CHK_member_preference_channel" CHECK ("channel" IN ('EMAIL', 'SMS', 'PUSH')),
        CONSTRAINT "CHK_member_preference_level" CHECK ("level" IN ('NONE', 'TRANSACTIONAL', 'MONTHLY', 'WEEKLY', 'ALL'))
      )`);
    // Nullable, no default: adding it rewrites nothing, however many members there are.
    await q.query(`ALTER TABLE "member" ADD COLUMN "erased_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "member" DROP COLUMN "erased_at"`);
    await q.query(`DROP TABLE "member_preference"`);
  }
}
