import { MigrationInterface, QueryRunner } from 'typeorm';

/** Idempotency keys of up to 255 characters (DESIGN.md, The ledger). Widening a varchar rewrites nothing. */
export class IdempotencyKey2551764400000000 implements MigrationInterface {
  name = 'IdempotencyKey2551764400000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ledger_transaction" ALTER COLUMN "idempotency_key" TYPE character varying(255)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ledger_transaction" ALTER COLUMN "idempotency_key" TYPE character varying(200)`);
  }
}
