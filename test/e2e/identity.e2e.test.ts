import { Role } from '../../src/api/auth';
import { GraphQLResponse, TestHub, startTestHub } from '../support/hub';
import { TestPartner, createPartner, ledgerCheck, ledgerRowCounts, purchase, unique } from '../support/scenario';

/**
 * Identity and privacy (issue 9, items 4, 8–12; docs/rules.md, Members and identity, Referrals,
 * Affiliates): enrollment never changes an existing member's identifiers, a partner sees only the
 * identifiers it supplied, look-alike e-mails are one member, invisible characters are refused,
 * codes match ignoring case, spaces and dashes, and nobody refers or is attributed to itself.
 */
let hub: TestHub;
let grocerA: TestPartner;
let fuelB: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  grocerA = await createPartner(hub);
  fuelB = await createPartner(hub);
});
afterAll(() => hub.close());
afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const VIEW = 'id memberCode email phone birthDate externalRef';
const ENROLL = `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { ${VIEW} referralCode } created userErrors { code message field } } }`;
const MEMBER = `query($id: ID!) { member(id: $id) { ${VIEW} } }`;
const BY_IDENTIFIER = `query($email: String, $phone: String, $memberCode: String) { memberByIdentifier(email: $email, phone: $phone, memberCode: $memberCode) { ${VIEW} } }`;
const MY_MEMBERS = `{ myPartner { members(first: 100) { edges { node { ${VIEW} } } } } }`;
const CREATE_PARTNER = 'mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id code } userErrors { code message field } } }';
const CREATE_AFFILIATE = 'mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id code email phone } userErrors { code message field } } }';
const RECORD = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { transaction { id } member { ${VIEW} } userErrors { code message field } } }`;

interface View {
  id: string;
  memberCode: string;
  email: string | null;
  phone: string | null;
  birthDate: string | null;
  externalRef: string | null;
  referralCode?: string;
}
interface EnrollPayload {
  member: View | null;
  created: boolean;
  userErrors: { code: string; message: string; field: string[] | null }[];
}

async function enrollAt(partner: TestPartner, input: Record<string, unknown>): Promise<EnrollPayload> {
  const res = await hub.gql(ENROLL, { input }, partner.token);
  if (!res.data) throw new Error(`enrollMember failed: ${JSON.stringify(res)}`);
  return res.data.enrollMember;
}

async function created(partner: TestPartner, input: Record<string, unknown>): Promise<View & { referralCode: string }> {
  const payload = await enrollAt(partner, input);
  expect(payload.userErrors).toEqual([]);
  expect(payload.created).toBe(true);
  return payload.member as View & { referralCode: string };
}

let phoneCounter = 0;
const freshPhone = () => `+447700${900000 + ++phoneCounter}`;
const freshEmail = (domain = 'example.com') => `${unique('m')}@${domain}`;
const codes = (res: GraphQLResponse) => (res.errors ?? []).map((e) => e.extensions?.code);

async function memberRow(id: string) {
  const [row] = await hub.db.query('SELECT email, phone, birth_date::text AS birth_date, affiliate_id, referred_by_member_id FROM member WHERE id = $1', [id]);
  return row;
}

describe('account takeover through enrollment (item 9): enrolling an existing member never adds or changes identifiers', () => {
  it("partner B enrolling A's member's e-mail with B's phone gets the member (created: false, linked) but the phone is not attached: memberByIdentifier(B's phone) at B is null, the member's phone unchanged", async () => {
    const email = freshEmail();
    const phoneA = freshPhone();
    const phoneB = freshPhone();
    const member = await created(grocerA, { email, phone: phoneA });

    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(fuelB, { email, phone: phoneB });
    expect(payload).toEqual({ member: { id: member.id, memberCode: member.memberCode, referralCode: member.referralCode, email, phone: null, birthDate: null, externalRef: null }, created: false, userErrors: [] });
    expect(await ledgerRowCounts(hub)).toEqual({ ...before, member_partner_link: before.member_partner_link! + 1 });

    expect((await hub.gql(BY_IDENTIFIER, { phone: phoneB }, fuelB.token)).data.memberByIdentifier).toBeNull();
    expect((await hub.gql(BY_IDENTIFIER, { phone: phoneB }, hub.admin)).data.memberByIdentifier).toBeNull();
    expect((await memberRow(member.id)).phone).toBe(phoneA);
    expect(await hub.db.query(`SELECT member_id FROM member_identifier WHERE kind = 'PHONE' AND value = $1`, [phoneB])).toEqual([]);
  });

  it('a member without a phone does not gain one (nor a birth date) when a partner enrolls its e-mail with a phone and birth date', async () => {
    const email = freshEmail();
    const member = await created(grocerA, { email });
    const phone = freshPhone();
    const payload = await enrollAt(fuelB, { email, phone, birthDate: '1980-01-02' });
    expect(payload).toMatchObject({ member: { id: member.id, email, phone: null, birthDate: null }, created: false, userErrors: [] });
    expect(await memberRow(member.id)).toMatchObject({ email, phone: null, birth_date: null });
    // The phone stays free: enrolling it alone makes a new member.
    const other = await created(fuelB, { phone });
    expect(other.id).not.toBe(member.id);
  });

  it('a known phone with an unknown e-mail returns the member without attaching the e-mail', async () => {
    const email = freshEmail();
    const phone = freshPhone();
    const member = await created(grocerA, { email, phone });
    const otherEmail = freshEmail();
    const payload = await enrollAt(fuelB, { email: otherEmail, phone });
    expect(payload).toMatchObject({ member: { id: member.id, email: null, phone }, created: false, userErrors: [] });
    expect((await memberRow(member.id)).email).toBe(email);
    expect((await hub.gql(BY_IDENTIFIER, { email: otherEmail }, hub.admin)).data.memberByIdentifier).toBeNull();
  });

  it("identifiers of two different members (e-mail of one, phone of another) stay INVALID_INPUT, writing nothing", async () => {
    const a = await created(grocerA, { email: freshEmail() });
    const b = await created(grocerA, { phone: freshPhone() });
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(fuelB, { email: a.email, phone: b.phone });
    expect(payload).toEqual({ member: null, created: false, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input'] }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });
});

describe('data minimization (item 10): a partner sees only the identifiers it supplied', () => {
  it('A enrolls email+phone+birthDate, B enrolls by e-mail alone → B sees the e-mail only (phone, birthDate null) on every path; A, the operator and the member see all', async () => {
    const email = freshEmail();
    const phone = freshPhone();
    const ref = unique('b-cust-');
    const atA = await created(grocerA, { email, phone, birthDate: '1975-03-04', externalRef: 'a-cust' });
    const full = { id: atA.id, memberCode: atA.memberCode, email, phone, birthDate: '1975-03-04' };
    expect(atA).toMatchObject({ ...full, externalRef: 'a-cust' });

    const seenByB = { ...full, phone: null, birthDate: null, externalRef: ref };
    const enrolled = await enrollAt(fuelB, { email, externalRef: ref });
    expect(enrolled.member).toEqual({ ...seenByB, referralCode: atA.referralCode });
    expect((await hub.gql(MEMBER, { id: atA.id }, fuelB.token)).data.member).toEqual(seenByB);
    expect((await hub.gql(BY_IDENTIFIER, { email }, fuelB.token)).data.memberByIdentifier).toEqual(seenByB);
    expect((await hub.gql(BY_IDENTIFIER, { memberCode: atA.memberCode }, fuelB.token)).data.memberByIdentifier).toEqual(seenByB);
    const listed = (await hub.gql(MY_MEMBERS, {}, fuelB.token)).data.myPartner.members.edges.map((e: { node: View }) => e.node);
    expect(listed.find((m: View) => m.id === atA.id)).toEqual(seenByB);
    const bought = (await hub.gql(RECORD, { input: { idempotencyKey: unique('k'), memberId: atA.id, amount: '5.00' } }, fuelB.token)).data.recordPurchase;
    expect(bought.userErrors).toEqual([]);
    expect(bought.member).toEqual(seenByB);

    expect((await hub.gql(MEMBER, { id: atA.id }, grocerA.token)).data.member).toEqual({ ...full, externalRef: 'a-cust' });
    expect((await hub.gql(MEMBER, { id: atA.id }, hub.admin)).data.member).toEqual({ ...full, externalRef: null });
    const self = hub.token({ role: Role.MEMBER, memberId: atA.id });
    expect((await hub.gql(`{ me { ${VIEW} } }`, {}, self)).data.me).toEqual({ ...full, externalRef: null });
  });

  it('B supplying the phone the member already holds (written another way) then sees the phone too; a different birth date stays hidden', async () => {
    const email = freshEmail();
    const phone = freshPhone();
    const member = await created(grocerA, { email, phone, birthDate: '1990-05-06' });
    await enrollAt(fuelB, { email });
    const payload = await enrollAt(fuelB, { phone: `00${phone.slice(1, 3)} ${phone.slice(3)}`, birthDate: '1990-05-07' });
    expect(payload).toMatchObject({ member: { id: member.id, email, phone, birthDate: null }, created: false, userErrors: [] });
    expect((await hub.gql(MEMBER, { id: member.id }, fuelB.token)).data.member).toMatchObject({ email, phone, birthDate: null });
  });
});

describe('look-alike identities (item 11)', () => {
  it('jän@… in NFC and NFD forms is one member (created: false the second time)', async () => {
    const local = unique('j\u00e4n');
    const member = await created(grocerA, { email: `${local}@example.com` });
    const payload = await enrollAt(grocerA, { email: `${local.normalize('NFD')}@example.com` });
    expect(payload).toMatchObject({ member: { id: member.id }, created: false, userErrors: [] });
    expect(member.email).toBe(`${local}@example.com`.normalize('NFC'));
  });

  it('a Unicode domain and its punycode form are one member, stored in punycode (bücher.de → xn--bcher-kva.de)', async () => {
    const local = unique('anna');
    const member = await created(grocerA, { email: `${local}@B\u00fccher.DE` });
    expect(member.email).toBe(`${local}@xn--bcher-kva.de`);
    const payload = await enrollAt(grocerA, { email: `${local.toUpperCase()}@xn--bcher-kva.de` });
    expect(payload).toMatchObject({ member: { id: member.id }, created: false, userErrors: [] });
    expect((await hub.gql(BY_IDENTIFIER, { email: `${local}@bücher.de` }, grocerA.token)).data.memberByIdentifier.id).toBe(member.id);
  });

  it.each([
    ['zero-width space U+200B', '\u200b'], ['right-to-left override U+202E', '\u202e'], ['zero-width joiner U+200D', '\u200d'],
    ['word joiner U+2060', '\u2060'], ['byte-order mark U+FEFF', '\ufeff'], ['left-to-right isolate U+2066', '\u2066'], ['left-to-right mark U+200E', '\u200e'],
  ])('an e-mail with a %s inside is INVALID_INPUT on input.email, writing nothing', async (_name, char) => {
    const local = unique('eve');
    await created(grocerA, { email: `${local}@example.com` });
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(fuelB, { email: `${local.slice(0, 2)}${char}${local.slice(2)}@example.com` });
    expect(payload).toEqual({ member: null, created: false, userErrors: [{ code: 'INVALID_INPUT', message: expect.stringContaining('invisible'), field: ['input', 'email'] }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it.each<[string, (p: string) => Record<string, unknown>, string]>([
    ['phone', (p) => ({ phone: `${p.slice(0, 6)}\u200b${p.slice(6)}` }), 'phone'],
    ['externalRef', () => ({ externalRef: 'cust\u202e42' }), 'externalRef'],
    ['referralCode', () => ({ email: freshEmail(), referralCode: 'ABCD\u200bEFGH' }), 'referralCode'],
    ['affiliateCode', () => ({ email: freshEmail(), affiliateCode: 'AF\u2066123' }), 'affiliateCode'],
  ])('an invisible character in %s is INVALID_INPUT on its field, writing nothing', async (_name, input, field) => {
    const before = await ledgerRowCounts(hub);
    const payload = await enrollAt(grocerA, input(freshPhone()));
    expect(payload).toEqual({ member: null, created: false, userErrors: [{ code: 'INVALID_INPUT', message: expect.stringContaining('invisible'), field: ['input', field] }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it('memberByIdentifier with an invisible character is a BAD_USER_INPUT error, not a look-alike match', async () => {
    const email = freshEmail();
    await created(grocerA, { email });
    expect(codes(await hub.gql(BY_IDENTIFIER, { email: `\u200b${email}` }, grocerA.token))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('codes ignore case, spaces and dashes (item 12)', () => {
  it('partner code GROCER is accepted as typed; grocer, gro-cer and " Gro Cer " are then the same code (INVALID_INPUT on input.code)', async () => {
    const suffix = String(process.pid);
    const input = (code: string) => ({ input: { code, name: 'Grocer', redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' } } });
    const first = await hub.gql(CREATE_PARTNER, input(`GROCER${suffix}`), hub.admin);
    expect(first.data.createPartner).toEqual({ partner: { id: expect.any(String), code: `GROCER${suffix}` }, userErrors: [] });
    for (const code of [`grocer${suffix}`, `gro-cer${suffix}`, ` Gro Cer ${suffix}`]) {
      const res = await hub.gql(CREATE_PARTNER, input(code), hub.admin);
      expect(res.data.createPartner).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'code'] }] });
    }
    expect((await hub.db.query('SELECT code_key FROM partner WHERE id = $1', [first.data.createPartner.partner.id]))[0].code_key).toBe(`GROCER${suffix}`);
  });

  it.each([['Bad Code!'], ['a'], ['-leading-dash'], ['x'.repeat(41)], ['grocer\u200b']])('partner code %j is INVALID_INPUT on input.code, writing no partner', async (code) => {
    const before = await ledgerRowCounts(hub);
    const res = await hub.gql(CREATE_PARTNER, { input: { code, name: 'Bad', redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' } } }, hub.admin);
    if (code.length > 40) expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    else expect(res.data.createPartner).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'code'] }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it('a referral code typed in lower case with a dash (abcd-efgh for ABCDEFGH) finds the referrer', async () => {
    const referrer = await created(grocerA, { email: freshEmail() });
    const typed = `${referrer.referralCode.slice(0, 4)}-${referrer.referralCode.slice(4)}`.toLowerCase();
    const friend = await created(fuelB, { email: freshEmail(), referralCode: ` ${typed} ` });
    expect((await memberRow(friend.id)).referred_by_member_id).toBe(referrer.id);
  });

  it('affiliate codes typed in lower case with dashes attribute at enrollment and on a purchase', async () => {
    const affiliate = (await hub.gql(CREATE_AFFILIATE, { input: { name: 'Blog', email: freshEmail() } }, hub.admin)).data.createAffiliate.affiliate;
    const typed = `${affiliate.code.slice(0, 2)}-${affiliate.code.slice(2, 6)} ${affiliate.code.slice(6)}`.toLowerCase();
    const member = await created(grocerA, { email: freshEmail(), affiliateCode: typed });
    expect((await memberRow(member.id)).affiliate_id).toBe(affiliate.id);
    const res = await purchase(hub, grocerA, { id: member.id, memberCode: member.memberCode, token: '' }, '10.00', { affiliateCode: typed });
    expect(res.userErrors).toEqual([]);
  });
});

describe('nobody refers or is attributed to itself (items 4 and 8)', () => {
  it('referrer jane.doe@gmail.com, new member janedoe+x@googlemail.com with her code → refused with the neutral "referralCode is not valid", exactly as an unknown code, writing nothing', async () => {
    const tag = unique('jane.doe').replace(/x/g, '.');
    const referrer = await created(grocerA, { email: `${tag}@gmail.com` });
    const before = await ledgerRowCounts(hub);
    const self = await enrollAt(fuelB, { email: `${tag.replace(/\./g, '')}+x@googlemail.com`, referralCode: referrer.referralCode });
    const unknown = await enrollAt(fuelB, { email: freshEmail(), referralCode: 'ZZZZZZZZ' });
    const expected = { member: null, created: false, userErrors: [{ code: 'INVALID_INPUT', message: 'referralCode is not valid', field: ['input', 'referralCode'] }] };
    expect(self).toEqual(expected);
    expect(unknown).toEqual(expected);
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it("an existing member enrolled again with its own referral code is returned as it is (the code is ignored, nothing said about whose it is)", async () => {
    const member = await created(grocerA, { email: freshEmail() });
    const payload = await enrollAt(fuelB, { email: member.email, referralCode: member.referralCode });
    expect(payload).toMatchObject({ member: { id: member.id }, created: false, userErrors: [] });
    expect((await memberRow(member.id)).referred_by_member_id).toBeNull();
  });

  async function commissionPartner(): Promise<TestPartner> {
    const code = unique('c');
    const res = await hub.gql(CREATE_PARTNER, { input: { code, name: `Partner ${code}`, redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' },
      commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.10', holdDays: 0 } } }, hub.admin);
    const id = res.data.createPartner.partner.id;
    return { id, code, token: hub.token({ role: Role.PARTNER, partnerId: id }) };
  }
  const commissionsOf = async (affiliateId: string) => (await hub.db.query('SELECT count(*)::int AS n FROM commission WHERE affiliate_id = $1', [affiliateId]))[0].n;

  it("affiliate pat.smith@gmail.com enrolling patsmith+promo@googlemail.com with its own code: the member is enrolled without attribution, and its purchase pays no commission (0 rows)", async () => {
    const shop = await commissionPartner();
    const tag = unique('pat.smith').replace(/x/g, '.');
    const affiliate = (await hub.gql(CREATE_AFFILIATE, { input: { name: 'Pat', email: `${tag}@gmail.com` } }, hub.admin)).data.createAffiliate.affiliate;
    const member = await created(shop, { email: `${tag.replace(/\./g, '')}+promo@googlemail.com`, affiliateCode: affiliate.code });
    expect((await memberRow(member.id)).affiliate_id).toBeNull();
    const res = await purchase(hub, shop, { id: member.id, memberCode: member.memberCode, token: '' }, '50.00');
    expect(res.userErrors).toEqual([]);
    expect(await commissionsOf(affiliate.id)).toBe(0);
  });

  it("a purchase carrying the affiliate code of an affiliate with the member's own phone posts without attribution (0 commission rows); another member's purchase with that code earns 1", async () => {
    const shop = await commissionPartner();
    const phone = freshPhone();
    const created_ = await hub.gql(CREATE_AFFILIATE, { input: { name: 'Sam', email: freshEmail(), phone: `00${phone.slice(1)}` } }, hub.admin);
    const affiliate = created_.data.createAffiliate.affiliate;
    expect(affiliate.phone).toBe(phone);
    const self = await created(shop, { email: freshEmail(), phone });
    const selfBuy = await purchase(hub, shop, { id: self.id, memberCode: self.memberCode, token: '' }, '40.00', { affiliateCode: affiliate.code });
    expect(selfBuy.userErrors).toEqual([]);
    expect(await commissionsOf(affiliate.id)).toBe(0);
    const stranger = await created(shop, { email: freshEmail() });
    const strangerBuy = await purchase(hub, shop, { id: stranger.id, memberCode: stranger.memberCode, token: '' }, '40.00', { affiliateCode: affiliate.code });
    expect(strangerBuy.userErrors).toEqual([]);
    expect(await commissionsOf(affiliate.id)).toBe(1);
  });
});
