import { Client } from 'pg';
import { Role } from '../../src/api/auth';
import { TestHub, startTestHub } from '../support/hub';
import { TestPartner, bonus, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, redeem, reverse, unique } from '../support/scenario';

/** Edges found in review: limits of Int, crafted ids and cursors, token subjects, operator-owed debt, round trips per batch. */
let hub: TestHub;
let partner: TestPartner;
let other: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  partner = await createPartner(hub, { pointsPerUnit: '1' }, '0.01');
  other = await createPartner(hub, { pointsPerUnit: '1' }, '0.02');
});
afterAll(() => hub.close());

it('refuses a credit that would carry a balance past 2,147,483,647 with LIMIT_EXCEEDED and writes nothing', async () => {
  const member = await enroll(hub, partner);
  expect((await bonus(hub, hub.admin, member, 2_147_483_000)).userErrors).toEqual([]);
  const before = await ledgerRowCounts(hub);
  const over = await bonus(hub, hub.admin, member, 1000);
  expect(over.userErrors).toMatchObject([{ code: 'LIMIT_EXCEEDED' }]);
  expect(await ledgerRowCounts(hub)).toEqual(before);
  const me = await hub.gql('{ me { balance } }', {}, hub.token({ role: Role.MEMBER, memberId: member.id }));
  expect(me.data.me.balance).toBe(2_147_483_000);
});

it.each([
  ['an id of 36 dashes', '{ partner(id: "------------------------------------") { id } }', 'partner'],
])('answers %s without a server error', async (_name, query, field) => {
  const res = await hub.gql(query, {}, hub.admin);
  expect(res.errors).toBeUndefined();
  expect(res.data[field]).toBeNull();
});

it('refuses a cursor holding a date that does not exist (30 February) as BAD_USER_INPUT', async () => {
  const after = Buffer.from(JSON.stringify(['2024-02-30T10:00:00.000000Z', '01a2045a-7acc-7c3a-8671-aec388576d3e'])).toString('base64url');
  const res = await hub.gql('query($after: String) { myPartner { members(first: 2, after: $after) { totalCount } } }', { after }, partner.token);
  expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
});

it.each([
  ['a partner id that is not an id', { role: 'PARTNER', partnerId: 'foo' }],
  ['a member id that is not an id', { role: 'MEMBER', memberId: 'x' }],
])('treats a token whose subject is %s as no token (UNAUTHENTICATED)', async (_name, claims) => {
  const jwt = await import('jsonwebtoken');
  const token = jwt.sign(claims, hub.config.jwtSecret, { algorithm: 'HS256', expiresIn: 60, issuer: 'coalition-hub', audience: 'coalition-hub' });
  const res = await hub.gql('{ coalition { name } }', {}, token);
  expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});

it('a token for a partner that does not exist cannot enroll members', async () => {
  const ghost = hub.token({ role: Role.PARTNER, partnerId: '01a2045a-0000-7000-8000-000000000000' });
  const res = await hub.gql('mutation($i: EnrollMemberInput!) { enrollMember(input: $i) { member { id } userErrors { code } } }',
    { i: { email: `${unique('ghost')}@example.com` } }, ghost);
  expect(res.data.enrollMember.userErrors).toEqual([{ code: 'NOT_FOUND' }]);
});

it('a partner lot paying a debt owed to the operator owes the operator, at the partner’s value', async () => {
  const email = `${unique('op-debt')}@example.com`;
  const member = await enroll(hub, partner, { email });
  await enroll(hub, other, { email });
  const awarded = await bonus(hub, hub.admin, member, 50);
  await redeem(hub, partner, member, 50);
  const taken = await reverse(hub, hub.admin, awarded.transaction.id);
  expect(taken.member).toMatchObject({ balance: -50, debt: 50 });
  await purchase(hub, other, member, '80.00');
  const owed = await hub.db.query(`SELECT kind, payer_type, payer_id, payee_type, payee_id, points, rate::text FROM obligation
    WHERE member_id = $1 AND kind = 'DEBT_RECOVERY'`, [member.id]);
  expect(owed).toEqual([{ kind: 'DEBT_RECOVERY', payer_type: 'PARTNER', payer_id: other.id, payee_type: 'OPERATOR', payee_id: null, points: 50, rate: '0.020000' }]);
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

it('a batch of 200 purchases costs the same round trips to PostgreSQL as a batch of 1', async () => {
  const members = await Promise.all(Array.from({ length: 20 }, () => enroll(hub, partner)));
  const send = (n: number) => hub.gql('mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { userErrors { code } } }',
    { inputs: Array.from({ length: n }, (_, i) => ({ idempotencyKey: unique('rt'), memberId: members[i % members.length]!.id, amount: '2.00' })) }, partner.token);
  const statements = async (n: number) => {
    const spy = jest.spyOn(Client.prototype, 'query');
    try {
      const res = await send(n);
      expect(res.data.recordPurchases).toHaveLength(n);
      return spy.mock.calls.length;
    } finally {
      spy.mockRestore();
    }
  };
  await statements(1); // prepares the statements on a connection
  const one = await statements(1);
  const many = await statements(200);
  // Kept terms; BEGIN + the lock + the purchasing members' lots, then the write + COMMIT (docs/architecture.md, The runner).
  expect(one).toBe(2);
  expect(many).toBe(one);
});

describe('dates and ids from outside the range the hub keeps', () => {
  it.each([
    ['a purchase in year 0', 'mutation($m: ID!) { recordPurchase(input: { idempotencyKey: "y0", memberId: $m, amount: "1.00", occurredAt: "0000-06-01T00:00:00Z" }) { userErrors { code field } } }', 'recordPurchase', ['input', 'occurredAt']],
    ['a purchase in 1999', 'mutation($m: ID!) { recordPurchase(input: { idempotencyKey: "y1999", memberId: $m, amount: "1.00", occurredAt: "1999-12-31T23:59:59Z" }) { userErrors { code field } } }', 'recordPurchase', ['input', 'occurredAt']],
  ])('refuses %s with INVALID_INPUT', async (_name, query, field, path) => {
    const member = await enroll(hub, partner);
    const res = await hub.gql(query, { m: member.id }, partner.token);
    expect(res.data[field].userErrors).toEqual([{ code: 'INVALID_INPUT', field: path }]);
  });

  it.each([
    ['an expiry as of year 0', 'mutation { runExpiry(input: { asOf: "0000-01-01T00:00:00Z" }) { userErrors { code } } }', 'runExpiry'],
    ['a settlement period in 1999', 'mutation { closeSettlementPeriod(input: { periodStart: "1999-01-01T00:00:00Z", periodEnd: "1999-02-01T00:00:00Z" }) { userErrors { code } } }', 'closeSettlementPeriod'],
  ])('refuses %s with INVALID_INPUT', async (_name, query, field) => {
    const res = await hub.gql(query, {}, hub.admin);
    expect(res.data[field].userErrors).toEqual([{ code: 'INVALID_INPUT' }]);
  });

  it('answers matching campaigns of a malformed cause id with an empty list', async () => {
    const res = await hub.gql('{ matchingCampaigns(causeId: "nope") { id } }', {}, hub.admin);
    expect(res).toMatchObject({ status: 200, data: { matchingCampaigns: [] } });
  });
});
