import { Role } from '../../src/api/auth';
import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, createPartner, ledgerCheck, purchase, reverse } from '../support/scenario';

/**
 * Referral farming with partial refunds (docs/rules.md, Referrals): while a referral's bonuses are
 * pending, any refund that brings the qualifying purchase's net amount below the coalition's
 * `referral.minimumPurchase` (or its points to 0) cancels them and reopens the referral, exactly as
 * a full refund does; a partial refund that keeps the net at or above the minimum cancels nothing;
 * without a return window (pendingDays 0) the bonuses stay paid.
 *
 * Coalition: referee 100, referrer 200 (300 points per referral), minimumPurchase 10.00; the shop
 * earns 1 point per unit with a 14-day return window. Time passes as in pending-points.e2e: a
 * member's lots are moved that many days into the past (`passDays`).
 */
let hub: TestHub;
const REFERRAL = { refereeBonus: 100, referrerBonus: 200, milestones: [], minimumPurchase: '10.00' };

beforeAll(async () => {
  hub = await startTestHub();
  const res = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { coalition { name } userErrors { code message } } }`,
    { input: { name: 'City Rewards', currency: 'EUR', donationValuePerPoint: '0.01', referral: REFERRAL } }, hub.admin);
  expect(res.data.configureCoalition.userErrors).toEqual([]);
});
afterAll(() => hub.close());

afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

type Seen = { balance: number; debt: number; pendingPoints: number; pendingLots: { points: number }[] };
async function seen(member: TestMember): Promise<Seen> {
  const res = await hub.gql('{ me { balance debt pendingPoints pendingLots { points } } }', {}, member.token);
  expect(res.errors).toBeUndefined();
  const me = res.data.me as Seen;
  return { ...me, pendingLots: me.pendingLots.map((l) => ({ points: l.points })).sort((a, b) => a.points - b.points) };
}

async function passDays(member: TestMember, days: number): Promise<void> {
  await hub.db.query(`UPDATE lot SET available_at = available_at - make_interval(days => $2), expires_at = expires_at - make_interval(days => $2),
    created_at = created_at - make_interval(days => $2) WHERE member_id = $1`, [member.id, days]);
}

const ENROLL = 'mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id referralCode } userErrors { code message } } }';
async function enrollWith(partner: TestPartner, input: Record<string, unknown> = {}): Promise<TestMember & { referralCode: string }> {
  const res = await hub.gql(ENROLL, { input: { email: `${Math.random().toString(36).slice(2)}@example.com`, ...input } }, partner.token);
  expect(res.data.enrollMember.userErrors).toEqual([]);
  const { id, referralCode } = res.data.enrollMember.member;
  return { id, referralCode, memberCode: '', token: hub.token({ role: Role.MEMBER, memberId: id }) };
}
const referrals = async (member: TestMember) => (await hub.gql('{ me { referralStats { successfulReferrals } } }', {}, member.token)).data.me.referralStats.successfulReferrals;
const referralTransactions = (member: TestMember) => hub.db.query(
  `SELECT t.type, t.points FROM ledger_transaction t
   WHERE t.member_id = $1 AND (t.type = 'REFERRAL' OR (t.type = 'REVERSAL' AND t.caller = 'system')) ORDER BY t.id`, [member.id]);

async function referredPair(shop: TestPartner) {
  const ann = await enrollWith(shop);
  const bob = await enrollWith(shop, { referralCode: ann.referralCode });
  return { ann, bob };
}

describe('a partial refund of the qualifying purchase while the bonuses are pending', () => {
  it('10.00 then a refund of 9.99 (net 0.01 < 10.00) cancels both bonuses and reopens the referral; a later qualifying purchase rewards it again', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 14 });
    const { ann, bob } = await referredPair(shop);
    const first = await purchase(hub, shop, bob, '10.00');
    expect(first.userErrors).toEqual([]);
    expect(await seen(bob)).toEqual({ balance: 0, debt: 0, pendingPoints: 110, pendingLots: [{ points: 10 }, { points: 100 }] });
    expect(await seen(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 200, pendingLots: [{ points: 200 }] });
    expect(await referrals(ann)).toBe(1);

    await passDays(bob, 5);
    await passDays(ann, 5);
    const refund = await reverse(hub, shop.token, first.transaction.id, '9.99');
    expect(refund.userErrors).toEqual([]);
    expect(refund.transaction.points).toBe(-9); // floor(10 × 999 / 1000)
    expect(refund.member).toMatchObject({ balance: 0, debt: 0 });
    expect(await seen(bob)).toEqual({ balance: 0, debt: 0, pendingPoints: 1, pendingLots: [{ points: 1 }] });
    expect(await seen(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await referrals(ann)).toBe(0);
    expect(await referralTransactions(bob)).toEqual([{ type: 'REFERRAL', points: 100 }, { type: 'REVERSAL', points: -100 }]);
    expect(await referralTransactions(ann)).toEqual([{ type: 'REFERRAL', points: 200 }, { type: 'REVERSAL', points: -200 }]);

    // The window ends: only the purchase's last point becomes available, no bonus.
    await passDays(bob, 10);
    await passDays(ann, 10);
    expect(await seen(bob)).toEqual({ balance: 1, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await seen(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 0, pendingLots: [] });

    // The referral is open again: the next qualifying purchase rewards it (pending with it).
    await purchase(hub, shop, bob, '12.00');
    expect(await seen(bob)).toEqual({ balance: 1, debt: 0, pendingPoints: 112, pendingLots: [{ points: 12 }, { points: 100 }] });
    expect(await seen(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 200, pendingLots: [{ points: 200 }] });
    expect(await referrals(ann)).toBe(1);
  });

  it('a refund that keeps the net at the minimum (15.00 − 5.00) cancels nothing; the next refund of 0.01 brings it below and cancels', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 14 });
    const { ann, bob } = await referredPair(shop);
    const first = await purchase(hub, shop, bob, '15.00');
    expect(await seen(bob)).toMatchObject({ balance: 0, pendingPoints: 115 });

    const five = await reverse(hub, shop.token, first.transaction.id, '5.00');
    expect(five.userErrors).toEqual([]);
    expect(five.transaction.points).toBe(-5);
    expect(await seen(bob)).toEqual({ balance: 0, debt: 0, pendingPoints: 110, pendingLots: [{ points: 10 }, { points: 100 }] });
    expect(await seen(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 200, pendingLots: [{ points: 200 }] });
    expect(await referrals(ann)).toBe(1);
    expect(await referralTransactions(bob)).toEqual([{ type: 'REFERRAL', points: 100 }]);

    // Net 9.99: below the minimum, although this refund takes back no point (floor(15 × 501 / 1500) = 5 already taken).
    const cent = await reverse(hub, shop.token, first.transaction.id, '0.01');
    expect(cent.userErrors).toEqual([]);
    expect(cent.transaction.points).toBe(0);
    expect(await seen(bob)).toEqual({ balance: 0, debt: 0, pendingPoints: 10, pendingLots: [{ points: 10 }] });
    expect(await seen(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await referrals(ann)).toBe(0);
    expect(await referralTransactions(ann)).toEqual([{ type: 'REFERRAL', points: 200 }, { type: 'REVERSAL', points: -200 }]);

    // Refunding the rest later cancels nothing more (the referral was already cancelled).
    const rest = await reverse(hub, shop.token, first.transaction.id);
    expect(rest.transaction.points).toBe(-10);
    expect(await seen(bob)).toEqual({ balance: 0, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await referralTransactions(bob)).toEqual([{ type: 'REFERRAL', points: 100 }, { type: 'REVERSAL', points: -100 }]);
  });

  it('once the window has ended a partial refund below the minimum cancels nothing (the bonuses were no longer pending)', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 14 });
    const { ann, bob } = await referredPair(shop);
    const first = await purchase(hub, shop, bob, '10.00');
    await passDays(bob, 15);
    await passDays(ann, 15);
    expect((await reverse(hub, shop.token, first.transaction.id, '9.99')).transaction.points).toBe(-9);
    expect(await seen(bob)).toEqual({ balance: 101, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await seen(ann)).toEqual({ balance: 200, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await referrals(ann)).toBe(1);
  });

  it('without a return window (pendingDays 0) the bonuses stay paid after a refund below the minimum (documented)', async () => {
    const plain = await createPartner(hub, { pointsPerUnit: '1' });
    const { ann, bob } = await referredPair(plain);
    const first = await purchase(hub, plain, bob, '10.00');
    expect(await seen(bob)).toMatchObject({ balance: 110, pendingPoints: 0 });
    expect((await reverse(hub, plain.token, first.transaction.id, '9.99')).member).toMatchObject({ balance: 101, debt: 0 });
    expect(await seen(ann)).toEqual({ balance: 200, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await referrals(ann)).toBe(1);
  });
});

describe('concurrency', () => {
  it('two partial refunds at once, each keeping the net at the minimum alone (15.00 − 5.00 − 5.00): the second cancels the bonuses, once', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 14 });
    const { ann, bob } = await referredPair(shop);
    const first = await purchase(hub, shop, bob, '15.00');
    const results = await Promise.all([reverse(hub, shop.token, first.transaction.id, '5.00'), reverse(hub, shop.token, first.transaction.id, '5.00')]);
    expect(results.map((r) => r.userErrors)).toEqual([[], []]);
    expect(results.map((r) => r.transaction.points).sort()).toEqual([-5, -5]);
    expect(await seen(bob)).toEqual({ balance: 0, debt: 0, pendingPoints: 5, pendingLots: [{ points: 5 }] });
    expect(await seen(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await referrals(ann)).toBe(0);
    expect(await referralTransactions(bob)).toEqual([{ type: 'REFERRAL', points: 100 }, { type: 'REVERSAL', points: -100 }]);
    expect(await referralTransactions(ann)).toEqual([{ type: 'REFERRAL', points: 200 }, { type: 'REVERSAL', points: -200 }]);
  });
});
