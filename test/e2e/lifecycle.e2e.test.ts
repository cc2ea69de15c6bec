import { Role } from '../../src/api/auth';
import { GraphQLResponse, TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, createPartner, enroll, ledgerCheck, purchase, redeem, reverse, unique } from '../support/scenario';

const PREFERENCES = 'preferences { channel level updatedAt }';
const UPDATE = `mutation($input: UpdatePreferencesInput!) { updatePreferences(input: $input) { member { id ${PREFERENCES} } userErrors { code message field } } }`;
const ME = `{ me { id balance ${PREFERENCES} } }`;
const MEMBER = `query($id: ID!) { member(id: $id) { id email phone birthDate memberCode referralCode balance ${PREFERENCES} } }`;
const MEMBER_FIELDS = 'id memberCode referralCode email phone birthDate balance debt createdAt';
const TRANSACTION_FIELDS = 'id type points memberId partnerId amount { amount currency } reversesId bonusAction description breakdown { rule points detail } occurredAt postedAt';
const EXPORT = `query($memberId: ID) { exportMemberData(memberId: $memberId) {
  exportedAt member { ${MEMBER_FIELDS} } identifiers { kind value } partners { partnerId partnerName linkedAt externalRef }
  ${PREFERENCES} transactions { ${TRANSACTION_FIELDS} } transactionsTruncated donations { id points value { amount currency } cause { id name } matchedPoints receiptNumber automatic createdAt } json } }`;
const ERASE = `mutation($input: EraseMemberInput!) { eraseMember(input: $input) { member { id email phone birthDate memberCode referralCode balance ${PREFERENCES} } userErrors { code message field } } }`;
const ENROLL = `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id } created userErrors { code message } } }`;
const BY_IDENTIFIER = `query($email: String, $phone: String, $memberCode: String) { memberByIdentifier(email: $email, phone: $phone, memberCode: $memberCode) { id } }`;

const DEFAULTS = [
  { channel: 'EMAIL', level: 'TRANSACTIONAL', updatedAt: null },
  { channel: 'SMS', level: 'TRANSACTIONAL', updatedAt: null },
  { channel: 'PUSH', level: 'TRANSACTIONAL', updatedAt: null },
];
const ISO = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);

let hub: TestHub;
let grocer: TestPartner;
let fuel: TestPartner;
let stranger: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  grocer = await createPartner(hub);
  fuel = await createPartner(hub);
  stranger = await createPartner(hub);
});
afterAll(() => hub.close());

function codes(res: GraphQLResponse): (string | undefined)[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

let phoneCounter = 0;
/** A UK mobile number no other test in this file uses, in E.164. */
function freshPhone(): string {
  phoneCounter += 1;
  return `+447700${String(800000 + phoneCounter)}`;
}

async function setPreferences(token: string, preferences: { channel: string; level: string }[], memberId?: string) {
  const res = await hub.gql(UPDATE, { input: { preferences, ...(memberId ? { memberId } : {}) } }, token);
  if (!res.data) throw new Error(`updatePreferences failed: ${JSON.stringify(res)}`);
  return res.data.updatePreferences;
}

async function preferenceRows(memberId: string): Promise<{ channel: string; level: string }[]> {
  return hub.db.query('SELECT channel, level FROM member_preference WHERE member_id = $1 ORDER BY channel', [memberId]);
}

async function exportOf(token: string, memberId?: string): Promise<GraphQLResponse> {
  return hub.gql(EXPORT, memberId ? { memberId } : {}, token);
}

/** The member's own ledger rows, table by table: erasure must leave every one as it was. */
async function ledgerRowsOf(memberId: string): Promise<Record<string, unknown[]>> {
  const result: Record<string, unknown[]> = {};
  for (const table of ['ledger_transaction', 'ledger_entry', 'lot', 'lot_movement', 'member_debt', 'obligation']) {
    result[table] = await hub.db.query(`SELECT * FROM ${table} WHERE member_id = $1 ORDER BY 1, 2, 3`, [memberId]);
  }
  return result;
}

describe('communication preferences', () => {
  it('a new member reads TRANSACTIONAL on every channel (no marketing without consent), with no time set', async () => {
    const member = await enroll(hub, grocer);
    const res = await hub.gql(ME, {}, member.token);
    expect(res.data.me.preferences).toEqual(DEFAULTS);
    expect(await preferenceRows(member.id)).toEqual([]);
  });

  it('a member sets the channels it names; the others keep their level', async () => {
    const member = await enroll(hub, grocer);
    const first = await setPreferences(member.token, [{ channel: 'EMAIL', level: 'ALL' }, { channel: 'SMS', level: 'NONE' }]);
    expect(first.userErrors).toEqual([]);
    expect(first.member.id).toBe(member.id);
    expect(first.member.preferences).toEqual([
      { channel: 'EMAIL', level: 'ALL', updatedAt: ISO },
      { channel: 'SMS', level: 'NONE', updatedAt: ISO },
      { channel: 'PUSH', level: 'TRANSACTIONAL', updatedAt: null },
    ]);
    const second = await setPreferences(member.token, [{ channel: 'SMS', level: 'WEEKLY' }, { channel: 'PUSH', level: 'MONTHLY' }]);
    expect(second.member.preferences.map((p: { level: string }) => p.level)).toEqual(['ALL', 'WEEKLY', 'MONTHLY']);
    expect((await hub.gql(ME, {}, member.token)).data.me.preferences).toEqual(second.member.preferences);
    expect(await preferenceRows(member.id)).toEqual([
      { channel: 'EMAIL', level: 'ALL' }, { channel: 'PUSH', level: 'MONTHLY' }, { channel: 'SMS', level: 'WEEKLY' },
    ]);
  });

  it('a member may name its own id', async () => {
    const member = await enroll(hub, grocer);
    const payload = await setPreferences(member.token, [{ channel: 'PUSH', level: 'NONE' }], member.id);
    expect(payload.userErrors).toEqual([]);
    expect(payload.member.preferences[2]).toEqual({ channel: 'PUSH', level: 'NONE', updatedAt: ISO });
  });

  it('linked partners read them through member(id); an unlinked partner finds no member at all', async () => {
    const member = await enroll(hub, grocer);
    const email = (await hub.db.query(`SELECT email FROM member WHERE id = $1`, [member.id]))[0].email;
    expect((await hub.gql(ENROLL, { input: { email } }, fuel.token)).data.enrollMember.created).toBe(false);
    await setPreferences(member.token, [{ channel: 'EMAIL', level: 'WEEKLY' }]);
    for (const partner of [grocer, fuel]) {
      const res = await hub.gql(MEMBER, { id: member.id }, partner.token);
      expect(res.data.member.preferences).toEqual([
        { channel: 'EMAIL', level: 'WEEKLY', updatedAt: ISO }, DEFAULTS[1], DEFAULTS[2],
      ]);
    }
    expect((await hub.gql(MEMBER, { id: member.id }, stranger.token)).data).toEqual({ member: null });
  });

  it("a partner's member list reads every member's preferences in one query", async () => {
    const partner = await createPartner(hub);
    const levels = ['NONE', 'MONTHLY', 'WEEKLY', 'ALL', 'TRANSACTIONAL'];
    const members: TestMember[] = [];
    for (const level of levels) {
      const member = await enroll(hub, partner);
      await setPreferences(member.token, [{ channel: 'SMS', level }]);
      members.push(member);
    }
    const spy = jest.spyOn(hub.db, 'query');
    try {
      const res = await hub.gql(`query($id: ID!) { partner(id: $id) { members(first: 10) { edges { node { id preferences { channel level } } } } } }`,
        { id: partner.id }, partner.token);
      const nodes: { id: string; preferences: { channel: string; level: string }[] }[] = res.data.partner.members.edges.map((e: { node: unknown }) => e.node);
      // Newest link first.
      expect(nodes.map((n) => n.id)).toEqual(members.map((m) => m.id).reverse());
      expect(nodes.map((n) => n.preferences[1])).toEqual([...levels].reverse().map((level) => ({ channel: 'SMS', level })));
      const preferenceQueries = spy.mock.calls.filter(([sql]) => String(sql).includes('member_preference'));
      expect(preferenceQueries).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });

  it("the operator sets a member's preferences on its request, naming the member", async () => {
    const member = await enroll(hub, grocer);
    const payload = await setPreferences(hub.admin, [{ channel: 'EMAIL', level: 'NONE' }], member.id);
    expect(payload.userErrors).toEqual([]);
    expect(payload.member.preferences[0]).toEqual({ channel: 'EMAIL', level: 'NONE', updatedAt: ISO });
    expect((await hub.gql(ME, {}, member.token)).data.me.preferences[0].level).toBe('NONE');
  });

  it.each<[string, () => string | undefined, string, string[]]>([
    ['naming no member', () => undefined, 'INVALID_INPUT', ['input', 'memberId']],
    ['naming an unknown member', () => '0193a5b2-7c4e-7d21-8f3a-1b2c3d4e5f60', 'NOT_FOUND', ['input', 'memberId']],
    ['naming something that is no member id', () => 'ann@example.com', 'NOT_FOUND', ['input', 'memberId']],
  ])('the operator %s gets %s, and nothing is written', async (_name, memberId, code, field) => {
    const before = await hub.db.query('SELECT count(*)::int AS n FROM member_preference');
    const payload = await setPreferences(hub.admin, [{ channel: 'EMAIL', level: 'ALL' }], memberId());
    expect(payload).toEqual({ member: null, userErrors: [{ code, message: expect.any(String), field }] });
    expect(await hub.db.query('SELECT count(*)::int AS n FROM member_preference')).toEqual(before);
  });

  it.each<[string, { channel: string; level: string }[], string[][]]>([
    ['the same channel twice', [{ channel: 'EMAIL', level: 'ALL' }, { channel: 'EMAIL', level: 'NONE' }], [['input', 'preferences', '1', 'channel']]],
    ['a channel repeated after another', [{ channel: 'SMS', level: 'ALL' }, { channel: 'PUSH', level: 'ALL' }, { channel: 'SMS', level: 'ALL' }],
      [['input', 'preferences', '2', 'channel']]],
    ['an empty list', [], [['input', 'preferences']]],
  ])('%s is INVALID_INPUT, and nothing is written', async (_name, preferences, fields) => {
    const member = await enroll(hub, grocer);
    await setPreferences(member.token, [{ channel: 'PUSH', level: 'WEEKLY' }]);
    const rowsBefore = await preferenceRows(member.id);
    const payload = await setPreferences(member.token, preferences);
    expect(payload.member).toBeNull();
    expect(payload.userErrors).toEqual(fields.map((field) => ({ code: 'INVALID_INPUT', message: expect.any(String), field })));
    expect(await preferenceRows(member.id)).toEqual(rowsBefore);
  });

  it('more entries than any list of channels needs is refused as bad input', async () => {
    const member = await enroll(hub, grocer);
    const preferences = Array.from({ length: 11 }, () => ({ channel: 'EMAIL', level: 'ALL' }));
    const res = await hub.gql(UPDATE, { input: { preferences } }, member.token);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(await preferenceRows(member.id)).toEqual([]);
  });

  it("a member naming another member's id finds no member, and nothing is written", async () => {
    const member = await enroll(hub, grocer);
    const other = await enroll(hub, grocer);
    const payload = await setPreferences(member.token, [{ channel: 'EMAIL', level: 'ALL' }], other.id);
    expect(payload).toEqual({ member: null, userErrors: [{ code: 'NOT_FOUND', message: expect.any(String), field: ['input', 'memberId'] }] });
    expect(await preferenceRows(other.id)).toEqual([]);
    expect(await preferenceRows(member.id)).toEqual([]);
  });

  it.each<[string, () => string]>([
    ['a PARTNER', () => grocer.token],
    ['an AFFILIATE', () => hub.token({ role: Role.AFFILIATE, affiliateId: '0193a5b2-7c4e-7d21-8f3a-1b2c3d4e5f60' })],
  ])('%s calling updatePreferences is FORBIDDEN', async (_name, token) => {
    const member = await enroll(hub, grocer);
    const res = await hub.gql(UPDATE, { input: { memberId: member.id, preferences: [{ channel: 'EMAIL', level: 'ALL' }] } }, token());
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expect(res.data).toBeNull();
    expect(await preferenceRows(member.id)).toEqual([]);
  });
});

describe('data export', () => {
  /** A member with every kind of data: identifiers, two partner links, preferences, a purchase and a redemption. */
  async function richMember() {
    const email = `${unique('export')}@example.com`;
    const phone = freshPhone();
    const externalRef = unique('loyalty-card-');
    const member = await enroll(hub, grocer, { email, phone, birthDate: '1988-03-04', externalRef });
    expect((await hub.gql(ENROLL, { input: { email } }, fuel.token)).data.enrollMember.created).toBe(false);
    await setPreferences(member.token, [{ channel: 'EMAIL', level: 'MONTHLY' }]);
    const bought = await purchase(hub, grocer, member, '25.00');
    expect(bought.transaction.points).toBe(25);
    const spent = await redeem(hub, fuel, member, 10);
    expect(spent.userErrors).toEqual([]);
    return { member, email, phone, externalRef, bought, spent };
  }

  it('holds the member, its identifiers, partner links, preferences and every transaction (oldest first)', async () => {
    const { member, email, phone, externalRef, bought, spent } = await richMember();
    const res = await exportOf(member.token);
    expect(res.errors).toBeUndefined();
    const data = res.data.exportMemberData;
    expect(data.exportedAt).toEqual(ISO);
    expect(data.member).toEqual(expect.objectContaining({ id: member.id, memberCode: member.memberCode, email, phone, birthDate: '1988-03-04', balance: 15, debt: 0 }));
    const referralCode = data.member.referralCode;
    expect(data.identifiers).toEqual(expect.arrayContaining([
      { kind: 'EMAIL', value: email },
      { kind: 'PHONE', value: phone },
      { kind: 'MEMBER_CODE', value: member.memberCode },
      { kind: 'REFERRAL_CODE', value: referralCode },
      { kind: 'EXTERNAL_REF', value: `${grocer.id}:${externalRef}` },
    ]));
    expect(data.identifiers).toHaveLength(5);
    expect(data.partners).toEqual([
      { partnerId: grocer.id, partnerName: `Partner ${grocer.code}`, linkedAt: ISO, externalRef },
      { partnerId: fuel.id, partnerName: `Partner ${fuel.code}`, linkedAt: ISO, externalRef: null },
    ]);
    expect(data.preferences).toEqual([{ channel: 'EMAIL', level: 'MONTHLY', updatedAt: ISO }, DEFAULTS[1], DEFAULTS[2]]);
    expect(data.transactions.map((t: { id: string; type: string; points: number; partnerId: string }) => [t.id, t.type, t.points, t.partnerId])).toEqual([
      [bought.transaction.id, 'PURCHASE', 25, grocer.id],
      [spent.transaction.id, 'REDEMPTION', -10, fuel.id],
    ]);
    expect(data.transactions[0].amount).toEqual({ amount: '25.00', currency: 'EUR' });
    expect(data.transactionsTruncated).toBe(false);
  });

  it('json is the same export as one JSON document', async () => {
    const { member } = await richMember();
    const { json, ...shown } = (await exportOf(member.token)).data.exportMemberData;
    const document = JSON.parse(json);
    expect(Object.keys(document).sort()).toEqual(Object.keys(shown).sort());
    expect(document).toMatchObject(shown);
  });

  it('the operator exports any member by id', async () => {
    const { member } = await richMember();
    const res = await exportOf(hub.admin, member.id);
    expect(res.data.exportMemberData.member.id).toBe(member.id);
    expect(res.data.exportMemberData.transactions).toHaveLength(2);
  });

  it('a member may name its own id', async () => {
    const member = await enroll(hub, grocer);
    expect((await exportOf(member.token, member.id)).data.exportMemberData.member.id).toBe(member.id);
  });

  it('a member cannot export another member: there is none to find', async () => {
    const member = await enroll(hub, grocer);
    const other = await enroll(hub, grocer);
    const res = await exportOf(member.token, other.id);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ exportMemberData: null });
  });

  it('the operator naming an unknown member gets null; naming none is bad input', async () => {
    expect((await exportOf(hub.admin, '0193a5b2-7c4e-7d21-8f3a-1b2c3d4e5f60')).data).toEqual({ exportMemberData: null });
    expect(codes(await exportOf(hub.admin))).toEqual(['BAD_USER_INPUT']);
  });

  it('a partner may not export even a linked member (FORBIDDEN)', async () => {
    const member = await enroll(hub, grocer);
    const res = await exportOf(grocer.token, member.id);
    expect(codes(res)).toEqual(['FORBIDDEN']);
  });
});

describe('erasure', () => {
  async function memberToErase() {
    const email = `${unique('erase')}@example.com`;
    const phone = freshPhone();
    const externalRef = unique('card-');
    const member = await enroll(hub, grocer, { email, phone, birthDate: '1975-11-30', externalRef });
    expect((await hub.gql(ENROLL, { input: { phone, externalRef: unique('fuel-card-') } }, fuel.token)).data.enrollMember.created).toBe(false);
    await setPreferences(member.token, [{ channel: 'EMAIL', level: 'ALL' }, { channel: 'SMS', level: 'WEEKLY' }]);
    const bought = await purchase(hub, grocer, member, '40.00');
    expect((await redeem(hub, fuel, member, 5)).userErrors).toEqual([]);
    return { member, email, phone, externalRef, bought };
  }

  async function erase(token: string, memberId: string) {
    const res = await hub.gql(ERASE, { input: { memberId } }, token);
    if (!res.data) throw new Error(`eraseMember failed: ${JSON.stringify(res)}`);
    return res.data.eraseMember;
  }

  it('anonymizes the member and keeps its ledger: balance, transactions, entries and lots untouched', async () => {
    const { member } = await memberToErase();
    const ledgerBefore = await ledgerRowsOf(member.id);
    const payload = await erase(hub.admin, member.id);
    expect(payload.userErrors).toEqual([]);
    const code = `ERASED${member.id.replace(/-/g, '').slice(-14).toUpperCase()}`;
    expect(payload.member).toEqual({
      id: member.id, email: null, phone: null, birthDate: null, memberCode: code, referralCode: code, balance: 35,
      preferences: [{ channel: 'EMAIL', level: 'NONE', updatedAt: null }, { channel: 'SMS', level: 'NONE', updatedAt: null }, { channel: 'PUSH', level: 'NONE', updatedAt: null }],
    });
    expect(await hub.db.query('SELECT kind FROM member_identifier WHERE member_id = $1', [member.id])).toEqual([]);
    expect(await hub.db.query('SELECT partner_id, external_ref FROM member_partner_link WHERE member_id = $1 AND external_ref IS NOT NULL', [member.id])).toEqual([]);
    expect(await hub.db.query('SELECT count(*)::int AS n FROM member_partner_link WHERE member_id = $1', [member.id])).toEqual([{ n: 2 }]);
    expect(await preferenceRows(member.id)).toEqual([]);
    expect((await hub.db.query('SELECT erased_at FROM member WHERE id = $1', [member.id]))[0].erased_at).toBeInstanceOf(Date);
    expect(await ledgerRowsOf(member.id)).toEqual(ledgerBefore);
    expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  });

  it('no one finds the member by its old email, phone or member code any more', async () => {
    const { member, email, phone } = await memberToErase();
    await erase(hub.admin, member.id);
    for (const token of [grocer.token, fuel.token, hub.admin]) {
      for (const args of [{ email }, { phone }, { memberCode: member.memberCode }]) {
        const res = await hub.gql(BY_IDENTIFIER, args, token);
        expect(res.errors).toBeUndefined();
        expect(res.data).toEqual({ memberByIdentifier: null });
      }
    }
  });

  it('enrolling with the old email and reference creates a new member; the old one keeps its points and transactions', async () => {
    const { member, email, externalRef } = await memberToErase();
    await erase(hub.admin, member.id);
    const res = await hub.gql(ENROLL, { input: { email, externalRef } }, grocer.token);
    expect(res.data.enrollMember.userErrors).toEqual([]);
    expect(res.data.enrollMember.created).toBe(true);
    expect(res.data.enrollMember.member.id).not.toBe(member.id);
    const me = await hub.gql(`{ me { balance transactions(first: 10) { edges { node { type points } } } } }`, {}, member.token);
    expect(me.data.me.balance).toBe(35);
    expect(me.data.me.transactions.edges.map((e: { node: unknown }) => e.node)).toEqual([{ type: 'REDEMPTION', points: -5 }, { type: 'PURCHASE', points: 40 }]);
    expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  });

  it("the partner that posted a purchase can still refund it after the member's erasure", async () => {
    const { member, bought } = await memberToErase();
    await erase(hub.admin, member.id);
    const refund = await reverse(hub, grocer.token, bought.transaction.id, '10.00');
    expect(refund.userErrors).toEqual([]);
    expect(refund.transaction.points).toBe(-10);
    expect(refund.member.balance).toBe(25);
    expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  });

  it('erasing twice returns the member again, with no error, and keeps the time of the first erasure', async () => {
    const { member } = await memberToErase();
    const first = await erase(hub.admin, member.id);
    const [{ erased_at: erasedAt }] = await hub.db.query('SELECT erased_at FROM member WHERE id = $1', [member.id]);
    const second = await erase(hub.admin, member.id);
    expect(second).toEqual(first);
    expect(await hub.db.query('SELECT erased_at FROM member WHERE id = $1', [member.id])).toEqual([{ erased_at: erasedAt }]);
  });

  it('a member erases itself; its export then holds no identifiers but all its transactions', async () => {
    const { member } = await memberToErase();
    const payload = await erase(member.token, member.id);
    expect(payload.userErrors).toEqual([]);
    expect(payload.member.email).toBeNull();
    const exported = (await exportOf(member.token)).data.exportMemberData;
    expect(exported.identifiers).toEqual([]);
    expect(exported.partners.map((p: { externalRef: string | null }) => p.externalRef)).toEqual([null, null]);
    expect(exported.transactions.map((t: { points: number }) => t.points)).toEqual([40, -5]);
    expect(exported.member.balance).toBe(35);
  });

  it('an erased member cannot set preferences again (INVALID_INPUT), and nothing is written', async () => {
    const { member } = await memberToErase();
    await erase(hub.admin, member.id);
    const payload = await setPreferences(member.token, [{ channel: 'EMAIL', level: 'ALL' }]);
    expect(payload.member).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT' })]);
    expect(await preferenceRows(member.id)).toEqual([]);
  });

  it('a member erasing another member finds no member, and nothing changes', async () => {
    const { member, email } = await memberToErase();
    const other = await enroll(hub, grocer);
    const payload = await erase(other.token, member.id);
    expect(payload).toEqual({ member: null, userErrors: [{ code: 'NOT_FOUND', message: expect.any(String), field: ['input', 'memberId'] }] });
    expect((await hub.gql(BY_IDENTIFIER, { email }, grocer.token)).data.memberByIdentifier).toEqual({ id: member.id });
  });

  it('the operator erasing an unknown member gets NOT_FOUND', async () => {
    for (const memberId of ['0193a5b2-7c4e-7d21-8f3a-1b2c3d4e5f60', 'not-an-id']) {
      expect(await erase(hub.admin, memberId)).toEqual({ member: null, userErrors: [{ code: 'NOT_FOUND', message: expect.any(String), field: ['input', 'memberId'] }] });
    }
  });

  it('a partner may not erase a member (FORBIDDEN)', async () => {
    const { member, email } = await memberToErase();
    const res = await hub.gql(ERASE, { input: { memberId: member.id } }, grocer.token);
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expect((await hub.gql(BY_IDENTIFIER, { email }, grocer.token)).data.memberByIdentifier).toEqual({ id: member.id });
  });

  it('racing purchases and enrollments: every purchase lands, the ledger holds, and the erased member keeps no identifier', async () => {
    const { member, email } = await memberToErase();
    // Each enrollment names the old email and a new reference: before the erasure it adds the
    // reference to this member (which the erasure must then remove), after it finds or creates a new member.
    const enrollAgain = () => hub.gql(ENROLL, { input: { email, externalRef: unique('race-') } }, stranger.token).then((r) => r.data.enrollMember);
    const [early1, early2, erased, ...others] = await Promise.all([
      enrollAgain(), enrollAgain(),
      erase(hub.admin, member.id),
      ...Array.from({ length: 6 }, () => purchase(hub, grocer, member, '10.00')),
      enrollAgain(), enrollAgain(),
    ]);
    expect(erased.userErrors).toEqual([]);
    const purchases = others.slice(0, 6);
    const enrollments = [early1, early2, ...others.slice(6)];
    for (const p of purchases) expect(p.userErrors).toEqual([]);
    expect(await hub.db.query('SELECT kind, value FROM member_identifier WHERE member_id = $1', [member.id])).toEqual([]);
    expect(await hub.db.query('SELECT email, phone FROM member WHERE id = $1', [member.id])).toEqual([{ email: null, phone: null }]);
    expect(await hub.db.query('SELECT partner_id FROM member_partner_link WHERE member_id = $1 AND external_ref IS NOT NULL', [member.id])).toEqual([]);
    for (const e of enrollments) expect(e.userErrors).toEqual([]);
    // Enrollments after the erasure all found the one new member the first of them created.
    const newIds = new Set(enrollments.filter((e) => e.member && e.member.id !== member.id).map((e) => e.member.id));
    expect(newIds.size).toBeLessThanOrEqual(1);
    const balance = (await hub.gql(ME, {}, member.token)).data.me.balance;
    expect(balance).toBe(35 + 6 * 10);
    expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  });
});
