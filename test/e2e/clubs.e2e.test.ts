import { Client } from 'pg';
import { ManualClock, systemClock, useClock } from '../../src/common/clock';
import { TestHub, startTestHub } from '../support/hub';
import { POSTING_FIELDS, TestMember, TestPartner, balanceOf, createPartner, enroll, ledgerCheck, purchase, unique } from '../support/scenario';

/**
 * Clubs in earning (docs/rules.md, Clubs): a membership's earn multiplier applies at the club
 * partner's purchases (a partner club) or at every partner (a coalition club), multiplied with the
 * tier's and the other clubs' and rounded down once, each club its own breakdown line; only
 * memberships active at the purchase's occurredAt count (an ended one does not, a renewal extends);
 * club-only promotions apply to members of their clubs; rewards restricted by tier and club.
 */
let hub: TestHub;
const DAY = 86_400_000;

beforeAll(async () => {
  hub = await startTestHub();
  const res = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { userErrors { code message } } }`,
    { input: { name: 'City Rewards', currency: 'EUR', donationValuePerPoint: '0.01', maxBackdateDays: 60,
      tiers: [{ name: 'Silver', qualifyingPoints: 100, earnMultiplier: '1.5' }] } }, hub.admin);
  expect(res.data.configureCoalition.userErrors).toEqual([]);
});
afterAll(() => hub.close());
afterEach(async () => {
  useClock(systemClock);
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const CREATE_CLUB = `mutation($input: CreateClubInput!) { createClub(input: $input) { club { id name earnMultiplier } userErrors { code message field } } }`;
const GRANT = `mutation($input: GrantClubMembershipInput!) { grantClubMembership(input: $input) {
  membership { club { id } expiresAt source paidAmount { amount currency } } member { id balance } userErrors { code message field } } }`;
const QUOTE = `query($input: RecordPurchaseInput!) { quotePurchase(input: $input) { points breakdown { rule points detail } } }`;

async function createClub(token: string, input: Record<string, unknown>): Promise<{ id: string; name: string }> {
  const res = await hub.gql(CREATE_CLUB, { input: { name: unique('Club '), membershipDays: 30, ...input } }, token);
  expect(res.data.createClub.userErrors).toEqual([]);
  return res.data.createClub.club;
}

async function grant(token: string, member: TestMember, club: { id: string }, paidAmount = '49.00') {
  const res = await hub.gql(GRANT, { input: { idempotencyKey: unique('g'), memberId: member.id, clubId: club.id, paidAmount } }, token);
  expect(res.data.grantClubMembership.userErrors).toEqual([]);
  return res.data.grantClubMembership;
}

/** Runs `work` with the hub's clock set to `at` (grants read it), then back to the system clock. */
async function at<T>(when: Date, work: () => Promise<T>): Promise<T> {
  useClock(new ManualClock(when));
  try {
    return await work();
  } finally {
    useClock(systemClock);
  }
}

const rules = (p: { transaction: { breakdown: { rule: string; points: number }[] } }) => p.transaction.breakdown.map((b) => [b.rule, b.points]);
/** The member's newest lot (ids on the API are opaque). */
const newestLot = async (member: TestMember) => (await hub.db.query('SELECT points, remaining FROM lot WHERE member_id = $1 ORDER BY id DESC LIMIT 1', [member.id]))[0];
const clubsOf = async (member: TestMember) => (await hub.gql('{ me { clubs { club { id } expiresAt } } }', {}, member.token)).data.me.clubs;

describe('the club multiplier in earning', () => {
  // First in the file on purpose: no coalition club exists yet, so the first purchase reads no memberships at all.
  it('a paid partner club ×2 doubles the next purchase at its partner only, as its own breakdown line (quote too); the memberships ride a load the purchase makes anyway', async () => {
    const shop = await createPartner(hub);
    const other = await createPartner(hub);
    const email = `${unique('m')}@example.com`;
    const member = await enroll(hub, shop, { email });
    await enroll(hub, other, { email });
    const statements = async (p: TestPartner, amount: string) => {
      const spy = jest.spyOn(Client.prototype, 'query');
      try {
        const res = await purchase(hub, p, member, amount);
        expect(res.userErrors).toEqual([]);
        return { res, statements: spy.mock.calls.length };
      } finally {
        spy.mockRestore();
      }
    };
    await statements(shop, '1.00'); // prepares the statements on a connection
    const before = await statements(shop, '10.00');
    expect(before.res.transaction.points).toBe(10);

    const club = await createClub(shop.token, { name: 'Sneakers Club', earnMultiplier: '2' });
    const granted = await grant(shop.token, member, club);
    expect(granted.membership).toMatchObject({ club: { id: club.id }, source: 'PAID', paidAmount: { amount: '49.00', currency: 'EUR' } });
    // Bought with money: no points move.
    expect(granted.member.balance).toBe(11);

    const quote = await hub.gql(QUOTE, { input: { idempotencyKey: unique('q'), memberId: member.id, amount: '10.00' } }, shop.token);
    expect(quote.data.quotePurchase).toEqual({ points: 20, breakdown: [
      { rule: 'BASE', points: 10, detail: '10 × 1 points per unit = 10, rounded down' },
      { rule: 'CLUB_MULTIPLIER', points: 10, detail: 'club Sneakers Club × 2: 10 × 2 = 20, rounded down' },
    ] });
    const after = await statements(shop, '10.00');
    expect(after.res.transaction.points).toBe(20);
    expect(rules(after.res)).toEqual([['BASE', 10], ['CLUB_MULTIPLIER', 10]]);
    expect(await newestLot(member)).toEqual({ points: 20, remaining: 20 });
    // The coalition has tiers, so every purchase reads its qualifying points after the lock: the memberships come in that statement.
    expect(after.statements).toBe(before.statements);

    const elsewhere = await purchase(hub, other, member, '10.00');
    expect(elsewhere.transaction.points).toBe(10);
    expect(rules(elsewhere)).toEqual([['BASE', 10]]);
    expect(await balanceOf(hub, member)).toBe(1 + 10 + 20 + 10);
    expect(await clubsOf(member)).toEqual([{ club: { id: club.id }, expiresAt: granted.membership.expiresAt }]);
  });

  it('a coalition club (the operator’s) ×1.5 counts at every partner', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    const email = `${unique('m')}@example.com`;
    const member = await enroll(hub, a, { email });
    await enroll(hub, b, { email });
    const club = await createClub(hub.admin, { name: unique('Coalition VIP '), earnMultiplier: '1.5' });
    await grant(hub.admin, member, club, '99.00');
    for (const p of [a, b]) {
      const res = await purchase(hub, p, member, '10.00');
      expect(res.transaction.points).toBe(15);
      expect(rules(res)).toEqual([['BASE', 10], ['CLUB_MULTIPLIER', 5]]);
    }
    // Another member, no club: 10.
    const plain = await enroll(hub, a);
    expect((await purchase(hub, a, plain, '10.00')).transaction.points).toBe(10);
  });

  it('tier × clubs multiply on the exact amount, rounded down once: 3.33 × Silver 1.5 × 1.5 × 2 = 14.985 → 14 (not 12 rounding each step)', async () => {
    const shop = await createPartner(hub);
    const member = await enroll(hub, shop);
    expect((await purchase(hub, shop, member, '100.00')).transaction.points).toBe(100); // qualifies for Silver
    const suffix = unique('');
    const sneakers = await createClub(shop.token, { name: `A Sneakers ${suffix}`, earnMultiplier: '1.5' });
    const vip = await createClub(hub.admin, { name: `B VIP ${suffix}`, earnMultiplier: '2' });
    await grant(shop.token, member, sneakers);
    await grant(hub.admin, member, vip);
    const res = await purchase(hub, shop, member, '3.33');
    expect(res.userErrors).toEqual([]);
    // BASE 3.33 × 1.5 (Silver) = 4.995 → 4; × 1.5 = 7.4925 → 7 (+3); × 2 = 14.985 → 14 (+7).
    expect(rules(res)).toEqual([['BASE', 4], ['CLUB_MULTIPLIER', 3], ['CLUB_MULTIPLIER', 7]]);
    expect(res.transaction.points).toBe(14);
    expect(res.transaction.breakdown[0].detail).toContain('tier Silver 1.5');
    expect(res.transaction.breakdown[1].detail).toBe(`club A Sneakers ${suffix} × 1.5: 4.995 × 1.5 = 7.4925, rounded down`);
    expect(res.transaction.breakdown[2].detail).toBe(`club B VIP ${suffix} × 2: 7.4925 × 2 = 14.985, rounded down`);
    expect(res.member.balance).toBe(114);
    expect(await newestLot(member)).toEqual({ points: 14, remaining: 14 });
  });

  it('only a membership active at the purchase time counts: ended no longer; a purchase backdated into its period does; one before it does not; joining again counts from then', async () => {
    const shop = await createPartner(hub);
    const member = await enroll(hub, shop);
    const club = await createClub(shop.token, { earnMultiplier: '2' });
    const now = Date.now();
    // Granted 40 days ago for 30 days: ended 10 days ago.
    const granted = await at(new Date(now - 40 * DAY), () => grant(shop.token, member, club));
    expect(Date.parse(granted.membership.expiresAt)).toBe(now - 10 * DAY);
    expect(await clubsOf(member)).toEqual([]);
    expect((await purchase(hub, shop, member, '10.00')).transaction.points).toBe(10);
    const inside = await purchase(hub, shop, member, '10.00', { occurredAt: new Date(now - 20 * DAY).toISOString() });
    expect(rules(inside)).toEqual([['BASE', 10], ['CLUB_MULTIPLIER', 10]]);
    const beforeGrant = await purchase(hub, shop, member, '10.00', { occurredAt: new Date(now - 45 * DAY).toISOString() });
    expect(rules(beforeGrant)).toEqual([['BASE', 10]]);
    const justAfterEnd = await purchase(hub, shop, member, '10.00', { occurredAt: new Date(now - 10 * DAY).toISOString() });
    expect(justAfterEnd.transaction.points).toBe(10); // expiresAt is exclusive

    const again = await grant(shop.token, member, club);
    expect(Date.parse(again.membership.expiresAt)).toBeGreaterThan(Date.now() + 29 * DAY);
    expect((await purchase(hub, shop, member, '10.00')).transaction.points).toBe(20);
    expect(await balanceOf(hub, member)).toBe(10 + 20 + 10 + 10 + 20);
  });

  it('renewal extends: joined 40 days ago for 30 days and renewed the same day, the second period runs to 20 days ahead and today’s purchase counts', async () => {
    const shop = await createPartner(hub);
    const member = await enroll(hub, shop);
    const club = await createClub(shop.token, { earnMultiplier: '3' });
    const now = Date.now();
    const renewed = await at(new Date(now - 40 * DAY), async () => {
      await grant(shop.token, member, club);
      return grant(shop.token, member, club);
    });
    expect(Date.parse(renewed.membership.expiresAt)).toBe(now + 20 * DAY);
    expect(await clubsOf(member)).toEqual([{ club: { id: club.id }, expiresAt: renewed.membership.expiresAt }]);
    const res = await purchase(hub, shop, member, '10.00');
    expect(rules(res)).toEqual([['BASE', 10], ['CLUB_MULTIPLIER', 20]]);
    // And a purchase backdated into the first period counts as well (the periods join up).
    const first = await purchase(hub, shop, member, '10.00', { occurredAt: new Date(now - 15 * DAY).toISOString() });
    expect(first.transaction.points).toBe(30);
  });

  it('a refund takes back what the purchase earned with its club, pro rata, also once the membership has ended', async () => {
    const shop = await createPartner(hub);
    const member = await enroll(hub, shop);
    const club = await createClub(shop.token, { earnMultiplier: '2' });
    const now = Date.now();
    await at(new Date(now - 40 * DAY), () => grant(shop.token, member, club));
    // Earned 40 inside the (now ended) membership; the member holds 40 + 10.
    const earned = await purchase(hub, shop, member, '20.00', { occurredAt: new Date(now - 20 * DAY).toISOString() });
    expect(earned.transaction.points).toBe(40);
    await purchase(hub, shop, member, '10.00');
    const refund = await hub.gql(`mutation($input: ReverseTransactionInput!) { reverseTransaction(input: $input) { ${POSTING_FIELDS} } }`,
      { input: { idempotencyKey: unique('r'), transactionId: earned.transaction.id, amount: '5.00' } }, shop.token);
    expect(refund.data.reverseTransaction.userErrors).toEqual([]);
    expect(refund.data.reverseTransaction.transaction.points).toBe(-10);
    expect(refund.data.reverseTransaction.member.balance).toBe(40);
  });

  it('a batch judges each purchase at its own occurredAt: of one member’s three purchases, only the one inside the membership counts the club', async () => {
    const shop = await createPartner(hub);
    const member = await enroll(hub, shop);
    const club = await createClub(shop.token, { earnMultiplier: '2' });
    const now = Date.now();
    await at(new Date(now - 40 * DAY), () => grant(shop.token, member, club));
    const res = await hub.gql(`mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { ${POSTING_FIELDS} } }`, { inputs: [
      { idempotencyKey: unique('b'), memberId: member.id, amount: '10.00', occurredAt: new Date(now - 50 * DAY).toISOString() },
      { idempotencyKey: unique('b'), memberId: member.id, amount: '10.00', occurredAt: new Date(now - 30 * DAY).toISOString() },
      { idempotencyKey: unique('b'), memberId: member.id, amount: '10.00' },
    ] }, shop.token);
    expect(res.data.recordPurchases.map((p: { transaction: { points: number } }) => p.transaction.points)).toEqual([10, 20, 10]);
    expect(await balanceOf(hub, member)).toBe(40);
  });
});

describe('club-only promotions', () => {
  it('a promotion restricted to a club applies to its members only (×3 and 5 bonus points), and not once the membership has ended', async () => {
    const shop = await createPartner(hub);
    // ×1: an early-access club, no multiplier of its own.
    const club = await createClub(shop.token, { earnMultiplier: '1' });
    const now = Date.now();
    const res = await hub.gql('mutation($input: CreatePromotionInput!) { createPromotion(input: $input) { promotion { id clubs } userErrors { code field } } }',
      { input: { partnerId: shop.id, name: 'Members triple', multiplier: '3', bonusPoints: 5, clubs: [club.id],
        startsAt: new Date(now - 60 * DAY).toISOString(), endsAt: new Date(now + DAY).toISOString() } }, hub.admin);
    expect(res.data.createPromotion.userErrors).toEqual([]);
    const inClub = await enroll(hub, shop);
    const outside = await enroll(hub, shop);
    const lapsed = await enroll(hub, shop);
    await grant(shop.token, inClub, club, '0');
    await at(new Date(now - 40 * DAY), () => grant(shop.token, lapsed, club, '0'));

    const member = await purchase(hub, shop, inClub, '10.00');
    expect(member.transaction.points).toBe(35);
    expect(rules(member)).toEqual([['BASE', 30], ['PROMOTION_BONUS', 5]]);
    expect(member.transaction.breakdown[0].detail).toContain('Members triple 3');
    const quote = await hub.gql(QUOTE, { input: { idempotencyKey: unique('q'), memberId: outside.id, amount: '10.00' } }, shop.token);
    expect(quote.data.quotePurchase.points).toBe(10);
    expect(rules(await purchase(hub, shop, outside, '10.00'))).toEqual([['BASE', 10]]);
    expect(rules(await purchase(hub, shop, lapsed, '10.00'))).toEqual([['BASE', 10]]);
    // Backdated into the lapsed member's period, the promotion applies.
    expect((await purchase(hub, shop, lapsed, '10.00', { occurredAt: new Date(now - 35 * DAY).toISOString() })).transaction.points).toBe(35);
  });
});

describe('rewards by tier and by club', () => {
  const REWARDS = `query { rewards(eligibleOnly: true, first: 100) { edges { node { id } } } }`;
  const NEXT = `{ me { balance nextReward { reward { id } pointsNeeded } } }`;

  it('eligibleOnly and nextReward follow the member’s tier and its active clubs', async () => {
    const shop = await createPartner(hub);
    const club = await createClub(shop.token, { earnMultiplier: '1' });
    const create = async (input: Record<string, unknown>) => {
      const res = await hub.gql('mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code message } } }',
        { input: { name: unique('Reward '), ...input } }, shop.token);
      expect(res.data.createReward.userErrors).toEqual([]);
      return res.data.createReward.reward.id as string;
    };
    const clubReward = await create({ pointsPrice: 20, clubs: [club.id] });
    const clubNext = await create({ pointsPrice: 300, clubs: [club.id] });
    const silverReward = await create({ pointsPrice: 30, tiers: ['Silver'] });
    const open = await create({ pointsPrice: 400 });
    const member = await enroll(hub, shop);
    await purchase(hub, shop, member, '50.00');
    const eligible = async () => (await hub.gql(REWARDS, {}, member.token)).data.rewards.edges.map((e: { node: { id: string } }) => e.node.id)
      .filter((id: string) => [clubReward, clubNext, silverReward, open].includes(id)).sort();
    const next = async () => (await hub.gql(NEXT, {}, member.token)).data.me.nextReward;

    expect(await eligible()).toEqual([]);
    expect(await next()).toEqual({ reward: { id: open }, pointsNeeded: 350 });
    // An ended membership does not make it eligible.
    await at(new Date(Date.now() - 40 * DAY), () => grant(shop.token, member, club));
    expect(await eligible()).toEqual([]);
    await grant(shop.token, member, club);
    expect(await eligible()).toEqual([clubReward]);
    expect(await next()).toEqual({ reward: { id: clubNext }, pointsNeeded: 250 });
    await purchase(hub, shop, member, '60.00'); // 110 qualifying points: Silver
    expect(await eligible()).toEqual([clubReward, silverReward].sort());
    expect(await next()).toEqual({ reward: { id: clubNext }, pointsNeeded: 190 });
  });
});

const CLAIM = `mutation($input: ClaimRewardInput!) { claimReward(input: $input) {
  voucher { code state } membership { club { id } expiresAt source } transaction { type points } member { balance } userErrors { code message field } } }`;

async function createReward(token: string, input: Record<string, unknown>): Promise<string> {
  const res = await hub.gql('mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code message } } }',
    { input: { name: unique('Reward '), ...input } }, token);
  expect(res.data.createReward.userErrors).toEqual([]);
  return res.data.createReward.reward.id;
}

async function claim(member: TestMember, rewardId: string) {
  const res = await hub.gql(CLAIM, { input: { idempotencyKey: unique('c'), rewardId } }, member.token);
  expect(res.errors).toBeUndefined();
  expect(res.data.claimReward.userErrors).toEqual([]);
  return res.data.claimReward;
}

describe('a club bought with points', () => {
  it('claiming a MEMBERSHIP reward (50 points) joins the ×2 club: the next purchase at its partner earns double, as its own line', async () => {
    const shop = await createPartner(hub);
    const club = await createClub(shop.token, { name: unique('Sneakers '), earnMultiplier: '2' });
    const reward = await createReward(shop.token, { kind: 'MEMBERSHIP', clubId: club.id, pointsPrice: 50 });
    const member = await enroll(hub, shop);
    expect((await purchase(hub, shop, member, '60.00')).transaction.points).toBe(60);
    const claimed = await claim(member, reward);
    expect(claimed.transaction).toEqual({ type: 'REWARD', points: -50 });
    expect(claimed.membership).toMatchObject({ club: { id: club.id }, source: 'POINTS' });
    expect(claimed.member.balance).toBe(10);
    const res = await purchase(hub, shop, member, '10.00');
    expect(rules(res)).toEqual([['BASE', 10], ['CLUB_MULTIPLIER', 10]]);
    expect(res.member.balance).toBe(30);
    expect(await clubsOf(member)).toEqual([{ club: { id: club.id }, expiresAt: claimed.membership.expiresAt }]);
  });
});

describe('reports: reward claims count like redemptions', () => {
  const STATS = `query($s: DateTime!, $e: DateTime!) { myPartner { stats(periodStart: $s, periodEnd: $e) {
    activeMembers pointsIssued pointsRedeemed redemptionRate rewardClaims pointsClaimed vouchersRedeemed outstandingVouchers } } }`;
  const LIABILITIES = '{ liabilities { issuer { id } points } }';
  const totalLiability = async () => (await hub.gql(LIABILITIES, {}, hub.admin)).data.liabilities
    .reduce((sum: number, l: { points: number | string }) => sum + Number(l.points), 0);

  it('a partner sees claims, redeemed and outstanding vouchers of its rewards; pointsRedeemed and activity include claims net of returns; liabilities drop by what claims consume', async () => {
    const shop = await createPartner(hub);
    const other = await createPartner(hub);
    const email1 = `${unique('m')}@example.com`;
    const email2 = `${unique('m')}@example.com`;
    const buyer = await enroll(hub, shop, { email: email1 });
    await enroll(hub, other, { email: email1 });
    const claimer = await enroll(hub, other, { email: email2 });
    await enroll(hub, shop, { email: email2 });
    await purchase(hub, shop, buyer, '50.00');
    await purchase(hub, other, buyer, '90.00');
    await purchase(hub, other, claimer, '90.00');
    const voucherReward = await createReward(shop.token, { pointsPrice: 40 });
    const before = await totalLiability();

    const claims = [await claim(buyer, voucherReward), await claim(buyer, voucherReward), await claim(buyer, voucherReward), await claim(claimer, voucherReward)];
    expect(claims.map((c) => c.voucher.state)).toEqual(['ISSUED', 'ISSUED', 'ISSUED', 'ISSUED']);
    expect(await totalLiability()).toBe(before - 160);
    const redeemed = await hub.gql('mutation($input: RedeemVoucherInput!) { redeemVoucher(input: $input) { voucher { state } userErrors { code } } }',
      { input: { code: claims[0].voucher.code } }, shop.token);
    expect(redeemed.data.redeemVoucher).toEqual({ voucher: { state: 'REDEEMED' }, userErrors: [] });
    const voided = await hub.gql('mutation($input: VoidVoucherInput!) { voidVoucher(input: $input) { voucher { state } userErrors { code } } }',
      { input: { idempotencyKey: unique('v'), code: claims[1].voucher.code } }, buyer.token);
    expect(voided.data.voidVoucher).toEqual({ voucher: { state: 'VOIDED' }, userErrors: [] });
    // A voided voucher gives its points back: the liability grows by them again.
    expect(await totalLiability()).toBe(before - 120);
    const plain = await hub.gql('mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { userErrors { code } } }',
      { input: { idempotencyKey: unique('r'), memberId: buyer.id, points: 5 } }, shop.token);
    expect(plain.data.redeemPoints.userErrors).toEqual([]);

    const period = { s: new Date(Date.now() - DAY).toISOString(), e: new Date(Date.now() + DAY).toISOString() };
    const stats = (await hub.gql(STATS, period, shop.token)).data.myPartner.stats;
    expect(stats).toEqual({
      // the buyer purchased at the shop; the claimer only claimed the shop's reward, and counts too
      activeMembers: 2, pointsIssued: 50,
      // 5 redeemed + 4 claims × 40 − 40 returned by the void
      pointsRedeemed: 125, redemptionRate: '2.5', rewardClaims: 4, pointsClaimed: 120,
      vouchersRedeemed: 1, outstandingVouchers: 2,
    });
    const otherStats = (await hub.gql(STATS, period, other.token)).data.myPartner.stats;
    expect(otherStats).toMatchObject({ activeMembers: 2, pointsRedeemed: 0, rewardClaims: 0, pointsClaimed: 0, vouchersRedeemed: 0, outstandingVouchers: 0 });
  });
});
