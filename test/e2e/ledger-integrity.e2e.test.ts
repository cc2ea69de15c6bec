import { Role } from '../../src/api/auth';
import { decodeTransactionId } from '../../src/common/ids';
import { TestHub, startTestHub } from '../support/hub';
import {
  TestMember, TestPartner, balanceOf, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, redeem, reverse, unique,
} from '../support/scenario';

/**
 * Program integrity, the ledger side (issue 9, items 1–3; docs/rules.md, Reversals, Taking points back,
 * Expiry, Available balance): refunds round on the running total (points and commissions); a
 * refund after expiry counts the expired part of its own lot as taken back; expired points are
 * never spent and never in `balance`, whether or not the expiry job has run.
 *
 * runExpiry works on the whole hub (this file's own): tests that make a lot due run it themselves.
 */
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const RUN_EXPIRY = 'mutation { runExpiry(input: {}) { expiredPoints expiredLots userErrors { code } } }';

async function memberOf(...partners: TestPartner[]): Promise<TestMember> {
  const email = `${unique('m')}@example.com`;
  const member = await enroll(hub, partners[0]!, { email });
  for (const p of partners.slice(1)) await enroll(hub, p, { email });
  return member;
}

/** Stands in for time passing: the lot of this transaction expired a minute ago. */
async function expiredAMinuteAgo(transactionId: string): Promise<void> {
  const { memberId, transactionId: id } = decodeTransactionId(transactionId)!;
  await hub.db.query(`UPDATE lot SET expires_at = now() - interval '1 minute' WHERE member_id = $1 AND transaction_id = $2`, [memberId, id]);
}

async function runExpiry(): Promise<{ expiredPoints: number; expiredLots: number }> {
  const res = await hub.gql(RUN_EXPIRY, {}, hub.admin);
  expect(res.data.runExpiry.userErrors).toEqual([]);
  return res.data.runExpiry;
}

const lotsOf = (member: TestMember) =>
  hub.db.query('SELECT issuer_id, points, remaining FROM lot WHERE member_id = $1 ORDER BY created_at, id', [member.id]) as Promise<{ issuer_id: string; points: number; remaining: number }[]>;
const obligationsOf = (member: TestMember) => hub.db.query('SELECT kind, payer_id, payee_id, points FROM obligation WHERE member_id = $1', [member.id]);

describe('refunds round on the running total (item 1)', () => {
  it('ten partial refunds of 0.99 on a 10.00 purchase that earned 10 points take back 9 in all; an 11th of the last 0.10 takes the last 1', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await memberOf(shop);
    await purchase(hub, shop, member, '50.00'); // other points, so nothing becomes debt
    const bought = await purchase(hub, shop, member, '10.00');
    expect(bought.transaction.points).toBe(10);
    const taken: number[] = [];
    for (let i = 0; i < 10; i++) {
      const refund = await reverse(hub, shop.token, bought.transaction.id, '0.99');
      expect(refund.userErrors).toEqual([]);
      taken.push(0 - refund.transaction.points);
    }
    // floor(10 × 0.99k / 10) − floor(10 × 0.99(k−1) / 10): 0, 1, 1, …, 1.
    expect(taken).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(taken.reduce((a, b) => a + b, 0)).toBe(9);
    expect(await balanceOf(hub, member)).toBe(51);

    const last = await reverse(hub, shop.token, bought.transaction.id, '0.10');
    expect(last.transaction.points).toBe(-1);
    expect(last.member.balance).toBe(50);
    expect((await reverse(hub, shop.token, bought.transaction.id, '0.01')).userErrors).toMatchObject([{ code: 'ALREADY_REVERSED' }]);
  });

  describe('commissions', () => {
    const PLAN = { type: 'PERCENT_OF_SALE', rate: '0.05', holdDays: 0 };
    async function setup(holdDays: number) {
      const code = unique('p');
      const created = await hub.gql('mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code message } } }',
        { input: { code, name: `Partner ${code}`, redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' }, commissionPlan: { ...PLAN, holdDays } } }, hub.admin);
      const partner: TestPartner = { id: created.data.createPartner.partner.id, code, token: hub.token({ role: Role.PARTNER, partnerId: created.data.createPartner.partner.id }) };
      const affiliate = await hub.gql('mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id code } userErrors { code } } }',
        { input: { name: unique('Affiliate '), email: `${unique('aff')}@example.com` } }, hub.admin);
      const member = await enroll(hub, partner, { affiliateCode: affiliate.data.createAffiliate.affiliate.code });
      await purchase(hub, partner, member, '100.00');
      const bought = await purchase(hub, partner, member, '10.10'); // 5 % of 10.10 = 0.505 → 0.51
      return { partner, member, bought };
    }
    const rowsOf = async (transactionId: string) => {
      const { memberId, transactionId: id } = decodeTransactionId(transactionId)!;
      return (await hub.db.query(`SELECT amount_minor::int AS amount, status, clawback_of IS NOT NULL AS clawback FROM commission
        WHERE member_id = $1 AND purchase_id = $2 ORDER BY created_at, id`, [memberId, id])) as { amount: number; status: string; clawback: boolean }[];
    };

    // 0.51 after refunds of 3.03, 6.06, 9.09 in all comes to 0.357 → 0.36, 0.204 → 0.20, 0.051 → 0.05 (half up, from the
    // original each time). Refund by refund, each 3.03 would take 0.153 → 0.15: 0.36, 0.21, 0.06, and 0.01 left at the end.
    it('after approval, refunds of 3.03, 3.03, 3.03 and 1.01 of a 10.10 purchase (commission 0.51) claw back 0.15, 0.16, 0.15, 0.05: the total is 0.36, 0.20, 0.05, 0.00', async () => {
      const { partner, bought } = await setup(0);
      for (const amount of ['3.03', '3.03', '3.03', '1.01']) expect((await reverse(hub, partner.token, bought.transaction.id, amount)).userErrors).toEqual([]);
      const rows = await rowsOf(bought.transaction.id);
      expect(rows.map((r) => r.amount)).toEqual([51, -15, -16, -15, -5]);
      expect(rows.reduce((sum, r) => sum + r.amount, 0)).toBe(0);
    });

    it('before approval, the same refunds reduce the commission to 0.36, 0.20, 0.05, then REVERSE it', async () => {
      const { partner, bought } = await setup(30);
      const seen: [number, string][] = [];
      for (const amount of ['3.03', '3.03', '3.03', '1.01']) {
        expect((await reverse(hub, partner.token, bought.transaction.id, amount)).userErrors).toEqual([]);
        const [row] = await rowsOf(bought.transaction.id);
        seen.push([row!.amount, row!.status]);
      }
      expect(seen).toEqual([[36, 'PENDING'], [20, 'PENDING'], [5, 'PENDING'], [5, 'REVERSED']]);
    });
  });
});

describe('a refund after expiry (item 2)', () => {
  async function setup() {
    const a = await createPartner(hub, { pointsPerUnit: '1' });
    const b = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await memberOf(a, b);
    const bought = await purchase(hub, a, member, '40.00');
    await purchase(hub, b, member, '30.00');
    return { a, b, member, bought };
  }

  it("partner A's 40 purchase points expired and the job has run: A's full refund leaves B's 30 points untouched, creates no obligation, and balance stays 30", async () => {
    const { a, b, member, bought } = await setup();
    await expiredAMinuteAgo(bought.transaction.id);
    expect(await runExpiry()).toMatchObject({ expiredPoints: 40, expiredLots: 1 });
    expect(await balanceOf(hub, member)).toBe(30);

    const refund = await reverse(hub, a.token, bought.transaction.id);
    expect(refund.userErrors).toEqual([]);
    expect(refund.transaction.points).toBe(-40);
    expect(refund.member).toMatchObject({ balance: 30, debt: 0 });
    expect(await lotsOf(member)).toEqual([{ issuer_id: a.id, points: 40, remaining: 0 }, { issuer_id: b.id, points: 30, remaining: 30 }]);
    expect(await obligationsOf(member)).toEqual([]);
    // The 40 expired points count as taken back: they come back from breakage to A in an EXPIRY of +40, listed before the refund.
    const history = await hub.gql('{ me { transactions(first: 3) { edges { node { type points } } } } }', {}, member.token);
    expect(history.data.me.transactions.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { type: 'REVERSAL', points: -40 }, { type: 'EXPIRY', points: 40 }, { type: 'EXPIRY', points: -40 }]);
    // Nothing is left to take back, nor to expire.
    expect((await reverse(hub, a.token, bought.transaction.id)).userErrors).toMatchObject([{ code: 'ALREADY_REVERSED' }]);
    expect(await runExpiry()).toMatchObject({ expiredPoints: 0 });
  });

  it('the same before the job has run: the refund takes the 40 from its own expired lot, B untouched, no obligation, and the job then expires nothing', async () => {
    const { a, b, member, bought } = await setup();
    await expiredAMinuteAgo(bought.transaction.id);
    expect(await balanceOf(hub, member)).toBe(30);
    const refund = await reverse(hub, a.token, bought.transaction.id);
    expect(refund.member).toMatchObject({ balance: 30, debt: 0 });
    expect(await lotsOf(member)).toEqual([{ issuer_id: a.id, points: 40, remaining: 0 }, { issuer_id: b.id, points: 30, remaining: 30 }]);
    expect(await obligationsOf(member)).toEqual([]);
    expect(await runExpiry()).toMatchObject({ expiredPoints: 0, expiredLots: 0 });
    expect(await balanceOf(hub, member)).toBe(30);
  });

  it('after 25 of the 40 were redeemed and 15 expired, a refund of the whole purchase counts the 15 and takes 25 from B as DEBT_RECOVERY', async () => {
    const { a, b, member, bought } = await setup();
    // 25 redeemed at A, from A's lot (it expires first: the B lot is newer with the same validity).
    expect((await redeem(hub, a, member, 25)).userErrors).toEqual([]);
    await expiredAMinuteAgo(bought.transaction.id);
    expect(await runExpiry()).toMatchObject({ expiredPoints: 15 });
    const refund = await reverse(hub, a.token, bought.transaction.id);
    expect(refund.member).toMatchObject({ balance: 5, debt: 0 });
    expect(await obligationsOf(member)).toEqual([{ kind: 'DEBT_RECOVERY', payer_id: b.id, payee_id: a.id, points: 25 }]);
  });

  it('half refunds of an expired purchase count the expired points twice over at most: 20 and 20 of the 40', async () => {
    const { a, member, bought } = await setup();
    await expiredAMinuteAgo(bought.transaction.id);
    expect(await runExpiry()).toMatchObject({ expiredPoints: 40 });
    for (let i = 0; i < 2; i++) {
      const refund = await reverse(hub, a.token, bought.transaction.id, '20.00');
      expect(refund.transaction.points).toBe(-20);
      expect(refund.member).toMatchObject({ balance: 30, debt: 0 });
    }
    expect(await obligationsOf(member)).toEqual([]);
  });
});

describe('expired points are never spent (item 3)', () => {
  it('a lot past expiry before the job runs: balance 30 not 70, redeeming 31 is INSUFFICIENT_POINTS, after runExpiry balance still 30 and 40 posted to breakage', async () => {
    const a = await createPartner(hub, { pointsPerUnit: '1' });
    const b = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await memberOf(a, b);
    const due = await purchase(hub, a, member, '40.00');
    await purchase(hub, b, member, '30.00');
    await expiredAMinuteAgo(due.transaction.id);

    expect(await balanceOf(hub, member)).toBe(30);
    const partnerView = await hub.gql('query($id: ID!) { member(id: $id) { balance } }', { id: member.id }, a.token);
    expect(partnerView.data.member.balance).toBe(30);
    const me = await hub.gql('{ me { expiringPoints(withinDays: 400) nextExpiry { points } } }', {}, member.token);
    expect(me.data.me).toEqual({ expiringPoints: 30, nextExpiry: { points: 30 } });

    const before = await ledgerRowCounts(hub);
    const refused = await redeem(hub, a, member, 31);
    expect(refused).toMatchObject({ transaction: null, userErrors: [{ code: 'INSUFFICIENT_POINTS' }] });
    expect(refused.userErrors[0].message).toMatch(/30 points/);
    expect(await ledgerRowCounts(hub)).toEqual(before);
    // A donation cannot take them either.
    const cause = await hub.gql('mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { id } } }', { input: { name: unique('Cause ') } }, hub.admin);
    const donation = await hub.gql('mutation($input: DonatePointsInput!) { donatePoints(input: $input) { userErrors { code } } }',
      { input: { idempotencyKey: unique('k'), causeId: cause.data.createCause.cause.id, points: 31 } }, member.token);
    expect(donation.data.donatePoints.userErrors).toMatchObject([{ code: 'INSUFFICIENT_POINTS' }]);
    expect(await ledgerRowCounts(hub)).toEqual(before);

    // The 30 available are spent from B's lot; the expired lot is untouched.
    const spent = await redeem(hub, a, member, 30);
    expect(spent.member.balance).toBe(0);
    expect((await lotsOf(member)).map((l) => l.remaining)).toEqual([40, 0]);
    expect(await obligationsOf(member)).toEqual([{ kind: 'REDEMPTION', payer_id: b.id, payee_id: a.id, points: 30 }]);

    expect(await runExpiry()).toMatchObject({ expiredPoints: 40, expiredLots: 1 });
    expect(await balanceOf(hub, member)).toBe(0);
    const breakage = await hub.db.query(`SELECT e.points::int AS points FROM ledger_entry e JOIN ledger_transaction t ON t.member_id = e.member_id AND t.id = e.transaction_id
      WHERE t.member_id = $1 AND t.type = 'EXPIRY' AND e.account_type = 'BREAKAGE'`, [member.id]);
    expect(breakage).toEqual([{ points: 40 }]);
  });

  it('a purchase posted while an older lot is past expiry answers the balance available now (10 + 30, not 80)', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await memberOf(shop);
    const old = await purchase(hub, shop, member, '40.00');
    await purchase(hub, shop, member, '30.00');
    await expiredAMinuteAgo(old.transaction.id);
    expect((await purchase(hub, shop, member, '10.00')).member.balance).toBe(40);
    expect(await runExpiry()).toMatchObject({ expiredPoints: 40 });
    expect(await balanceOf(hub, member)).toBe(40);
  });
});

describe('idempotency keys in a batch (item 21)', () => {
  it('recordPurchases: an item keyed " " is INVALID_INPUT on inputs.0.idempotencyKey and writes nothing; the item keyed with 255 characters is posted', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await memberOf(shop);
    const res = await hub.gql(`mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { transaction { points } userErrors { code field } } }`,
      { inputs: [{ idempotencyKey: ' ', memberId: member.id, amount: '10.00' }, { idempotencyKey: 'x'.repeat(255), memberId: member.id, amount: '20.00' },
        { idempotencyKey: 'x'.repeat(256), memberId: member.id, amount: '30.00' }] }, shop.token);
    expect(res.errors).toBeUndefined();
    expect(res.data.recordPurchases).toEqual([
      { transaction: null, userErrors: [{ code: 'INVALID_INPUT', field: ['inputs', '0', 'idempotencyKey'] }] },
      { transaction: { points: 20 }, userErrors: [] },
      { transaction: null, userErrors: [{ code: 'INVALID_INPUT', field: ['inputs', '2', 'idempotencyKey'] }] },
    ]);
    expect(await balanceOf(hub, member)).toBe(20);
  });
});
