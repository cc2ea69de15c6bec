import { GraphQLResponse, TestHub, startTestHub } from '../support/hub';
import { TestPartner, createPartner, ledgerRowCounts, unique } from '../support/scenario';
import { Role } from '../../src/api/auth';

const MEMBER_FIELDS = 'id memberCode referralCode email phone birthDate';
const ENROLL = `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { ${MEMBER_FIELDS} } created userErrors { code message field } } }`;
const MEMBER = `query($id: ID!) { member(id: $id) { ${MEMBER_FIELDS} } }`;
const BY_IDENTIFIER = `query($email: String, $phone: String, $memberCode: String) { memberByIdentifier(email: $email, phone: $phone, memberCode: $memberCode) { ${MEMBER_FIELDS} } }`;

interface EnrolledMember {
  id: string;
  memberCode: string;
  referralCode: string;
  email: string | null;
  phone: string | null;
  birthDate: string | null;
}

interface EnrollPayload {
  member: EnrolledMember | null;
  created: boolean;
  userErrors: { code: string; message: string; field: string[] | null }[];
}

let hub: TestHub;
let grocer: TestPartner;
let fuel: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  grocer = await createPartner(hub);
  fuel = await createPartner(hub);
});
afterAll(() => hub.close());

async function enrollAt(partner: TestPartner, input: Record<string, unknown>): Promise<EnrollPayload> {
  const res = await hub.gql(ENROLL, { input }, partner.token);
  if (!res.data) throw new Error(`enrollMember failed: ${JSON.stringify(res)}`);
  return res.data.enrollMember;
}

/** Enrolls a new member and returns it, failing the test if it was not created. */
async function newMember(partner: TestPartner, input: Record<string, unknown>): Promise<EnrolledMember> {
  const payload = await enrollAt(partner, input);
  expect(payload.userErrors).toEqual([]);
  expect(payload.created).toBe(true);
  return payload.member!;
}

const freshEmail = () => `${unique('member')}@example.com`;

let phoneCounter = 0;
/** A UK mobile number no other test uses: `digits` completes "+44 7700 …". */
function freshPhone(): { digits: string; e164: string } {
  phoneCounter += 1;
  const digits = String(900000 + phoneCounter);
  return { digits, e164: `+447700${digits}` };
}

function codes(res: GraphQLResponse): (string | undefined)[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

/** Luhn validity of a whole number, check digit included (as card readers check it). */
function luhnValid(code: string): boolean {
  let sum = 0;
  for (let i = 0; i < code.length; i++) {
    let digit = Number(code[code.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

describe('normalizing identifiers', () => {
  it('trims and lower-cases the email', async () => {
    const local = unique('Ann.Smith');
    const member = await newMember(grocer, { email: `  ${local}@Example.COM \t` });
    expect(member.email).toBe(`${local.toLowerCase()}@example.com`);
    const [identifier] = await hub.db.query(`SELECT value FROM member_identifier WHERE kind = 'EMAIL' AND member_id = $1`, [member.id]);
    expect(identifier.value).toBe(`${local.toLowerCase()}@example.com`);
  });

  it.each<[string, (digits: string) => string]>([
    ['"+44 7700 900123"', (d) => `+44 7700 ${d}`],
    ['"0044 7700 900123"', (d) => `0044 7700 ${d}`],
    ['"+447700900123"', (d) => `+447700${d}`],
    ['"+44 (7700) 900-123"', (d) => `+44 (7700) ${d.slice(0, 3)}-${d.slice(3)}`],
    ['" +44 7700 900123 " (blanks around)', (d) => `  +44 7700 ${d} `],
  ])('stores a phone written as %s in E.164', async (_name, write) => {
    const phone = freshPhone();
    const member = await newMember(grocer, { phone: write(phone.digits) });
    expect(member.phone).toBe(phone.e164);
  });

  it.each([
    ['a national number without country code', '07700 900123'],
    ['digits without any prefix', '7700 900123'],
    ['a number too short for its country', '+44 12'],
    ['words', 'call me maybe'],
    ['a bare plus sign', '+'],
  ])('refuses %s as a phone with INVALID_INPUT on input.phone, writing nothing', async (_name, phone) => {
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(grocer, { phone });
    expect(payload).toEqual({ member: null, created: false, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'phone'] }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it.each([['no-at-sign.example.com'], ['two@@example.com'], ['spaces in@example.com']])(
    'refuses the email %j with INVALID_INPUT on input.email, writing nothing', async (email) => {
      const before = await ledgerRowCounts(hub);
      const payload = await enrollAt(grocer, { email });
      expect(payload).toEqual({ member: null, created: false, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'email'] }] });
      expect(await ledgerRowCounts(hub)).toEqual(before);
    });

  it.each<[string, Record<string, unknown>]>([
    ['nothing at all', {}],
    ['only a birth date', { birthDate: '1990-05-17' }],
    ['only blanks as externalRef', { externalRef: '   ' }],
  ])('needs at least one of email, phone or externalRef: %s is INVALID_INPUT, writing nothing', async (_name, input) => {
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(grocer, input);
    expect(payload.member).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT' })]);
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });
});

describe('enrollMember finds the same person by any identifier', () => {
  it.each<[string, (email: string, phoneDigits: string) => Record<string, unknown>]>([
    ['the same email', (email) => ({ email })],
    ['the email in upper case with blanks around', (email) => ({ email: `  ${email.toUpperCase()}  ` })],
    ['the phone, written another way', (_email, digits) => ({ phone: `0044 7700 ${digits}` })],
    ['email and phone together', (email, digits) => ({ email, phone: `+44 7700 ${digits}` })],
  ])('returns created: false and the same member for %s', async (_name, again) => {
    const email = freshEmail();
    const phone = freshPhone();
    const member = await newMember(grocer, { email, phone: phone.e164 });
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(grocer, again(email, phone.digits));
    expect(payload.userErrors).toEqual([]);
    expect(payload.created).toBe(false);
    expect(payload.member).toEqual(member);
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it('links the member to a second partner that enrolls it by email, which then sees it', async () => {
    const email = freshEmail();
    const member = await newMember(grocer, { email });
    expect((await hub.gql(MEMBER, { id: member.id }, fuel.token)).data.member).toBeNull();

    const payload = await enrollAt(fuel, { email: email.toUpperCase() });
    expect(payload).toEqual({ member, created: false, userErrors: [] });
    expect((await hub.gql(MEMBER, { id: member.id }, fuel.token)).data.member).toEqual(member);
    const links = await hub.db.query('SELECT partner_id FROM member_partner_link WHERE member_id = $1 ORDER BY partner_id', [member.id]);
    expect(links.map((l: { partner_id: string }) => l.partner_id)).toEqual([grocer.id, fuel.id].sort());
  });

  it('identifies a member by externalRef per partner: the same ref at another partner is another member', async () => {
    const ref = unique('cust-');
    const atGrocer = await newMember(grocer, { externalRef: ref });
    const again = await enrollAt(grocer, { externalRef: `  ${ref} ` });
    expect(again).toEqual({ member: atGrocer, created: false, userErrors: [] });

    const atFuel = await newMember(fuel, { externalRef: ref });
    expect(atFuel.id).not.toBe(atGrocer.id);
    expect((await hub.gql(MEMBER, { id: atGrocer.id }, fuel.token)).data.member).toBeNull();
  });

  it('finds a member by its externalRef when it was enrolled with an email too', async () => {
    const ref = unique('cust-');
    const member = await newMember(grocer, { email: freshEmail(), externalRef: ref });
    expect(await enrollAt(grocer, { externalRef: ref })).toEqual({ member, created: false, userErrors: [] });
  });

  it('refuses identifiers of two different members with INVALID_INPUT, writing nothing (no link either)', async () => {
    const email = freshEmail();
    const phone = freshPhone();
    const byEmail = await newMember(grocer, { email });
    const byPhone = await newMember(grocer, { phone: phone.e164 });
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(fuel, { email, phone: phone.e164 });
    expect(payload.member).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT' })]);
    expect(await ledgerRowCounts(hub)).toEqual(before);
    for (const m of [byEmail, byPhone]) expect((await hub.gql(MEMBER, { id: m.id }, fuel.token)).data.member).toBeNull();
  });

  // Enrolling an existing member never adds identifiers (issue 9, item 9): the phone is ignored, not attached.
  it('does not add an identifier of a kind the member lacks (email-only member gains no phone, and is not findable by it)', async () => {
    const email = freshEmail();
    const phone = freshPhone();
    const member = await newMember(grocer, { email });
    expect(member.phone).toBeNull();

    const payload = await enrollAt(grocer, { email: email.toUpperCase(), phone: `+44 7700 ${phone.digits}` });
    expect(payload.userErrors).toEqual([]);
    expect(payload.created).toBe(false);
    expect(payload.member).toEqual({ ...member, phone: null });
    expect((await hub.gql(BY_IDENTIFIER, { phone: phone.e164 }, grocer.token)).data.memberByIdentifier).toBeNull();
    const rows = await hub.db.query(`SELECT member_id FROM member_identifier WHERE kind = 'PHONE' AND value = $1`, [phone.e164]);
    expect(rows).toEqual([]);
  });

  // A different e-mail is ignored like any identifier the member does not hold: no error that would tell
  // the caller the member has another one, nothing written (the link exists already).
  it('ignores a different email for a member matched by phone (created: false, no error), keeping its email', async () => {
    const email = freshEmail();
    const phone = freshPhone();
    const member = await newMember(grocer, { email, phone: phone.e164 });
    const otherEmail = freshEmail();
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(grocer, { email: otherEmail, phone: phone.e164 });
    expect(payload).toEqual({ member, created: false, userErrors: [] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
    expect((await hub.gql(MEMBER, { id: member.id }, grocer.token)).data.member.email).toBe(email);
    expect((await hub.gql(BY_IDENTIFIER, { email: otherEmail }, hub.admin)).data.memberByIdentifier).toBeNull();
  });
});

describe('generated codes', () => {
  it('gives each member a 12-digit memberCode with a valid Luhn check digit and an 8-character referralCode, all unique', async () => {
    const members: EnrolledMember[] = [];
    for (let i = 0; i < 25; i++) members.push(await newMember(grocer, { email: freshEmail() }));
    for (const m of members) {
      expect(m.memberCode).toMatch(/^\d{12}$/);
      expect(luhnValid(m.memberCode)).toBe(true);
      expect(m.referralCode).toMatch(/^[0-9A-Z]{8}$/);
    }
    expect(new Set(members.map((m) => m.memberCode)).size).toBe(members.length);
    expect(new Set(members.map((m) => m.referralCode)).size).toBe(members.length);
    const [all] = await hub.db.query(`SELECT count(*)::int AS n, count(DISTINCT member_code)::int AS codes, count(DISTINCT referral_code)::int AS referrals FROM member`);
    expect(all.codes).toBe(all.n);
    expect(all.referrals).toBe(all.n);
  });
});

describe('referral and affiliate codes at enrollment', () => {
  it('stores the referrer of a member enrolled with a valid referralCode', async () => {
    const referrer = await newMember(grocer, { email: freshEmail() });
    const friend = await newMember(fuel, { email: freshEmail(), referralCode: referrer.referralCode });
    const [row] = await hub.db.query('SELECT referred_by_member_id FROM member WHERE id = $1', [friend.id]);
    expect(row.referred_by_member_id).toBe(referrer.id);
    const [referrerRow] = await hub.db.query('SELECT referred_by_member_id FROM member WHERE id = $1', [referrer.id]);
    expect(referrerRow.referred_by_member_id).toBeNull();
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['an unknown referralCode', { referralCode: 'ZZZZZZZZ' }, ['input', 'referralCode']],
    // Affiliates arrive in a later issue: until then no affiliate code is known.
    ['an affiliateCode (no affiliates exist yet)', { affiliateCode: 'AFF-123' }, ['input', 'affiliateCode']],
    ['a birthDate in the future (2031-01-01)', { birthDate: '2031-01-01' }, ['input', 'birthDate']],
    ['a birthDate that is no calendar date (2020-02-30)', { birthDate: '2020-02-30' }, ['input', 'birthDate']],
  ])('refuses %s with INVALID_INPUT on its field, writing nothing', async (_name, extra, field) => {
    const email = freshEmail();
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(grocer, { email, ...extra });
    expect(payload).toEqual({ member: null, created: false, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
    expect((await hub.gql(BY_IDENTIFIER, { email }, hub.admin)).data.memberByIdentifier).toBeNull();
  });

  it('stores a plausible birthDate', async () => {
    const member = await newMember(grocer, { email: freshEmail(), birthDate: '1990-05-17' });
    expect(member.birthDate).toBe('1990-05-17');
  });
});

describe('who sees a member', () => {
  it('member(id): linked partners and the operator see it, an unlinked partner gets null', async () => {
    const member = await newMember(grocer, { email: freshEmail() });
    expect((await hub.gql(MEMBER, { id: member.id }, grocer.token)).data.member).toEqual(member);
    expect((await hub.gql(MEMBER, { id: member.id }, hub.admin)).data.member).toEqual(member);
    const unlinked = await hub.gql(MEMBER, { id: member.id }, fuel.token);
    expect(unlinked.errors).toBeUndefined();
    expect(unlinked.data.member).toBeNull();
  });

  it('a MEMBER sees itself through me and member(id), and null for another member', async () => {
    const self = await newMember(grocer, { email: freshEmail() });
    const other = await newMember(grocer, { email: freshEmail() });
    const token = hub.token({ role: Role.MEMBER, memberId: self.id });
    expect((await hub.gql(`{ me { ${MEMBER_FIELDS} } }`, {}, token)).data.me).toEqual(self);
    expect((await hub.gql(MEMBER, { id: self.id }, token)).data.member).toEqual(self);
    const res = await hub.gql(MEMBER, { id: other.id }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data.member).toBeNull();
  });

  it.each<[string, (m: EnrolledMember, phoneDigits: string) => Record<string, string>]>([
    ['email, in another case', (m) => ({ email: m.email!.toUpperCase() })],
    ['phone, written with 00 and spaces', (_m, digits) => ({ phone: `0044 7700 ${digits}` })],
    ['memberCode', (m) => ({ memberCode: m.memberCode })],
    ['memberCode with spaces', (m) => ({ memberCode: m.memberCode.replace(/(\d{4})(?=\d)/g, '$1 ') })],
    ['memberCode with dashes', (m) => ({ memberCode: m.memberCode.replace(/(\d{4})(?=\d)/g, '$1-') })],
  ])('memberByIdentifier(%s) finds a linked member, the operator finds it, an unlinked partner gets null', async (_name, lookup) => {
    const phone = freshPhone();
    const member = await newMember(grocer, { email: freshEmail(), phone: phone.e164 });
    const args = lookup(member, phone.digits);
    expect((await hub.gql(BY_IDENTIFIER, args, grocer.token)).data.memberByIdentifier).toEqual(member);
    expect((await hub.gql(BY_IDENTIFIER, args, hub.admin)).data.memberByIdentifier).toEqual(member);
    const unlinked = await hub.gql(BY_IDENTIFIER, args, fuel.token);
    expect(unlinked.errors).toBeUndefined();
    expect(unlinked.data.memberByIdentifier).toBeNull();
  });

  it.each<[string, Record<string, string>]>([
    ['no identifier', {}],
    ['email and phone', { email: 'someone@example.com', phone: '+447700900999' }],
    ['email and memberCode', { email: 'someone@example.com', memberCode: '000000000000' }],
  ])('memberByIdentifier with %s is a GraphQL error (BAD_USER_INPUT)', async (_name, args) => {
    const res = await hub.gql(BY_IDENTIFIER, args, grocer.token);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('concurrent enrollment', () => {
  it('makes exactly one member of 10 simultaneous enrollments with the same new email', async () => {
    const email = freshEmail();
    const payloads = await Promise.all(Array.from({ length: 10 }, () => enrollAt(grocer, { email })));
    for (const p of payloads) expect(p.userErrors).toEqual([]);
    expect(payloads.filter((p) => p.created)).toHaveLength(1);
    expect(new Set(payloads.map((p) => p.member!.id)).size).toBe(1);
    const [identifiers] = await hub.db.query(`SELECT count(*)::int AS n FROM member_identifier WHERE kind = 'EMAIL' AND value = $1`, [email]);
    expect(identifiers.n).toBe(1);
    const [members] = await hub.db.query('SELECT count(*)::int AS n FROM member WHERE email = $1', [email]);
    expect(members.n).toBe(1);
    const [links] = await hub.db.query('SELECT count(*)::int AS n FROM member_partner_link WHERE member_id = $1', [payloads[0]!.member!.id]);
    expect(links.n).toBe(1);
  });
});
