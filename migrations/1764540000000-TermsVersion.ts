import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The posting terms' version (`terms_version`, one row): what a posting reads before its
 * transaction (the coalition's settings, partners' earn rules, prices and limits, promotions,
 * clubs, affiliate codes; posting-terms.store.ts) is kept by the server between postings, and the
 * posting's lock statement reads this version to tell whether what it kept is still current. Every
 * change to those rows bumps it at commit (deferred constraint triggers: the row lock is taken last,
 * so a change never waits on it while holding other locks); TRUNCATE bumps it at once.
 */
export class TermsVersion1764540000000 implements MigrationInterface {
  name = 'TermsVersion1764540000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "terms_version" ("id" smallint PRIMARY KEY CHECK ("id" = 1), "version" bigint NOT NULL)`);
    await q.query(`INSERT INTO "terms_version" ("id", "version") VALUES (1, 1)`);
    await q.query(`CREATE FUNCTION "bump_terms_version"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE "terms_version" SET "version" = "version" + 1 WHERE "id" = 1;
        RETURN NULL;
      END $$`);
    for (const [table, update] of TERMS_TABLES) {
      await q.query(`CREATE CONSTRAINT TRIGGER "TRG_${table}_terms_version" AFTER INSERT OR DELETE OR UPDATE${update} ON "${table}"
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_terms_version"()`);
      await q.query(`CREATE TRIGGER "TRG_${table}_terms_version_truncate" AFTER TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION "bump_terms_version"()`);
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const [table] of TERMS_TABLES) {
      await q.query(`DROP TRIGGER "TRG_${table}_terms_version_truncate" ON "${table}"`);
      await q.query(`DROP TRIGGER "TRG_${table}_terms_version" ON "${table}"`);
    }
    await q.query(`DROP FUNCTION "bump_terms_version"()`);
    await q.query(`DROP TABLE "terms_version"`);
  }
}

/** The tables the posting terms are read from, and the columns of each they read (all when none are named). */
const TERMS_TABLES: [string, string][] = [
  ['coalition', ''],
  ['partner', ' OF "redemption_value_per_point", "issuance_price_per_point", "earn_rule", "bonus_limits", "commission_plan"'],
  ['promotion', ''],
  ['club', ' OF "partner_id", "name", "earn_multiplier"'],
  ['affiliate', ' OF "code"'],
];
