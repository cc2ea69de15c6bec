import { Role } from '../../src/api/auth';
import { decodeTransactionId } from '../../src/common/ids';
import { GraphQLResponse, TestHub, startTestHub } from '../support/hub';
import {
  TestMember, TestPartner, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, reverse, unique,
} from '../support/scenario';

/**
 * Affiliates and commissions through GraphQL (docs/rules.md, Affiliates and commissions; Redemption and
 * cross-redemption settlement; docs/api.md, createAffiliate and myAffiliate): codes and tokens, sticky and
 * per-purchase attribution, the two plans with their attribution window and hold, refunds before and
 * after approval, payment by settlement runs, and what an affiliate, a partner and the operator read.
 *
 * Every test makes its own partners, affiliates and members, so an affiliate's list is exactly what
 * its test made. A settlement run pays every approved, unsettled commission in the hub, so settlement
 * assertions look only at the parties of their own test; runs close consecutive periods ending "now".
 */
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const DAY_MS = 86_400_000;
const pause = (ms = 5) => new Promise((r) => setTimeout(r, ms));
/** Waits until the server clock has passed `at` (the test and the server share a clock). */
const waitUntil = async (at: Date) => {
  while (Date.now() <= at.getTime() + 50) await pause(Math.max(5, at.getTime() + 60 - Date.now()));
};

const CREATE_AFFILIATE = 'mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id code name email } userErrors { code message field } } }';
const CREATE_PARTNER = 'mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id code commissionPlan { type rate amount durationDays holdDays } } userErrors { code message field } } }';
const UPDATE_PLAN = 'mutation($input: UpdateCommissionPlanInput!) { updateCommissionPlan(input: $input) { partner { id commissionPlan { type rate amount durationDays holdDays } } userErrors { code message field } } }';
const ENROLL = 'mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id memberCode } created userErrors { code message field } } }';
const RECORD = 'mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { transaction { id } userErrors { code message field } } }';
const ISSUE = 'mutation($input: IssueTokenInput!) { issueToken(input: $input) { token userErrors { code message field } } }';
const CLOSE = `mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) {
  run { id lines { payer { type id name } payee { type id name } kind points amount { amount currency } }
        positions { party { type id name } amount { amount } } transfers { from { type id } to { type id } amount { amount } } }
  userErrors { code message field } } }`;
const COMMISSION_FIELDS = 'id affiliateId amount { amount currency } status occurredAt approvesAt purchaseAmount { amount currency } member partner { id } clawbackOf settlementRunId';

type Plan = { type: 'PERCENT_OF_SALE' | 'FIXED_FIRST_PURCHASE'; rate?: string; amount?: string; durationDays?: number | null; holdDays: number };
const percent = (rate: string, holdDays = 0, durationDays: number | null = null): Plan => ({ type: 'PERCENT_OF_SALE', rate, holdDays, durationDays });
const fixed = (amount: string, holdDays = 0, durationDays: number | null = null): Plan => ({ type: 'FIXED_FIRST_PURCHASE', amount, holdDays, durationDays });

interface CommissionNode {
  id: string;
  affiliateId: string;
  amount: { amount: string; currency: string };
  status: 'PENDING' | 'APPROVED' | 'PAID' | 'REVERSED';
  occurredAt: string;
  approvesAt: string;
  purchaseAmount: { amount: string; currency: string };
  member: string;
  partner: { id: string };
  clawbackOf: string | null;
  settlementRunId: string | null;
}

interface TestAffiliate {
  id: string;
  code: string;
  name: string;
  token: string;
}

async function createAffiliate(name = `Affiliate ${unique('a')}`): Promise<TestAffiliate> {
  const res = await hub.gql(CREATE_AFFILIATE, { input: { name, email: `${unique('aff')}@example.com` } }, hub.admin);
  const affiliate = res.data?.createAffiliate?.affiliate;
  if (!affiliate) throw new Error(`createAffiliate failed: ${JSON.stringify(res)}`);
  return { id: affiliate.id, code: affiliate.code, name: affiliate.name, token: hub.token({ role: Role.AFFILIATE, affiliateId: affiliate.id }) };
}

/** A partner with a commission plan (scenario's createPartner makes one without). */
async function planPartner(plan: Plan | null): Promise<TestPartner> {
  const code = unique('p');
  const res = await hub.gql(CREATE_PARTNER, { input: { code, name: `Partner ${code}`, redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' }, commissionPlan: plan } }, hub.admin);
  const partner = res.data?.createPartner?.partner;
  if (!partner) throw new Error(`createPartner failed: ${JSON.stringify(res)}`);
  return { id: partner.id, code, token: hub.token({ role: Role.PARTNER, partnerId: partner.id }) };
}

let phoneCounter = 0;
/** A UK mobile number no other member in this file has. */
const freshPhone = () => `+447700${900000 + ++phoneCounter}`;

/** Enrolls a new member with an affiliate code (and, for masking checks, an e-mail and a phone). */
async function referred(partner: TestPartner, affiliate: TestAffiliate | null, extra: Record<string, unknown> = {}): Promise<TestMember & { email: string; phone: string }> {
  const email = `${unique('m')}@example.com`;
  const phone = freshPhone();
  const member = await enroll(hub, partner, { email, phone, ...(affiliate ? { affiliateCode: affiliate.code } : {}), ...extra });
  return { ...member, email, phone };
}

/** Records a purchase and returns its transaction id, failing loudly on a user error. */
/**
 * Moves a member's attribution 400 days back, standing in for a member brought long ago: the API
 * cannot enroll in the past, and a purchase dated before the attribution earns no commission.
 */
async function attributedLongAgo(member: { id: string }): Promise<void> {
  await hub.db.query(`UPDATE member SET affiliate_attributed_at = now() - interval '400 days' WHERE id = $1`, [member.id]);
}

/**
 * Stands in for time passing: the hold of a purchase's commission ends at `at`. (A purchase cannot
 * be backdated past its hold: the hold counts from the later of occurredAt and the posting.)
 */
async function holdEndsAt(publicTransactionId: string, at: Date): Promise<void> {
  const { memberId, transactionId } = decodeTransactionId(publicTransactionId)!;
  await hub.db.query('UPDATE commission SET approves_at = $3 WHERE member_id = $1 AND purchase_id = $2', [memberId, transactionId, at.toISOString()]);
}

async function buy(partner: TestPartner, member: TestMember, amount: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await purchase(hub, partner, member, amount, extra);
  expect(res.userErrors).toEqual([]);
  return res.transaction.id;
}

async function refund(partner: TestPartner, transactionId: string, amount?: string, key?: string) {
  const res = await reverse(hub, partner.token, transactionId, amount, key);
  expect(res.userErrors).toEqual([]);
  return res;
}

/** Everything the affiliate sees of its commissions, newest first. */
async function myCommissions(affiliate: TestAffiliate, args = 'first: 100'): Promise<CommissionNode[]> {
  const res = await hub.gql(`{ myAffiliate { commissions(${args}) { totalCount edges { node { ${COMMISSION_FIELDS} } } } } }`, {}, affiliate.token);
  expect(res.errors).toBeUndefined();
  return res.data.myAffiliate.commissions.edges.map((e: { node: CommissionNode }) => e.node);
}

async function totalsOf(affiliate: TestAffiliate): Promise<Record<string, string>> {
  const res = await hub.gql('{ myAffiliate { commissionTotals { pending { amount } approved { amount } paid { amount } reversed { amount } } } }', {}, affiliate.token);
  expect(res.errors).toBeUndefined();
  const t = res.data.myAffiliate.commissionTotals;
  return { pending: t.pending.amount, approved: t.approved.amount, paid: t.paid.amount, reversed: t.reversed.amount };
}

/** The commission rows of one purchase as stored, oldest first (the purchase is not on the API's commission). */
async function commissionRows(publicTransactionId: string) {
  const { memberId, transactionId } = decodeTransactionId(publicTransactionId)!;
  return hub.db.query(`SELECT id, affiliate_id, partner_id, plan, amount_minor::text AS amount, base_amount_minor::text AS base, status, clawback_of, settlement_run_id
    FROM commission WHERE member_id = $1 AND purchase_id = $2 ORDER BY created_at, id`, [memberId, transactionId]) as Promise<{
    id: string; affiliate_id: string; partner_id: string; plan: Record<string, unknown>; amount: string; base: string; status: string; clawback_of: string | null; settlement_run_id: string | null;
  }[]>;
}

const countRows = async (table: string) => Number((await hub.db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

/** "12.34" → 1234n, "-0.25" → -25n: sums of money without floating point. */
function minor(amount: string): bigint {
  const negative = amount.startsWith('-');
  const [whole, fraction = ''] = amount.replace('-', '').split('.');
  const value = BigInt(whole! + fraction.padEnd(2, '0'));
  return negative ? -value : value;
}
function money(minorUnits: bigint): string {
  const negative = minorUnits < 0n;
  const digits = (negative ? -minorUnits : minorUnits).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

function errorCode(res: { errors?: { extensions?: { code?: string } }[] }): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

interface Page<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: T }[];
}

/** Every node of a connection, page by page through `after`; the query takes `$after` and the counts must agree on every page. */
async function walk<T>(query: string, variables: Record<string, unknown>, token: string, pick: (data: any) => Page<T>): Promise<{ nodes: T[]; totalCount: number; pages: number }> {
  const nodes: T[] = [];
  let after: string | null = null;
  let totalCount = -1;
  let pages = 0;
  for (;;) {
    const res: GraphQLResponse = await hub.gql(query, { ...variables, after }, token);
    expect(res.errors).toBeUndefined();
    const page = pick(res.data);
    if (totalCount >= 0) expect(page.totalCount).toBe(totalCount);
    totalCount = page.totalCount;
    pages += 1;
    nodes.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return { nodes, totalCount, pages };
    after = page.pageInfo.endCursor;
  }
}

describe('createAffiliate, listing and tokens', () => {
  it('creates affiliates with unique, URL-safe codes: "AF" and 8 Crockford characters', async () => {
    const created = [];
    for (let i = 0; i < 6; i++) {
      const res = await hub.gql(CREATE_AFFILIATE, { input: { name: `  Blog ${i}  `, email: `  Writer${i}.${unique('x')}@Example.COM ` } }, hub.admin);
      expect(res.data.createAffiliate.userErrors).toEqual([]);
      created.push(res.data.createAffiliate.affiliate);
    }
    for (const a of created) {
      expect(a.code).toMatch(/^AF[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$/);
      expect(encodeURIComponent(a.code)).toBe(a.code);
      expect(a.name).toMatch(/^Blog \d$/); // trimmed
      expect(a.email).toBe(a.email.trim().toLowerCase());
    }
    expect(new Set(created.map((a) => a.code)).size).toBe(created.length);
    // The operator reads it back as created.
    const back = await hub.gql('query($id: ID!) { affiliate(id: $id) { id code name email } }', { id: created[0].id }, hub.admin);
    expect(back.data.affiliate).toEqual(created[0]);
  });

  it.each([
    ['an e-mail that is not an address', { name: 'Deals Blog', email: 'not-an-email' }, ['input', 'email']],
    ['an e-mail with a space inside', { name: 'Deals Blog', email: 'a b@example.com' }, ['input', 'email']],
    ['a blank name', { name: '   ', email: 'blank@example.com' }, ['input', 'name']],
  ])('refuses %s with INVALID_INPUT and creates nothing', async (_why, input, field) => {
    const before = await countRows('affiliate');
    const res = await hub.gql(CREATE_AFFILIATE, { input }, hub.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.createAffiliate).toMatchObject({ affiliate: null, userErrors: [{ code: 'INVALID_INPUT', field }] });
    expect(await countRows('affiliate')).toBe(before);
  });

  it('lets only the operator create affiliates: a partner, a member or an affiliate is FORBIDDEN, no token UNAUTHENTICATED', async () => {
    const partner = await createPartner(hub);
    const member = await enroll(hub, partner);
    const affiliate = await createAffiliate();
    const before = await countRows('affiliate');
    const input = { name: 'Sneaky', email: 'sneaky@example.com' };
    for (const token of [partner.token, member.token, affiliate.token]) {
      const res = await hub.gql(CREATE_AFFILIATE, { input }, token);
      expect(errorCode(res)).toBe('FORBIDDEN');
    }
    expect(errorCode(await hub.gql(CREATE_AFFILIATE, { input }))).toBe('UNAUTHENTICATED');
    expect(await countRows('affiliate')).toBe(before);
  });

  it('affiliates(first, after) lists every affiliate once, keyset-paginated, for the operator only', async () => {
    const mine = [await createAffiliate(), await createAffiliate(), await createAffiliate()];
    const total = await countRows('affiliate');
    const { nodes, totalCount, pages } = await walk<{ id: string }>('query($after: String) { affiliates(first: 2, after: $after) { totalCount edges { node { id code } } pageInfo { hasNextPage endCursor } } }',
      {}, hub.admin, (d) => d.affiliates);
    const seen = nodes.map((n) => n.id);
    expect(totalCount).toBe(total);
    expect(pages).toBe(Math.ceil(total / 2));
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen).toEqual(expect.arrayContaining(mine.map((a) => a.id)));

    const partner = await createPartner(hub);
    expect(errorCode(await hub.gql('{ affiliates { totalCount } }', {}, partner.token))).toBe('FORBIDDEN');
    expect(errorCode(await hub.gql('{ affiliates { totalCount } }', {}, mine[0]!.token))).toBe('FORBIDDEN');
  });

  it('issueToken(role: AFFILIATE) signs a token for an existing affiliate, NOT_FOUND for any other subject', async () => {
    const affiliate = await createAffiliate();
    const res = await hub.gql(ISSUE, { input: { role: 'AFFILIATE', subjectId: affiliate.id } }, hub.admin);
    expect(res.data.issueToken.userErrors).toEqual([]);
    const me = await hub.gql('{ myAffiliate { id code name } }', {}, res.data.issueToken.token);
    expect(me.data.myAffiliate).toEqual({ id: affiliate.id, code: affiliate.code, name: affiliate.name });

    const partner = await createPartner(hub);
    for (const subjectId of ['00000000-0000-7000-8000-000000000000', 'not-a-uuid', partner.id, null]) {
      const refused = await hub.gql(ISSUE, { input: { role: 'AFFILIATE', subjectId } }, hub.admin);
      expect(refused.data.issueToken).toMatchObject({ token: null, userErrors: [{ code: 'NOT_FOUND', field: ['input', 'subjectId'] }] });
    }
  });
});

describe('attribution', () => {
  it('attributes a new member enrolled with an affiliate code from its enrollment, matching the code case-insensitively after trimming', async () => {
    const partner = await planPartner(percent('0.1'));
    const affiliate = await createAffiliate();
    const before = new Date();
    const member = await enroll(hub, partner, { email: `${unique('m')}@example.com`, affiliateCode: `  ${affiliate.code.toLowerCase()}\t` });
    const after = new Date();
    const [row] = await hub.db.query('SELECT affiliate_id, affiliate_attributed_at FROM member WHERE id = $1', [member.id]);
    expect(row.affiliate_id).toBe(affiliate.id);
    expect(row.affiliate_attributed_at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(row.affiliate_attributed_at.getTime()).toBeLessThanOrEqual(after.getTime() + 1000);
    expect((await hub.gql('{ myAffiliate { referredMembers } }', {}, affiliate.token)).data.myAffiliate.referredMembers).toBe(1);

    // Sticky: a purchase without a code earns the affiliate its commission.
    await buy(partner, member, '20.00');
    expect(await myCommissions(affiliate)).toMatchObject([{ affiliateId: affiliate.id, amount: { amount: '2.00' }, purchaseAmount: { amount: '20.00' } }]);
  });

  it('refuses an unknown affiliate code with INVALID_INPUT and writes nothing', async () => {
    const partner = await planPartner(percent('0.1'));
    const before = await ledgerRowCounts(hub);
    const res = await hub.gql(ENROLL, { input: { email: `${unique('m')}@example.com`, affiliateCode: 'AF00000000' } }, partner.token);
    expect(res.data.enrollMember).toMatchObject({ member: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'affiliateCode'] }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it('does not re-attribute an existing member enrolled again with another affiliate\'s code, whichever identifier matches', async () => {
    const home = await planPartner(percent('0.1'));
    const other = await planPartner(null);
    const first = await createAffiliate();
    const second = await createAffiliate();
    const member = await referred(home, first);
    const [{ affiliate_attributed_at: attributedAt }] = await hub.db.query('SELECT affiliate_attributed_at FROM member WHERE id = $1', [member.id]);
    for (const [partner, identifier] of [[other, { phone: member.phone }], [home, { email: member.email }], [other, { email: member.email, phone: member.phone }]] as const) {
      const res = await hub.gql(ENROLL, { input: { ...identifier, affiliateCode: second.code } }, partner.token);
      expect(res.data.enrollMember).toMatchObject({ member: { id: member.id }, created: false, userErrors: [] });
    }
    const [row] = await hub.db.query('SELECT affiliate_id, affiliate_attributed_at FROM member WHERE id = $1', [member.id]);
    expect(row).toEqual({ affiliate_id: first.id, affiliate_attributed_at: attributedAt });
    expect((await hub.gql('{ myAffiliate { referredMembers } }', {}, second.token)).data.myAffiliate.referredMembers).toBe(0);
    await buy(home, member, '10.00');
    expect(await myCommissions(first)).toMatchObject([{ amount: { amount: '1.00' } }]);
    expect(await myCommissions(second)).toEqual([]);

    // Attribution happens at creation only: a member that joined without a code does not gain one later.
    const plain = await referred(other, null);
    const again = await hub.gql(ENROLL, { input: { email: plain.email, affiliateCode: second.code } }, home.token);
    expect(again.data.enrollMember).toMatchObject({ member: { id: plain.id }, created: false, userErrors: [] });
    expect((await hub.db.query('SELECT affiliate_id FROM member WHERE id = $1', [plain.id]))[0].affiliate_id).toBeNull();
    await buy(home, plain, '10.00');
    expect(await myCommissions(second)).toEqual([]);
  });

  it('attributes a person enrolled at several partners at once with different codes to exactly one affiliate', async () => {
    const partners = await Promise.all(Array.from({ length: 4 }, () => planPartner(percent('0.1'))));
    const affiliates = await Promise.all(partners.map(() => createAffiliate()));
    const email = `${unique('m')}@example.com`;
    const results = await Promise.all(partners.map((p, i) => hub.gql(ENROLL, { input: { email, affiliateCode: affiliates[i]!.code } }, p.token)));
    expect(results.map((r) => r.data.enrollMember.userErrors)).toEqual([[], [], [], []]);
    expect(new Set(results.map((r) => r.data.enrollMember.member.id)).size).toBe(1);
    const creator = results.findIndex((r) => r.data.enrollMember.created);
    expect(results.filter((r) => r.data.enrollMember.created)).toHaveLength(1);
    const [row] = await hub.db.query('SELECT affiliate_id FROM member WHERE id = $1', [results[0]!.data.enrollMember.member.id]);
    expect(row.affiliate_id).toBe(affiliates[creator]!.id);
    const referredCounts = await Promise.all(affiliates.map(async (a) => (await hub.gql('{ myAffiliate { referredMembers } }', {}, a.token)).data.myAffiliate.referredMembers));
    expect(referredCounts).toEqual(affiliates.map((_, i) => (i === creator ? 1 : 0)));
  });

  it('attributes a purchase carrying an affiliate code to that affiliate, for that purchase only', async () => {
    const partner = await planPartner(percent('0.1'));
    const sticky = await createAffiliate();
    const campaign = await createAffiliate();
    const member = await referred(partner, sticky);

    const withCode = await buy(partner, member, '30.00', { affiliateCode: ` ${campaign.code.toLowerCase()} ` });
    const withoutCode = await buy(partner, member, '40.00');
    expect((await commissionRows(withCode)).map((c) => [c.affiliate_id, c.amount])).toEqual([[campaign.id, '300']]);
    expect((await commissionRows(withoutCode)).map((c) => [c.affiliate_id, c.amount])).toEqual([[sticky.id, '400']]);
    // The member stays the sticky affiliate's.
    expect((await hub.db.query('SELECT affiliate_id FROM member WHERE id = $1', [member.id]))[0].affiliate_id).toBe(sticky.id);

    // A member brought by no one: the code on the purchase earns the commission, and attributes nothing.
    const walkIn = await referred(partner, null);
    const walkInPurchase = await buy(partner, walkIn, '50.00', { affiliateCode: campaign.code });
    expect((await commissionRows(walkInPurchase)).map((c) => [c.affiliate_id, c.amount])).toEqual([[campaign.id, '500']]);
    expect((await hub.db.query('SELECT affiliate_id FROM member WHERE id = $1', [walkIn.id]))[0].affiliate_id).toBeNull();
    expect((await hub.gql('{ myAffiliate { referredMembers } }', {}, campaign.token)).data.myAffiliate.referredMembers).toBe(0);
    expect((await buy(partner, walkIn, '50.00').then(commissionRows))).toEqual([]);
  });

  it('refuses a purchase with an unknown affiliate code (INVALID_INPUT) and writes no transaction and no commission; a quote writes none either', async () => {
    const partner = await planPartner(percent('0.1'));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    const before = { ...(await ledgerRowCounts(hub)), commission: await countRows('commission') };
    const res = await hub.gql(RECORD, { input: { idempotencyKey: unique('k'), memberId: member.id, amount: '10.00', affiliateCode: 'AFZZZZZZZZ' } }, partner.token);
    expect(res.data.recordPurchase).toMatchObject({ transaction: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'affiliateCode'] }] });
    const quote = await hub.gql('query($input: RecordPurchaseInput!) { quotePurchase(input: $input) { points } }',
      { input: { idempotencyKey: unique('k'), memberId: member.id, amount: '10.00', affiliateCode: affiliate.code } }, partner.token);
    expect(quote.data.quotePurchase.points).toBe(10);
    expect({ ...(await ledgerRowCounts(hub)), commission: await countRows('commission') }).toEqual(before);

    // In a batch, only the item with the unknown code fails.
    const batch = await hub.gql('mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { transaction { id } userErrors { code field } } }', {
      inputs: [
        { idempotencyKey: unique('k'), memberId: member.id, amount: '10.00', affiliateCode: 'AFZZZZZZZZ' },
        { idempotencyKey: unique('k'), memberId: member.id, amount: '20.00', affiliateCode: affiliate.code },
      ],
    }, partner.token);
    expect(batch.data.recordPurchases[0]).toEqual({ transaction: null, userErrors: [{ code: 'INVALID_INPUT', field: ['inputs', '0', 'affiliateCode'] }] });
    expect(batch.data.recordPurchases[1].userErrors).toEqual([]);
    expect((await commissionRows(batch.data.recordPurchases[1].transaction.id)).map((c) => [c.affiliate_id, c.amount])).toEqual([[affiliate.id, '200']]);
  });

  it('makes no commission at a partner without a plan, nor on a purchase of a member brought by no one', async () => {
    const noPlan = await planPartner(null);
    const withPlan = await planPartner(percent('0.1'));
    const affiliate = await createAffiliate();
    const member = await referred(noPlan, affiliate);
    await buy(noPlan, member, '100.00');
    await buy(noPlan, member, '100.00', { affiliateCode: affiliate.code });
    const plain = await referred(withPlan, null);
    await buy(withPlan, plain, '100.00');
    expect(await myCommissions(affiliate)).toEqual([]);
    expect(await hub.db.query('SELECT id FROM commission WHERE member_id = ANY($1::uuid[])', [[member.id, plain.id]])).toEqual([]);
  });
});

describe('commission plans', () => {
  it.each([
    ['0.05', '10.10', '0.51'], // 0.505: half up
    ['0.05', '10.09', '0.50'], // 0.5045
    ['0.05', '10.30', '0.52'], // 0.515
    ['0.125', '0.04', '0.01'], // 0.005
    ['0.1', '1234.56', '123.46'], // 123.456
    ['0.033333', '100.00', '3.33'], // 3.3333
    ['1', '99.99', '99.99'],
  ])('PERCENT_OF_SALE at rate %s of a %s purchase is %s (half up to minor units)', async (rate, amount, expected) => {
    const partner = await planPartner(percent(rate));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    await buy(partner, member, amount);
    expect(await myCommissions(affiliate)).toMatchObject([{ amount: { amount: expected, currency: 'EUR' }, purchaseAmount: { amount }, status: 'APPROVED', partner: { id: partner.id } }]);
  });

  it('makes no commission when PERCENT_OF_SALE rounds to 0.00', async () => {
    const partner = await planPartner(percent('0.05'));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    await buy(partner, member, '0.09'); // 0.0045
    expect(await myCommissions(affiliate)).toEqual([]);
  });

  it('FIXED_FIRST_PURCHASE pays its amount on the attributed member\'s first purchase at that partner only', async () => {
    const fixedPartner = await planPartner(fixed('2.50'));
    const elsewhere = await planPartner(null);
    const affiliate = await createAffiliate();
    const member = await referred(elsewhere, affiliate);
    await enroll(hub, fixedPartner, { email: member.email });
    await buy(elsewhere, member, '80.00'); // a first purchase elsewhere does not count at fixedPartner
    const first = await buy(fixedPartner, member, '10.00');
    const second = await buy(fixedPartner, member, '500.00');
    expect((await commissionRows(first)).map((c) => c.amount)).toEqual(['250']);
    expect(await commissionRows(second)).toEqual([]);

    // Two purchases in one batch: only the first is the first purchase.
    const batchMember = await referred(fixedPartner, affiliate);
    const batch = await hub.gql('mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { transaction { id } userErrors { code } } }', {
      inputs: [{ idempotencyKey: unique('k'), memberId: batchMember.id, amount: '20.00' }, { idempotencyKey: unique('k'), memberId: batchMember.id, amount: '30.00' }],
    }, fixedPartner.token);
    expect(batch.data.recordPurchases.map((r: { userErrors: unknown[] }) => r.userErrors)).toEqual([[], []]);
    expect((await commissionRows(batch.data.recordPurchases[0].transaction.id)).map((c) => c.amount)).toEqual(['250']);
    expect(await commissionRows(batch.data.recordPurchases[1].transaction.id)).toEqual([]);

    // A member whose first purchase there carried no attribution: a later purchase with a code is not a first purchase.
    const walkIn = await referred(fixedPartner, null);
    await buy(fixedPartner, walkIn, '10.00');
    expect(await commissionRows(await buy(fixedPartner, walkIn, '10.00', { affiliateCode: affiliate.code }))).toEqual([]);

    // A member brought by no one whose first purchase there carries the code: that purchase is attributed, and first.
    const coded = await referred(fixedPartner, null);
    expect((await commissionRows(await buy(fixedPartner, coded, '15.00', { affiliateCode: affiliate.code }))).map((c) => c.amount)).toEqual(['250']);

    const nodes = await myCommissions(affiliate);
    expect(nodes.map((n) => [n.amount.amount, n.purchaseAmount.amount])).toEqual([['2.50', '15.00'], ['2.50', '20.00'], ['2.50', '10.00']]);
  });

  it('durationDays: only purchases that occur within that many days of the attribution earn commission', async () => {
    const partner = await planPartner(percent('0.1', 0, 10));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    // Enrollment happened just now; to test a 10-day window we move the attribution 20 days back in
    // the database (the API cannot enroll in the past), then record purchases with past occurredAt
    // (inside the coalition's 30-day backdating window).
    const attributedAt = new Date(Date.now() - 20 * DAY_MS);
    await hub.db.query('UPDATE member SET affiliate_attributed_at = $2 WHERE id = $1', [member.id, attributedAt]);
    const at = (ms: number) => new Date(attributedAt.getTime() + ms);
    const cases: [string, Date, string[]][] = [
      ['a day after attribution', at(DAY_MS), ['100']],
      ['exactly 10 days after', at(10 * DAY_MS), ['100']],
      ['10 days and a second after', at(10 * DAY_MS + 1000), []],
      ['today, 20 days after', new Date(), []],
    ];
    for (const [why, occurredAt, expected] of cases) {
      const tx = await buy(partner, member, '10.00', { occurredAt });
      expect([why, (await commissionRows(tx)).map((c) => c.amount)]).toEqual([why, expected]);
    }
    // A purchase carrying the code is attributed when it occurs, so its window starts then.
    const coded = await buy(partner, member, '10.00', { affiliateCode: affiliate.code });
    expect((await commissionRows(coded)).map((c) => c.amount)).toEqual(['100']);

    // durationDays null: for life.
    const lifetime = await planPartner(percent('0.1', 0, null));
    const old = await referred(lifetime, affiliate);
    await hub.db.query('UPDATE member SET affiliate_attributed_at = $2 WHERE id = $1', [old.id, new Date(Date.now() - 3000 * DAY_MS)]); // as above: an attribution years ago
    expect((await commissionRows(await buy(lifetime, old, '10.00'))).map((c) => c.amount)).toEqual(['100']);
  });

  it.each([
    ['a 30-day window', 30],
    ['a lifetime attribution', null],
  ])('under %s, a purchase that occurred before the member was attributed earns no commission', async (_why, durationDays) => {
    // The attribution starts when the affiliate brings the member; a sale posted late with an
    // earlier occurredAt (a receipt from before the sign-up) was not brought by the affiliate.
    const partner = await planPartner(percent('0.1', 0, durationDays));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    const before = await buy(partner, member, '10.00', { occurredAt: new Date(Date.now() - 10 * DAY_MS) });
    const after = await buy(partner, member, '10.00');
    expect(await commissionRows(before)).toEqual([]);
    expect((await commissionRows(after)).map((c) => c.amount)).toEqual(['100']);
  });

  it('holdDays: a commission is PENDING until max(occurredAt, postedAt) + holdDays, then APPROVED; holdDays 0 approves at once', async () => {
    const held = await planPartner(percent('0.1', 30));
    const instant = await planPartner(percent('0.1', 0));
    const affiliate = await createAffiliate();
    const member = await referred(held, affiliate);
    await attributedLongAgo(member);
    await enroll(hub, instant, { email: member.email });
    const now = new Date();
    const twentyDaysAgo = new Date(Date.now() - 20 * DAY_MS);
    const posted = async (partner: TestPartner, amount: string, occurredAt: Date) => {
      const res = await purchase(hub, partner, member, amount, { occurredAt });
      expect(res.userErrors).toEqual([]);
      return res.transaction as { id: string; postedAt: string };
    };
    const current = await posted(held, '10.00', now);
    // Backdated 20 days under a 30-day hold: not approved 10 days from now, but 30 days after its posting.
    const backdated = await posted(held, '20.00', twentyDaysAgo);
    const atOnce = await posted(instant, '30.00', now);
    const later = (a: string, b: string) => (a > b ? a : b);
    const nodes = await myCommissions(affiliate);
    expect(nodes.map((n) => [n.purchaseAmount.amount, n.status, n.occurredAt, n.approvesAt])).toEqual([
      ['30.00', 'APPROVED', now.toISOString(), later(now.toISOString(), atOnce.postedAt)],
      ['20.00', 'PENDING', twentyDaysAgo.toISOString(), new Date(new Date(backdated.postedAt).getTime() + 30 * DAY_MS).toISOString()],
      ['10.00', 'PENDING', now.toISOString(), new Date(new Date(later(now.toISOString(), current.postedAt)).getTime() + 30 * DAY_MS).toISOString()],
    ]);
    expect((await myCommissions(affiliate, 'status: PENDING')).map((n) => n.purchaseAmount.amount)).toEqual(['20.00', '10.00']);
    expect((await myCommissions(affiliate, 'status: APPROVED')).map((n) => n.purchaseAmount.amount)).toEqual(['30.00']);

    // The hold ends by time alone: a purchase whose hold ends in a moment becomes APPROVED with no write.
    const soon = new Date(Date.now() + 1500);
    const tx = await buy(held, member, '40.00');
    await holdEndsAt(tx, soon);
    expect((await myCommissions(affiliate, 'first: 1'))[0]).toMatchObject({ purchaseAmount: { amount: '40.00' }, status: 'PENDING' });
    await waitUntil(soon);
    expect((await myCommissions(affiliate, 'first: 1'))[0]).toMatchObject({ purchaseAmount: { amount: '40.00' }, status: 'APPROVED' });
  });

  it('updateCommissionPlan applies to later purchases; a commission already made keeps its plan', async () => {
    const partner = await planPartner(percent('0.05', 30));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    const before = await buy(partner, member, '100.00');

    const res = await hub.gql(UPDATE_PLAN, { input: { partnerId: partner.id, commissionPlan: percent('0.1', 0) } }, hub.admin);
    expect(res.data.updateCommissionPlan).toEqual({
      partner: { id: partner.id, commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.1', amount: null, durationDays: null, holdDays: 0 } }, userErrors: [],
    });
    const after = await buy(partner, member, '100.00');
    const [old] = await commissionRows(before);
    const [current] = await commissionRows(after);
    expect(old).toMatchObject({ amount: '500', plan: { type: 'PERCENT_OF_SALE', rate: '0.05', amount: null, durationDays: null, holdDays: 30 } });
    expect(current).toMatchObject({ amount: '1000', plan: { type: 'PERCENT_OF_SALE', rate: '0.1', amount: null, durationDays: null, holdDays: 0 } });
    expect((await myCommissions(affiliate)).map((n) => [n.amount.amount, n.status])).toEqual([['10.00', 'APPROVED'], ['5.00', 'PENDING']]);
    // Its refund follows its own plan too: still on hold, so reduced pro rata from 5.00.
    await refund(partner, before, '50.00');
    expect((await commissionRows(before)).map((c) => [c.amount, c.status])).toEqual([['250', 'PENDING']]);

    // No plan: no commissions from now on.
    const off = await hub.gql(UPDATE_PLAN, { input: { partnerId: partner.id, commissionPlan: null } }, hub.admin);
    expect(off.data.updateCommissionPlan).toEqual({ partner: { id: partner.id, commissionPlan: null }, userErrors: [] });
    expect(await commissionRows(await buy(partner, member, '100.00'))).toEqual([]);
  });

  it.each([
    ['a rate above 1', percent('1.5'), ['input', 'commissionPlan', 'rate']],
    ['PERCENT_OF_SALE without a rate', { type: 'PERCENT_OF_SALE', holdDays: 0 }, ['input', 'commissionPlan', 'rate']],
    ['FIXED_FIRST_PURCHASE without an amount', { type: 'FIXED_FIRST_PURCHASE', holdDays: 0 }, ['input', 'commissionPlan', 'amount']],
    ['an amount finer than a cent', fixed('1.005'), ['input', 'commissionPlan', 'amount']],
    ['durationDays 0', percent('0.1', 0, 0), ['input', 'commissionPlan', 'durationDays']],
    ['negative holdDays', percent('0.1', -1), ['input', 'commissionPlan', 'holdDays']],
  ])('updateCommissionPlan refuses %s (INVALID_INPUT) and keeps the plan', async (_why, plan, field) => {
    const partner = await planPartner(percent('0.05', 7));
    const res = await hub.gql(UPDATE_PLAN, { input: { partnerId: partner.id, commissionPlan: plan } }, hub.admin);
    expect(res.data.updateCommissionPlan).toMatchObject({ partner: null, userErrors: [{ code: 'INVALID_INPUT', field }] });
    const back = await hub.gql('query($id: ID!) { partner(id: $id) { commissionPlan { type rate holdDays } } }', { id: partner.id }, hub.admin);
    expect(back.data.partner.commissionPlan).toEqual({ type: 'PERCENT_OF_SALE', rate: '0.05', holdDays: 7 });
  });

  it('updateCommissionPlan is the operator\'s: a partner or an affiliate is FORBIDDEN; an unknown partner NOT_FOUND', async () => {
    const partner = await planPartner(percent('0.05'));
    const affiliate = await createAffiliate();
    for (const token of [partner.token, affiliate.token]) {
      expect(errorCode(await hub.gql(UPDATE_PLAN, { input: { partnerId: partner.id, commissionPlan: percent('1') } }, token))).toBe('FORBIDDEN');
    }
    const unknown = await hub.gql(UPDATE_PLAN, { input: { partnerId: '00000000-0000-7000-8000-000000000000', commissionPlan: percent('0.1') } }, hub.admin);
    expect(unknown.data.updateCommissionPlan).toMatchObject({ partner: null, userErrors: [{ code: 'NOT_FOUND' }] });
    const back = await hub.gql('query($id: ID!) { partner(id: $id) { commissionPlan { rate } } }', { id: partner.id }, hub.admin);
    expect(back.data.partner.commissionPlan).toEqual({ rate: '0.05' });
  });
});

describe('refunds', () => {
  it('before approval, each partial refund brings the commission to its pro-rata share of the original (half up); the completing refund REVERSES it, keeping its amount', async () => {
    const partner = await planPartner(percent('0.05', 30));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    const tx = await buy(partner, member, '10.10'); // 0.51
    const steps: [string, string, string][] = [
      ['2.02', '0.41', 'PENDING'], // 0.51 × 8.08 / 10.10 = 0.408
      ['3.03', '0.26', 'PENDING'], // 0.51 × 5.05 / 10.10 = 0.255: half up from the original, not from 0.41
      ['5.05', '0.26', 'REVERSED'], // the rest: reversed, its amount kept
    ];
    for (const [amount, expected, status] of steps) {
      await refund(partner, tx, amount);
      expect(await myCommissions(affiliate)).toMatchObject([{ amount: { amount: expected }, status, clawbackOf: null }]);
    }
    expect((await commissionRows(tx)).map((c) => [c.base, c.amount, c.status])).toEqual([['51', '26', 'REVERSED']]);
    expect(await totalsOf(affiliate)).toEqual({ pending: '0.00', approved: '0.00', paid: '0.00', reversed: '0.26' });
  });

  it('before approval, a full refund at once REVERSES the commission with its whole amount', async () => {
    const partner = await planPartner(fixed('3.00', 30));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    const tx = await buy(partner, member, '40.00');
    await refund(partner, tx);
    expect(await myCommissions(affiliate)).toMatchObject([{ amount: { amount: '3.00' }, status: 'REVERSED', clawbackOf: null }]);
    expect(await totalsOf(affiliate)).toEqual({ pending: '0.00', approved: '0.00', paid: '0.00', reversed: '3.00' });
  });

  it('after approval, each refund adds a clawback (negative, clawbackOf the commission, APPROVED at once) and leaves the commission as it was', async () => {
    const partner = await planPartner(percent('0.05', 0));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    const tx = await buy(partner, member, '10.10'); // 0.51, approved at once
    const [original] = await myCommissions(affiliate);
    expect(original).toMatchObject({ amount: { amount: '0.51' }, status: 'APPROVED' });

    await refund(partner, tx, '5.05'); // to 0.255 → 0.26: a clawback of 0.25
    await refund(partner, tx); // the rest: to 0, a clawback of 0.26
    const nodes = await myCommissions(affiliate);
    expect(nodes.map((n) => [n.amount.amount, n.status, n.clawbackOf, n.purchaseAmount.amount])).toEqual([
      ['-0.26', 'APPROVED', original!.id, '10.10'],
      ['-0.25', 'APPROVED', original!.id, '10.10'],
      ['0.51', 'APPROVED', null, '10.10'],
    ]);
    expect(nodes.reduce((sum, n) => sum + minor(n.amount.amount), 0n)).toBe(0n);
    expect(await totalsOf(affiliate)).toEqual({ pending: '0.00', approved: '0.00', paid: '0.00', reversed: '0.00' });

    // Nothing left to refund: ALREADY_REVERSED, and no further clawback.
    const again = await reverse(hub, partner.token, tx);
    expect(again.userErrors).toMatchObject([{ code: 'ALREADY_REVERSED' }]);
    expect(await commissionRows(tx)).toHaveLength(3);
  });

  it('a commission reduced by a refund on hold and refunded again after approval is clawed back to zero', async () => {
    const partner = await planPartner(percent('0.05', 30));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    await attributedLongAgo(member);
    const tx = await buy(partner, member, '10.10');
    const holdEnd = new Date(Date.now() + 2500); // stands in for the 30 days: the hold ends 2.5 seconds from now
    await holdEndsAt(tx, holdEnd);
    await refund(partner, tx, '5.05'); // on hold: reduced to 0.26
    expect(Date.now()).toBeLessThan(holdEnd.getTime()); // the scenario needs that refund to come before the hold ends
    expect(await myCommissions(affiliate)).toMatchObject([{ amount: { amount: '0.26' }, status: 'PENDING' }]);
    await waitUntil(holdEnd);
    await refund(partner, tx); // approved now: a clawback of what is left
    const nodes = await myCommissions(affiliate);
    expect(nodes.map((n) => [n.amount.amount, n.status, n.clawbackOf])).toEqual([['-0.26', 'APPROVED', nodes[1]!.id], ['0.26', 'APPROVED', null]]);
  });

  it('is idempotent: retrying a purchase or a refund with the same key makes no second commission or clawback', async () => {
    const held = await planPartner(percent('0.1', 30));
    const instant = await planPartner(percent('0.1', 0));
    const affiliate = await createAffiliate();
    const member = await referred(held, affiliate);
    await enroll(hub, instant, { email: member.email });

    const purchaseKey = unique('k');
    const tx = await buy(instant, member, '50.00', { idempotencyKey: purchaseKey });
    expect(await buy(instant, member, '50.00', { idempotencyKey: purchaseKey })).toBe(tx);
    const reused = await purchase(hub, instant, member, '60.00', { idempotencyKey: purchaseKey });
    expect(reused.userErrors).toMatchObject([{ code: 'IDEMPOTENCY_KEY_REUSED' }]);
    // The code is part of the request: another affiliate's is another request; the same code written differently is not.
    const other = await createAffiliate();
    const codedKey = unique('k');
    const coded = await buy(instant, member, '10.00', { idempotencyKey: codedKey, affiliateCode: other.code });
    expect(await buy(instant, member, '10.00', { idempotencyKey: codedKey, affiliateCode: ` ${other.code.toLowerCase()}` })).toBe(coded);
    expect((await purchase(hub, instant, member, '10.00', { idempotencyKey: codedKey, affiliateCode: affiliate.code })).userErrors).toMatchObject([{ code: 'IDEMPOTENCY_KEY_REUSED' }]);
    expect((await commissionRows(coded)).map((c) => [c.affiliate_id, c.amount])).toEqual([[other.id, '100']]);
    expect((await commissionRows(tx)).map((c) => c.amount)).toEqual(['500']);

    const refundKey = unique('k');
    await refund(instant, tx, '10.00', refundKey);
    await refund(instant, tx, '10.00', refundKey);
    expect((await commissionRows(tx)).map((c) => c.amount)).toEqual(['500', '-100']);

    const heldTx = await buy(held, member, '50.00');
    const heldKey = unique('k');
    await refund(held, heldTx, '25.00', heldKey);
    await refund(held, heldTx, '25.00', heldKey);
    expect((await commissionRows(heldTx)).map((c) => [c.amount, c.status])).toEqual([['250', 'PENDING']]);
    expect(await myCommissions(affiliate)).toHaveLength(3);

    // The same retries sent at once: still one commission, one clawback.
    const racedKey = unique('k');
    const raced = await Promise.all(Array.from({ length: 5 }, () => purchase(hub, instant, member, '20.00', { idempotencyKey: racedKey })));
    expect(new Set(raced.map((r) => r.transaction?.id)).size).toBe(1);
    const racedTx = raced[0]!.transaction.id;
    const refundRace = unique('k');
    const refunds = await Promise.all(Array.from({ length: 5 }, () => reverse(hub, instant.token, racedTx, '5.00', refundRace)));
    expect(refunds.map((r) => r.userErrors)).toEqual([[], [], [], [], []]);
    expect((await commissionRows(racedTx)).map((c) => c.amount)).toEqual(['200', '-50']);
  });
});

describe('settlement', () => {
  it('a run pays approved, unsettled commissions posted before its end (partner → affiliate, points 0) and marks them PAID; the next run settles clawbacks', async () => {
    const instant = await planPartner(percent('0.1', 0));
    const held = await planPartner(percent('0.1', 30));
    const late = await planPartner(percent('0.1', 0));
    const affiliate = await createAffiliate();
    const periodStart = await latestRunEnd();
    await pause();
    const m1 = await referred(instant, affiliate);
    const m2 = await referred(instant, affiliate);
    const m3 = await referred(held, affiliate);
    await attributedLongAgo(m3);
    await enroll(hub, late, { email: m2.email });
    const paidA = await buy(instant, m1, '100.00'); // 10.00 approved
    await buy(instant, m2, '50.00'); // 5.00 approved
    await buy(held, m3, '40.00'); // 4.00 pending
    // Stands in for time passing: the holds of these two are moved (a purchase cannot be backdated past its hold).
    await holdEndsAt(await buy(held, m3, '20.00'), new Date(Date.now() - DAY_MS)); // 2.00, its hold over
    await refund(held, await buy(held, m3, '30.00')); // 3.00 reversed before approval
    const holdEndsAfterPeriod = new Date(Date.now() + 2500);
    await holdEndsAt(await buy(held, m3, '10.00'), holdEndsAfterPeriod); // 1.00, approved only after the period's end
    await pause();
    const periodEnd = new Date();
    expect(periodEnd.getTime()).toBeLessThan(holdEndsAfterPeriod.getTime()); // the scenario needs its hold to end later
    await pause();
    await buy(late, m2, '70.00'); // 7.00 approved, but posted after the period's end
    await waitUntil(holdEndsAfterPeriod);

    const res = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
    expect(res.data.closeSettlementPeriod.userErrors).toEqual([]);
    const run = res.data.closeSettlementPeriod.run;
    type Line = { payer: { type: string; id: string }; payee: { type: string; id: string }; kind: string; points: number; amount: { amount: string; currency: string } };
    const mine = (lines: Line[]) => lines.filter((l) => l.payee.id === affiliate.id || l.payer.id === affiliate.id)
      .map((l) => ({ payer: { type: l.payer.type, id: l.payer.id }, payee: { type: l.payee.type, id: l.payee.id }, kind: l.kind, points: l.points, amount: l.amount }))
      .sort((a, b) => (a.payer.id < b.payer.id ? -1 : 1));
    const line = (payer: TestPartner, amount: string) => ({ payer: { type: 'PARTNER', id: payer.id }, payee: { type: 'AFFILIATE', id: affiliate.id }, kind: 'COMMISSION', points: 0, amount: { amount, currency: 'EUR' } });
    expect(mine(run.lines)).toEqual([line(instant, '15.00'), line(held, '2.00')].sort((a, b) => (a.payer.id < b.payer.id ? -1 : 1)));
    const position = (r: { positions: { party: { type: string; id: string }; amount: { amount: string } }[] }, id: string) => r.positions.find((p) => p.party.id === id);
    expect(position(run, affiliate.id)).toMatchObject({ party: { type: 'AFFILIATE', id: affiliate.id }, amount: { amount: '17.00' } });
    expect([position(run, instant.id)?.amount.amount, position(run, held.id)?.amount.amount, position(run, late.id)]).toEqual(['-15.00', '-2.00', undefined]);
    expect(run.positions.reduce((sum: bigint, p: { amount: { amount: string } }) => sum + minor(p.amount.amount), 0n)).toBe(0n);
    // The affiliate only receives, and receives its position.
    const transfers = run.transfers as { from: { id: string }; to: { id: string }; amount: { amount: string } }[];
    expect(transfers.filter((t) => t.from.id === affiliate.id)).toEqual([]);
    expect(money(transfers.filter((t) => t.to.id === affiliate.id).reduce((sum, t) => sum + minor(t.amount.amount), 0n))).toBe('17.00');

    const after = await myCommissions(affiliate);
    expect(after.map((n) => [n.purchaseAmount.amount, n.amount.amount, n.status, n.settlementRunId])).toEqual([
      ['70.00', '7.00', 'APPROVED', null],
      ['10.00', '1.00', 'APPROVED', null],
      ['30.00', '3.00', 'REVERSED', null],
      ['20.00', '2.00', 'PAID', run.id],
      ['40.00', '4.00', 'PENDING', null],
      ['50.00', '5.00', 'PAID', run.id],
      ['100.00', '10.00', 'PAID', run.id],
    ]);
    expect(await totalsOf(affiliate)).toEqual({ pending: '4.00', approved: '8.00', paid: '17.00', reversed: '3.00' });
    // The same period again is the same run, and pays nothing twice.
    const again = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
    expect(again.data.closeSettlementPeriod.run.id).toBe(run.id);
    expect(await totalsOf(affiliate)).toEqual({ pending: '4.00', approved: '8.00', paid: '17.00', reversed: '3.00' });

    // A refund after payment: a clawback, APPROVED at once, that the next run settles as a negative COMMISSION line.
    await refund(instant, paidA);
    const [clawback] = await myCommissions(affiliate, 'first: 1');
    expect(clawback).toMatchObject({ amount: { amount: '-10.00' }, status: 'APPROVED', clawbackOf: after[6]!.id, settlementRunId: null });
    await pause();
    const nextEnd = new Date();
    const next = (await hub.gql(CLOSE, { input: { periodStart: periodEnd, periodEnd: nextEnd } }, hub.admin)).data.closeSettlementPeriod;
    expect(next.userErrors).toEqual([]);
    expect(mine(next.run.lines)).toEqual([line(instant, '-10.00'), line(held, '1.00'), line(late, '7.00')].sort((a, b) => (a.payer.id < b.payer.id ? -1 : 1)));
    expect(position(next.run, affiliate.id)?.amount.amount).toBe('-2.00');
    expect(position(next.run, instant.id)?.amount.amount).toBe('10.00');
    expect(next.run.transfers.filter((t: { to: { id: string } }) => t.to.id === affiliate.id)).toEqual([]);

    const final = await myCommissions(affiliate);
    expect(final.map((n) => [n.amount.amount, n.status, n.settlementRunId])).toEqual([
      ['-10.00', 'PAID', next.run.id],
      ['7.00', 'PAID', next.run.id],
      ['1.00', 'PAID', next.run.id],
      ['3.00', 'REVERSED', null],
      ['2.00', 'PAID', run.id],
      ['4.00', 'PENDING', null],
      ['5.00', 'PAID', run.id],
      ['10.00', 'PAID', run.id],
    ]);
    expect(await totalsOf(affiliate)).toEqual({ pending: '4.00', approved: '0.00', paid: '15.00', reversed: '3.00' });
    expect((await commissionRows(paidA)).map((c) => c.status)).toEqual(['PAID', 'PAID']);
  });

  it('names the affiliate in a run and in the statements by its name', async () => {
    const partner = await planPartner(percent('0.1', 0));
    const affiliate = await createAffiliate('Bargain Hunters Blog');
    const member = await referred(partner, affiliate);
    const periodStart = await latestRunEnd();
    await buy(partner, member, '25.00');
    await pause();
    const periodEnd = new Date();
    const run = (await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin)).data.closeSettlementPeriod.run;
    const line = run.lines.find((l: { payee: { id: string } }) => l.payee.id === affiliate.id);
    expect(line).toEqual({ payer: { type: 'PARTNER', id: partner.id, name: `Partner ${partner.code}` }, payee: { type: 'AFFILIATE', id: affiliate.id, name: 'Bargain Hunters Blog' },
      kind: 'COMMISSION', points: 0, amount: { amount: '2.50', currency: 'EUR' } });
    expect(run.positions.find((p: { party: { id: string } }) => p.party.id === affiliate.id).party).toEqual({ type: 'AFFILIATE', id: affiliate.id, name: 'Bargain Hunters Blog' });
    const csv = await hub.gql('query($id: ID!, $party: ID!) { settlementRun(id: $id) { statementCsv(partyId: $party) } }', { id: run.id, party: partner.id }, partner.token);
    expect(csv.data.settlementRun.statementCsv).toContain('COMMISSION,PAYABLE,AFFILIATE,Bargain Hunters Blog,0,-2.50');
    // The operator downloads the affiliate's own statement.
    const own = await hub.gql('query($id: ID!, $party: ID!) { settlementRun(id: $id) { statementCsv(partyId: $party) } }', { id: run.id, party: affiliate.id }, hub.admin);
    const rows = own.data.settlementRun.statementCsv.trim().split('\r\n');
    expect(rows.slice(1, -1).map((r: string) => r.split(',').slice(2).join(','))).toEqual([
      `COMMISSION,RECEIVABLE,PARTNER,Partner ${partner.code},0,2.50`, 'TOTAL,RECEIVABLE,,,,2.50', 'TOTAL,PAYABLE,,,,0.00',
    ]);
    expect(rows.at(-1)).toBe(',,TOTAL,NET,,,,2.50');
  });
  it('a clawback of 10.00 is RECEIVABLE +10.00 on the partner’s statement CSV and PAYABLE −10.00 on the affiliate’s, totals agreeing with NET (not PAYABLE +10.00)', async () => {
    const partner = await planPartner(percent('0.1', 0));
    const affiliate = await createAffiliate('Clawback Blog');
    const member = await referred(partner, affiliate);
    const firstStart = await latestRunEnd();
    const tx = await buy(partner, member, '100.00'); // 10.00, approved at once
    await pause();
    const firstEnd = new Date();
    expect((await hub.gql(CLOSE, { input: { periodStart: firstStart, periodEnd: firstEnd } }, hub.admin)).data.closeSettlementPeriod.userErrors).toEqual([]);
    await refund(partner, tx); // paid already: a clawback of −10.00
    await pause();
    const res = await hub.gql(CLOSE, { input: { periodStart: firstEnd, periodEnd: new Date() } }, hub.admin);
    expect(res.data.closeSettlementPeriod.userErrors).toEqual([]);
    const run = res.data.closeSettlementPeriod.run;
    expect(run.lines.filter((l: { payee: { id: string } }) => l.payee.id === affiliate.id).map((l: { kind: string; amount: { amount: string } }) => [l.kind, l.amount.amount]))
      .toEqual([['COMMISSION', '-10.00']]);
    const position = (id: string) => run.positions.find((p: { party: { id: string } }) => p.party.id === id)?.amount.amount;
    expect([position(partner.id), position(affiliate.id)]).toEqual(['10.00', '-10.00']);
    const statement = async (party: string, token: string) => {
      const csv = await hub.gql('query($id: ID!, $party: ID!) { settlementRun(id: $id) { statementCsv(partyId: $party) } }', { id: run.id, party }, token);
      return csv.data.settlementRun.statementCsv.trim().split('\r\n').slice(1).map((r: string) => r.split(',').slice(2).join(','));
    };
    expect(await statement(partner.id, partner.token)).toEqual([
      'COMMISSION,RECEIVABLE,AFFILIATE,Clawback Blog,0,10.00', 'TOTAL,RECEIVABLE,,,,10.00', 'TOTAL,PAYABLE,,,,0.00', 'TOTAL,NET,,,,10.00',
    ]);
    expect(await statement(affiliate.id, hub.admin)).toEqual([
      `COMMISSION,PAYABLE,PARTNER,Partner ${partner.code},0,-10.00`, 'TOTAL,RECEIVABLE,,,,0.00', 'TOTAL,PAYABLE,,,,-10.00', 'TOTAL,NET,,,,-10.00',
    ]);
  });
});

/** The end of the latest closed run: the next period starts there, so no two runs of this file overlap. */
async function latestRunEnd(): Promise<Date> {
  const [row] = await hub.db.query('SELECT max(period_end) AS end FROM settlement_run');
  return row.end ?? new Date(Date.now() - 1000);
}

describe('reading', () => {
  it('an affiliate sees only its own commissions, and a member only masked: the last 3 digits of its member code', async () => {
    const partner = await planPartner(percent('0.1', 0));
    const mine = await createAffiliate();
    const theirs = await createAffiliate();
    const members = [await referred(partner, mine), await referred(partner, mine)];
    const stranger = await referred(partner, theirs);
    for (const m of members) await buy(partner, m, '10.00');
    await buy(partner, stranger, '10.00');
    await buy(partner, stranger, '10.00', { affiliateCode: mine.code });

    const res = await hub.gql(`{ myAffiliate { id code name referredMembers commissions(first: 100) { totalCount edges { node { ${COMMISSION_FIELDS} } } } } }`, {}, mine.token);
    expect(res.errors).toBeUndefined();
    const view = res.data.myAffiliate;
    expect(view).toMatchObject({ id: mine.id, code: mine.code, name: mine.name, referredMembers: 2, commissions: { totalCount: 3 } });
    const nodes: CommissionNode[] = view.commissions.edges.map((e: { node: CommissionNode }) => e.node);
    expect(nodes.every((n) => n.affiliateId === mine.id)).toBe(true);
    expect(nodes.map((n) => n.id).sort()).toEqual((await hub.db.query('SELECT id FROM commission WHERE affiliate_id = $1', [mine.id])).map((r: { id: string }) => r.id).sort());
    // Newest first: the stranger's coded purchase, then the two members' purchases.
    for (const [node, member] of [[nodes[0]!, stranger], [nodes[1]!, members[1]!], [nodes[2]!, members[0]!]] as const) {
      expect(node.member.endsWith(member.memberCode.slice(-3))).toBe(true);
      expect(node.member).toMatch(/^[^0-9]*[0-9]{3}$/);
    }
    // Nowhere in what the affiliate reads is a member's id, e-mail, phone or full member code.
    const text = JSON.stringify(res.data);
    for (const m of [...members, stranger]) {
      for (const secret of [m.id, m.email, m.email.split('@')[0]!, m.phone, m.phone.slice(1), m.memberCode, m.memberCode.slice(0, 9)]) expect(text).not.toContain(secret);
    }
  });

  it('an affiliate cannot read another affiliate (null), partners\' or members\' data (FORBIDDEN), nor others\' commissions', async () => {
    const partner = await planPartner(percent('0.1', 0));
    const mine = await createAffiliate();
    const theirs = await createAffiliate();
    const member = await referred(partner, theirs);
    await buy(partner, member, '10.00');

    expect((await hub.gql('query($id: ID!) { affiliate(id: $id) { id } }', { id: theirs.id }, mine.token)).data.affiliate).toBeNull();
    expect((await hub.gql('query($id: ID!) { affiliate(id: $id) { id email } }', { id: mine.id }, mine.token)).data.affiliate).toMatchObject({ id: mine.id });
    for (const [query, variables] of [
      ['query($id: ID!) { partner(id: $id) { id } }', { id: partner.id }],
      ['{ partners { totalCount } }', {}],
      ['{ myPartner { id } }', {}],
      ['query($id: ID!) { member(id: $id) { id } }', { id: member.id }],
      ['query($email: String) { memberByIdentifier(email: $email) { id } }', { email: member.email }],
      ['{ ledgerCheck { ok } }', {}],
      ['{ me { id } }', {}],
    ] as const) {
      const res = await hub.gql(query, variables, mine.token);
      expect([query, errorCode(res)]).toEqual([query, 'FORBIDDEN']);
    }
    // The top-level list is scoped to the caller whatever it filters by.
    const scoped = await hub.gql('query($a: ID, $p: ID) { all: commissions { totalCount } theirs: commissions(affiliateId: $a) { totalCount } byPartner: commissions(partnerId: $p) { totalCount } }',
      { a: theirs.id, p: partner.id }, mine.token);
    expect(scoped.data).toEqual({ all: { totalCount: 0 }, theirs: { totalCount: 0 }, byPartner: { totalCount: 0 } });
  });

  it('commission totals per status equal the sums of the commissions listed with that status; pagination walks each commission once', async () => {
    const instant = await planPartner(percent('0.1', 0));
    const held = await planPartner(percent('0.1', 30));
    const affiliate = await createAffiliate();
    const member = await referred(instant, affiliate);
    await enroll(hub, held, { email: member.email });
    const periodStart = await latestRunEnd();
    const toPay = await buy(instant, member, '12.34'); // 1.23 (1.234)
    await buy(instant, member, '45.65'); // 4.57 (4.565) → paid below
    await pause();
    const periodEnd = new Date();
    await pause();
    expect((await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin)).data.closeSettlementPeriod.userErrors).toEqual([]);
    await refund(instant, toPay, '6.17'); // a clawback after payment: -0.61 (1.234 → 0.617 → 0.62)
    await buy(instant, member, '8.88'); // 0.89 approved
    await buy(held, member, '19.99'); // 2.00 pending
    await buy(held, member, '7.77'); // 0.78 pending
    await refund(held, await buy(held, member, '33.33')); // 3.33 reversed
    const partial = await buy(held, member, '10.10'); // 1.01
    await refund(held, partial, '5.05'); // pending, reduced to 0.51 (0.505)

    const all = await myCommissions(affiliate);
    expect(all).toHaveLength(8);
    const totals = await totalsOf(affiliate);
    expect(totals).toEqual({ pending: '3.29', approved: '0.28', paid: '5.80', reversed: '3.33' });
    for (const status of ['PENDING', 'APPROVED', 'PAID', 'REVERSED'] as const) {
      // Walk the status's pages two at a time.
      const { nodes: listed, totalCount } = await walk<CommissionNode>(`query($after: String, $status: CommissionStatus) { myAffiliate { commissions(first: 2, after: $after, status: $status) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id status amount { amount } } } } } }`, { status }, affiliate.token, (d) => d.myAffiliate.commissions);
      expect(listed.every((n) => n.status === status)).toBe(true);
      expect(listed.map((n) => n.id)).toEqual(all.filter((n) => n.status === status).map((n) => n.id));
      expect(totalCount).toBe(listed.length);
      expect(money(listed.reduce((sum, n) => sum + minor(n.amount.amount), 0n))).toBe(totals[status.toLowerCase()]);
    }
    // Unfiltered, three at a time: the same commissions in the same order, each once.
    const walked = await walk<{ id: string }>('query($after: String) { myAffiliate { commissions(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }',
      {}, affiliate.token, (d) => d.myAffiliate.commissions);
    expect(walked).toMatchObject({ totalCount: 8, pages: 3 });
    expect(walked.nodes.map((n) => n.id)).toEqual(all.map((n) => n.id));
  });

  it('a partner sees the commissions it owes, not other partners\'; the operator filters by affiliate, partner and status', async () => {
    const grocer = await planPartner(percent('0.1', 0));
    const cinema = await planPartner(percent('0.1', 30));
    const ann = await createAffiliate();
    const bob = await createAffiliate();
    const m1 = await referred(grocer, ann);
    await enroll(hub, cinema, { email: m1.email });
    const m2 = await referred(grocer, bob);
    await enroll(hub, cinema, { email: m2.email });
    await buy(grocer, m1, '10.00'); // ann 1.00 approved
    await buy(cinema, m1, '20.00'); // ann 2.00 pending
    await buy(grocer, m2, '30.00'); // bob 3.00 approved
    await buy(cinema, m2, '40.00'); // bob 4.00 pending

    const asGrocer = await hub.gql(`{ myPartner { commissions(first: 100) { totalCount edges { node { affiliateId partner { id } amount { amount } status member } } } } }`, {}, grocer.token);
    expect(asGrocer.errors).toBeUndefined();
    expect(asGrocer.data.myPartner.commissions.totalCount).toBe(2);
    expect(asGrocer.data.myPartner.commissions.edges.map((e: { node: { affiliateId: string; partner: { id: string }; amount: { amount: string } } }) => [e.node.affiliateId, e.node.partner.id, e.node.amount.amount]))
      .toEqual([[bob.id, grocer.id, '3.00'], [ann.id, grocer.id, '1.00']]);
    // A partner reaching for another partner's commissions finds none.
    const reach = await hub.gql('query($p: ID) { commissions(partnerId: $p) { totalCount } }', { p: cinema.id }, grocer.token);
    expect(reach.data.commissions.totalCount).toBe(0);
    expect(errorCode(await hub.gql('query($id: ID!) { affiliate(id: $id) { id } }', { id: ann.id }, grocer.token))).toBe('FORBIDDEN');
    expect(errorCode(await hub.gql('{ myAffiliate { id } }', {}, grocer.token))).toBe('FORBIDDEN');
    expect(errorCode(await hub.gql('{ commissions { totalCount } }', {}, m1.token))).toBe('FORBIDDEN');

    const operator = async (args: Record<string, unknown>) => {
      const res = await hub.gql(`query($a: ID, $p: ID, $s: CommissionStatus) { commissions(affiliateId: $a, partnerId: $p, status: $s, first: 100) {
        totalCount edges { node { affiliateId partner { id } amount { amount } status } } } }`, args, hub.admin);
      expect(res.errors).toBeUndefined();
      return res.data.commissions.edges.map((e: { node: { affiliateId: string; partner: { id: string }; amount: { amount: string }; status: string } }) => [e.node.affiliateId, e.node.partner.id, e.node.amount.amount, e.node.status]);
    };
    expect(await operator({ a: ann.id })).toEqual([[ann.id, cinema.id, '2.00', 'PENDING'], [ann.id, grocer.id, '1.00', 'APPROVED']]);
    expect(await operator({ p: cinema.id })).toEqual([[bob.id, cinema.id, '4.00', 'PENDING'], [ann.id, cinema.id, '2.00', 'PENDING']]);
    expect(await operator({ a: bob.id, p: grocer.id })).toEqual([[bob.id, grocer.id, '3.00', 'APPROVED']]);
    expect(await operator({ a: bob.id, s: 'PENDING' })).toEqual([[bob.id, cinema.id, '4.00', 'PENDING']]);
    // The operator reads an affiliate's own view too.
    const viaAffiliate = await hub.gql('query($id: ID!) { affiliate(id: $id) { email referredMembers commissionTotals { pending { amount } approved { amount } } commissions { totalCount } } }', { id: ann.id }, hub.admin);
    expect(viaAffiliate.data.affiliate).toMatchObject({ referredMembers: 1, commissionTotals: { pending: { amount: '2.00' }, approved: { amount: '1.00' } }, commissions: { totalCount: 2 } });
  });
});

describe('an affiliate and settlement runs', () => {
  it('reads its own share of a run and downloads its own statement, not another party’s', async () => {
    const partner = await planPartner(percent('0.1', 0));
    const affiliate = await createAffiliate();
    const member = await referred(partner, affiliate);
    const periodStart = await latestRunEnd();
    await new Promise((r) => setTimeout(r, 5));
    await buy(partner, member, '25.00'); // 2.50, approved at once
    await new Promise((r) => setTimeout(r, 5));
    const periodEnd = new Date();
    const closed = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
    const runId = closed.data.closeSettlementPeriod.run.id;
    const own = await hub.gql(`query($id: ID!) { settlementRun(id: $id) { lines { kind payee { id } amount { amount } } positions { party { id } amount { amount } } } }`,
      { id: runId }, affiliate.token);
    expect(own.data.settlementRun.lines).toEqual([{ kind: 'COMMISSION', payee: { id: affiliate.id }, amount: { amount: '2.50' } }]);
    expect(own.data.settlementRun.positions).toEqual([{ party: { id: affiliate.id }, amount: { amount: '2.50' } }]);
    const csv = await hub.gql(`query($id: ID!, $p: ID!) { settlementRun(id: $id) { statementCsv(partyId: $p) } }`, { id: runId, p: affiliate.id }, affiliate.token);
    expect(csv.data.settlementRun.statementCsv.trim().split('\r\n').at(-1)).toBe(',,TOTAL,NET,,,,2.50');
    const other = await hub.gql(`query($id: ID!, $p: ID!) { settlementRun(id: $id) { statementCsv(partyId: $p) } }`, { id: runId, p: partner.id }, affiliate.token);
    expect(errorCode(other)).toBe('FORBIDDEN');
  });
});
