import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Charity: causes and matching campaigns (reference tables), donations (stored with the member,
 * keyed by member first) and a member's automatic donation setting (on its row).
 */
export class Charity1764300000000 implements MigrationInterface {
  name = 'Charity1764300000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "cause" (
        "id" uuid NOT NULL,
        "name" character varying(200) NOT NULL,
        "description" character varying(2000),
        "goal_points" integer,
        "active" boolean NOT NULL DEFAULT true,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_cause" PRIMARY KEY ("id")
      )`);
    await q.query(`
      CREATE TABLE "matching_campaign" (
        "id" uuid NOT NULL,
        "partner_id" uuid NOT NULL,
        "cause_id" uuid NOT NULL,
        "ratio" numeric(20,6) NOT NULL,
        "cap_points" integer NOT NULL,
        "matched_points" integer NOT NULL DEFAULT 0,
        "starts_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "ends_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_matching_campaign" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_matching_campaign_cap" CHECK ("matched_points" >= 0 AND "matched_points" <= "cap_points")
      )`);
    await q.query(`CREATE INDEX "IDX_matching_campaign_cause" ON "matching_campaign" ("cause_id", "ends_at")`);
    await q.query(`
      CREATE TABLE "donation" (
        "member_id" uuid NOT NULL,
        "id" uuid NOT NULL,
        "transaction_id" uuid NOT NULL,
        "cause_id" uuid NOT NULL,
        "points" integer NOT NULL,
        "value_minor" bigint NOT NULL,
        "matched_points" integer NOT NULL DEFAULT 0,
        "matched_value_minor" bigint NOT NULL DEFAULT 0,
        "receipt_number" character varying(40) NOT NULL,
        "automatic" boolean NOT NULL DEFAULT false,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_donation" PRIMARY KEY ("member_id", "id")
      )`);
    await q.query(`CREATE INDEX "IDX_donation_cause" ON "donation" ("cause_id")`);
    await q.query(`ALTER TABLE "member" ADD "auto_donation_cause_id" uuid`);
    await q.query(`ALTER TABLE "member" ADD "auto_donation_percent" smallint NOT NULL DEFAULT 0`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "member" DROP COLUMN "auto_donation_percent"`);
    await q.query(`ALTER TABLE "member" DROP COLUMN "auto_donation_cause_id"`);
    for (const table of ['donation', 'matching_campaign', 'cause']) await q.query(`DROP TABLE "${table}"`);
  }
}
