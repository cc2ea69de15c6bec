import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Donation values (DESIGN.md, Charity): each DONATION and MATCH obligation row stores the money it
 * is worth in minor units (the donation's floored value split on the running total), so receipts,
 * settlement lines and a cause's `raised` are sums of the same stored values. Rows posted before
 * keep NULL and are valued as before (points × rate, exact).
 */
export class DonationValues1764430000000 implements MigrationInterface {
  name = 'DonationValues1764430000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "obligation" ADD "value_minor" bigint`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "obligation" DROP COLUMN "value_minor"`);
  }
}
