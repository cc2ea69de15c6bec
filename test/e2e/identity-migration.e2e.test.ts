import { Identity1764420000000 } from '../../migrations/1764420000000-Identity';
import { TestHub, startTestHub } from '../support/hub';
import { createPartner, enroll, unique } from '../support/scenario';

/**
 * The identity migration on rows written under the old rules: run down then up again on a database
 * holding them (this file's own database), as an upgrade would meet them.
 */
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

const ID = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

async function oldMember(id: string, email: string | null, extra = ''): Promise<void> {
  await hub.db.query(`INSERT INTO member (id, member_code, referral_code, email${extra ? ', affiliate_id' : ''}) VALUES ($1, $2, $3, $4${extra ? ', $5' : ''})`,
    [id, id.slice(-12), id.slice(-8), email, ...(extra ? [extra] : [])]);
  if (email) await hub.db.query(`INSERT INTO member_identifier (kind, value, member_id) VALUES ('EMAIL', $1, $2)`, [email, id]);
}

it('re-normalizes old e-mails (NFD, Unicode domain) unless a look-alike holds the new form, backfills what partners supplied, and drops self-attributions', async () => {
  const partner = await createPartner(hub);
  const email = `${unique('keep')}@example.com`;
  const linked = await enroll(hub, partner, { email, phone: '+447700900001', birthDate: '1970-01-01' });
  // A partner that linked later with a known identifier: what it supplied cannot be proved.
  const later = await createPartner(hub);
  await hub.db.query(`INSERT INTO member_partner_link (member_id, partner_id, linked_at) VALUES ($1, $2, now() - interval '1 day')`, [linked.id, later.id]);

  await oldMember(ID(1), 'ja\u0308n@b\u00fccher.de'); // NFD local part, Unicode domain: becomes jän@xn--bcher-kva.de
  await oldMember(ID(2), 'zo\u00eb@example.com'); // NFC: holds the new form already
  await oldMember(ID(3), 'zoe\u0308@example.com'); // its NFD look-alike: keeps its stored value
  await hub.db.query(`INSERT INTO affiliate (id, code, name, email) VALUES ($1, 'AFSELF0001', 'Pat', 'pat.smith@gmail.com')`, [ID(9)]);
  await oldMember(ID(4), 'patsmith+x@googlemail.com', ID(9));
  await oldMember(ID(5), 'someone.else@gmail.com', ID(9));

  const q = hub.db.createQueryRunner();
  try {
    const migration = new Identity1764420000000();
    await migration.down(q);
    await migration.up(q);
  } finally {
    await q.release();
  }

  const emails = await hub.db.query(`SELECT m.id, m.email, i.value FROM member m LEFT JOIN member_identifier i ON i.member_id = m.id AND i.kind = 'EMAIL'
                                     WHERE m.id = ANY($1::uuid[]) ORDER BY m.id`, [[ID(1), ID(2), ID(3)]]);
  expect(emails).toEqual([
    { id: ID(1), email: 'j\u00e4n@xn--bcher-kva.de', value: 'j\u00e4n@xn--bcher-kva.de' },
    { id: ID(2), email: 'zo\u00eb@example.com', value: 'zo\u00eb@example.com' },
    { id: ID(3), email: 'zoe\u0308@example.com', value: 'zoe\u0308@example.com' },
  ]);
  const links = await hub.db.query('SELECT partner_id, supplied_identifiers FROM member_partner_link WHERE member_id = $1', [linked.id]);
  expect(Object.fromEntries(links.map((l: { partner_id: string; supplied_identifiers: string[] }) => [l.partner_id, l.supplied_identifiers])))
    .toEqual({ [partner.id]: ['BIRTH_DATE', 'EMAIL', 'PHONE'], [later.id]: [] });
  const attributed = await hub.db.query('SELECT id, affiliate_id FROM member WHERE id = ANY($1::uuid[]) ORDER BY id', [[ID(4), ID(5)]]);
  expect(attributed).toEqual([{ id: ID(4), affiliate_id: null }, { id: ID(5), affiliate_id: ID(9) }]);
  const [code] = await hub.db.query('SELECT code, code_key FROM partner WHERE id = $1', [partner.id]);
  expect(code.code_key).toBe(code.code.toUpperCase().replace(/-/g, ''));
});
