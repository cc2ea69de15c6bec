import { MigrationInterface, QueryRunner } from 'typeorm';
import { normalizeEmail } from '../src/modules/member/member.rules';

/**
 * Identity and privacy (issue 9):
 * - which of a member's e-mail, phone and birth date each linked partner supplied (it sees only
 *   those). Before this, enrollment did not record it; what can be proved is backfilled: an
 *   identifier written in the same transaction as a partner's link (same `now()`) was supplied by
 *   that partner, and so was the birth date of a member created with the link;
 * - partner codes unique by their canonical form (`code_key`: upper-case, no spaces or dashes);
 * - an optional phone on affiliates (an affiliate is never attributed itself);
 * - e-mails stored under the old rule (trimmed, lower-cased) brought to the new one (NFC,
 *   punycode domain) where the new form is free; an address whose new form another member holds
 *   already (a look-alike duplicate) keeps its stored value for the operator to resolve;
 * - sticky affiliate attributions of a member to its own affiliate account are removed.
 */
export class Identity1764420000000 implements MigrationInterface {
  name = 'Identity1764420000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "member_partner_link" ADD "supplied_identifiers" character varying(20) array NOT NULL DEFAULT '{}'`);
    await q.query(`
      UPDATE member_partner_link l SET supplied_identifiers = ARRAY(
        SELECT i.kind FROM member_identifier i WHERE i.member_id = l.member_id AND i.kind IN ('EMAIL', 'PHONE') AND i.created_at = l.linked_at
        UNION ALL
        SELECT 'BIRTH_DATE' FROM member m WHERE m.id = l.member_id AND m.birth_date IS NOT NULL AND m.created_at = l.linked_at
        ORDER BY 1)`);

    await q.query(`ALTER TABLE "partner" ADD "code_key" character varying(40)`);
    await q.query(`UPDATE partner SET code_key = upper(regexp_replace(code, '[[:space:]-]', '', 'g'))`);
    const clashes = await q.query(`SELECT string_agg(code, ', ' ORDER BY code) AS codes FROM partner GROUP BY code_key HAVING count(*) > 1`);
    if (clashes.length) {
      throw new Error(`Partner codes that differ only in case, spaces or dashes must be renamed first: ${clashes.map((c: { codes: string }) => c.codes).join('; ')}`);
    }
    await q.query(`ALTER TABLE "partner" ALTER COLUMN "code_key" SET NOT NULL`);
    await q.query(`ALTER TABLE "partner" ADD CONSTRAINT "UQ_partner_code_key" UNIQUE ("code_key")`);

    await q.query(`ALTER TABLE "affiliate" ADD "phone" character varying(20)`);

    // Old rows were trimmed and lower-cased: only non-ASCII ones can change under the new rule.
    const emails: { value: string; member_id: string }[] = await q.query(`SELECT value, member_id FROM member_identifier WHERE kind = 'EMAIL' AND value ~ '[^[:ascii:]]'`);
    for (const { value, member_id } of emails) {
      const email = normalizeEmail(value);
      if (!email || email === value) continue;
      const taken: unknown[] = await q.query(`SELECT 1 FROM member_identifier WHERE kind = 'EMAIL' AND value = $1`, [email]);
      if (taken.length) continue;
      await q.query(`UPDATE member_identifier SET value = $2 WHERE kind = 'EMAIL' AND value = $1`, [value, email]);
      await q.query(`UPDATE member SET email = $2 WHERE id = $1`, [member_id, email]);
    }
    const affiliates: { id: string; email: string }[] = await q.query(`SELECT id, email FROM affiliate WHERE email ~ '[^[:ascii:]]'`);
    for (const { id, email } of affiliates) {
      const normalized = normalizeEmail(email);
      if (normalized && normalized !== email) await q.query(`UPDATE affiliate SET email = $2 WHERE id = $1`, [id, normalized]);
    }

    // The mailbox of an address (plus-tag dropped, dots too at gmail.com / googlemail.com), as mailboxOf in member.rules.ts.
    const mailbox = (column: string) => `(SELECT CASE WHEN d IN ('gmail.com', 'googlemail.com') THEN replace(l, '.', '') || '@gmail.com' ELSE l || '@' || d END
      FROM (SELECT regexp_replace(split_part(${column}, '@', 1), '(.)\\+.*$', '\\1') AS l, split_part(${column}, '@', 2) AS d) x)`;
    await q.query(`
      UPDATE member m SET affiliate_id = NULL, affiliate_attributed_at = NULL FROM affiliate a
      WHERE m.affiliate_id = a.id AND m.email IS NOT NULL AND ${mailbox('m.email')} = ${mailbox('a.email')}`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "affiliate" DROP COLUMN "phone"`);
    await q.query(`ALTER TABLE "partner" DROP CONSTRAINT "UQ_partner_code_key"`);
    await q.query(`ALTER TABLE "partner" DROP COLUMN "code_key"`);
    await q.query(`ALTER TABLE "member_partner_link" DROP COLUMN "supplied_identifiers"`);
  }
}
