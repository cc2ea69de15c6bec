import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Settlement runs: a closed period and what it produced — lines per (payer, payee, kind), net
 * positions and transfers — stored once and never changed. Aggregates, not member-scoped.
 */
export class Settlement1764100000000 implements MigrationInterface {
  name = 'Settlement1764100000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "settlement_run" (
        "id" uuid NOT NULL,
        "period_start" TIMESTAMP WITH TIME ZONE NOT NULL,
        "period_end" TIMESTAMP WITH TIME ZONE NOT NULL,
        "closed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "currency" character varying(3) NOT NULL,
        "currency_exponent" smallint NOT NULL,
        CONSTRAINT "PK_settlement_run" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_settlement_run_period" UNIQUE ("period_start", "period_end"),
        CONSTRAINT "CHK_settlement_run_period" CHECK ("period_end" > "period_start")
      )`);
    for (const [table, columns] of [
      ['settlement_line', `"kind" character varying(20) NOT NULL, "payer_type" character varying(20) NOT NULL, "payer_id" uuid,
        "payee_type" character varying(20) NOT NULL, "payee_id" uuid, "points" bigint NOT NULL, "amount_minor" bigint NOT NULL`],
      ['settlement_position', `"party_type" character varying(20) NOT NULL, "party_id" uuid, "amount_minor" bigint NOT NULL`],
      ['settlement_transfer', `"from_type" character varying(20) NOT NULL, "from_id" uuid, "to_type" character varying(20) NOT NULL, "to_id" uuid,
        "amount_minor" bigint NOT NULL`],
    ] as const) {
      await q.query(`
        CREATE TABLE "${table}" (
          "run_id" uuid NOT NULL,
          "seq" integer NOT NULL,
          ${columns},
          CONSTRAINT "PK_${table}" PRIMARY KEY ("run_id", "seq")
        )`);
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const table of ['settlement_transfer', 'settlement_position', 'settlement_line', 'settlement_run']) await q.query(`DROP TABLE "${table}"`);
  }
}
