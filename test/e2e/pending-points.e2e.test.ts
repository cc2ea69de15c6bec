import { Role } from '../../src/api/auth';
import { decodeTransactionId } from '../../src/common/ids';
import { TestHub, startTestHub } from '../support/hub';
import {
  POSTING_FIELDS, TestMember, TestPartner, balanceOf, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, redeem, reverse, unique,
} from '../support/scenario';

/**
 * Pending points (issue 13, items 1–2; docs/rules.md, Lots, Expiry and available balance,
 * Referrals): a partner's `pendingDays` keeps a purchase's points pending until the later of
 * occurredAt and the posting plus that many days; pending points are never spent, not in `balance`,
 * shown in `pendingPoints` / `pendingLots`; a refund inside the window takes them back from the
 * pending lot (no debt, no obligation); a new lot pays debt first even while pending; expiry counts
 * from availability; referral bonuses are pending with their purchase and a full refund inside the
 * window cancels them and the referral.
 *
 * How time passes here: postings take their time from the server's clock and balance reads judge
 * availability against the database's now(), so, as the expiry tests do with expires_at, a test
 * "lets days pass" by moving a member's lots that many days into the past (available_at, expires_at
 * and created_at together: `passDays`). Reading just before and just after availableAt moves the
 * lot's availableAt to a few seconds from now and reads on both sides of it in real time.
 */
let hub: TestHub;
const DAY_MS = 86_400_000;
const REFERRAL = { refereeBonus: 50, referrerBonus: 100, milestones: [{ referrals: 2, bonus: 200 }] };

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

const PENDING = 'balance debt pendingPoints pendingLots { points availableAt }';
const QUOTE = 'query($input: RecordPurchaseInput!) { quotePurchase(input: $input) { points availableAt userErrors { code message field } } }';

async function pendingOf(member: TestMember): Promise<{ balance: number; debt: number; pendingPoints: number; pendingLots: { points: number; availableAt: string }[] }> {
  const res = await hub.gql(`{ me { ${PENDING} } }`, {}, member.token);
  expect(res.errors).toBeUndefined();
  return res.data.me;
}

/** Stands in for `days` passing for this member: its lots' times move that many days into the past. */
async function passDays(member: TestMember, days: number): Promise<void> {
  await hub.db.query(`UPDATE lot SET available_at = available_at - make_interval(days => $2), expires_at = expires_at - make_interval(days => $2),
    created_at = created_at - make_interval(days => $2) WHERE member_id = $1`, [member.id, days]);
}

const obligationsOf = (member: TestMember) => hub.db.query('SELECT kind, payer_id, payee_id, points FROM obligation WHERE member_id = $1 ORDER BY posted_at', [member.id]);
const debtsOf = (member: TestMember) => hub.db.query('SELECT points, remaining FROM member_debt WHERE member_id = $1', [member.id]);
const lotOf = async (transactionId: string) => {
  const { memberId, transactionId: id } = decodeTransactionId(transactionId)!;
  const [lot] = await hub.db.query('SELECT points, remaining, available_at, expires_at, created_at FROM lot WHERE member_id = $1 AND transaction_id = $2', [memberId, id]);
  return lot as { points: number; remaining: number; available_at: Date | null; expires_at: Date; created_at: Date };
};

async function memberAt(...partners: TestPartner[]): Promise<TestMember> {
  const email = `${unique('m')}@example.com`;
  const member = await enroll(hub, partners[0]!, { email });
  for (const p of partners.slice(1)) await enroll(hub, p, { email });
  return member;
}

describe('the earn rule', () => {
  it('pendingDays is 0 to 365, default 0, shown on the rule; out of range is INVALID_INPUT and writes nothing', async () => {
    const plain = await hub.gql('query($id: ID!) { partner(id: $id) { earnRule { pendingDays } } }', { id: (await createPartner(hub, { pointsPerUnit: '1' })).id }, hub.admin);
    expect(plain.data.partner.earnRule.pendingDays).toBe(0);
    const before = await ledgerRowCounts(hub);
    for (const pendingDays of [-1, 366]) {
      const res = await hub.gql('mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code message field } } }',
        { input: { code: unique('p'), name: 'Returns', redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1', pendingDays } } }, hub.admin);
      expect(res.data.createPartner).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', message: 'pendingDays must be a whole number from 0 to 365', field: ['input', 'earnRule', 'pendingDays'] }] });
    }
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it('a change of pendingDays applies to purchases posted after it', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await memberAt(shop);
    await purchase(hub, shop, member, '10.00');
    const changed = await hub.gql('mutation($input: UpdateEarnRuleInput!) { updateEarnRule(input: $input) { partner { earnRule { pendingDays } } userErrors { code } } }',
      { input: { partnerId: shop.id, earnRule: { pointsPerUnit: '1', pendingDays: 14 } } }, hub.admin);
    expect(changed.data.updateEarnRule).toEqual({ partner: { earnRule: { pendingDays: 14 } }, userErrors: [] });
    const after = await purchase(hub, shop, member, '20.00');
    expect(after.member).toMatchObject({ balance: 10 });
    expect(await pendingOf(member)).toMatchObject({ balance: 10, pendingPoints: 20 });
  });
});

describe('pending purchase points', () => {
  it('are not in balance, shown in pendingPoints and pendingLots, available max(occurredAt, postedAt) + pendingDays; a backdated purchase waits from its posting', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const member = await memberAt(shop);
    const t0 = Date.now();
    const bought = await purchase(hub, shop, member, '100.00');
    const backdated = await purchase(hub, shop, member, '40.00', { occurredAt: new Date(t0 - 20 * DAY_MS).toISOString() });
    const t1 = Date.now();
    expect(bought.userErrors).toEqual([]);
    expect(bought.transaction.points).toBe(100);
    expect(bought.member.balance).toBe(0); // what the posting returns is what can be spent now
    expect(backdated.member.balance).toBe(0);
    const seen = await pendingOf(member);
    expect(seen).toMatchObject({ balance: 0, debt: 0, pendingPoints: 140 });
    expect(seen.pendingLots.map((l) => l.points)).toEqual([100, 40]);
    for (const [lot, tx] of [[seen.pendingLots[0]!, bought], [seen.pendingLots[1]!, backdated]] as const) {
      const at = new Date(lot.availableAt).getTime();
      expect(at).toBeGreaterThanOrEqual(t0 + 30 * DAY_MS);
      expect(at).toBeLessThanOrEqual(t1 + 30 * DAY_MS);
      expect(at).toBe(new Date(tx.transaction.postedAt).getTime() + 30 * DAY_MS);
    }
    // A partner sees the same figures for its linked member.
    const asPartner = await hub.gql(`query($id: ID!) { member(id: $id) { ${PENDING} } }`, { id: member.id }, shop.token);
    expect(asPartner.data.member).toEqual(seen);
  });

  it('a balance read just before availableAt shows them pending, one just after shows them available (no job runs)', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const member = await memberAt(shop);
    await purchase(hub, shop, member, '25.00');
    // The window ends 3 s from now: read on each side of it.
    await hub.db.query(`UPDATE lot SET available_at = date_trunc('milliseconds', clock_timestamp()) + interval '3 seconds' WHERE member_id = $1`, [member.id]);
    const [{ available_at: availableAt }] = (await hub.db.query('SELECT available_at FROM lot WHERE member_id = $1', [member.id])) as { available_at: Date }[];
    const before = await pendingOf(member);
    expect(Date.now()).toBeLessThan(availableAt.getTime());
    expect(before).toEqual({ balance: 0, debt: 0, pendingPoints: 25, pendingLots: [{ points: 25, availableAt: availableAt.toISOString() }] });
    while (Date.now() <= availableAt.getTime()) await new Promise((resolve) => setTimeout(resolve, Math.max(1, availableAt.getTime() + 1 - Date.now())));
    expect(await pendingOf(member)).toEqual({ balance: 25, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect((await redeem(hub, shop, member, 25)).userErrors).toEqual([]);
    expect(await balanceOf(hub, member)).toBe(0);
  });

  it('cannot be redeemed or donated (also not by an automatic donation); what is available can; a refused request writes nothing', async () => {
    const plain = await createPartner(hub, { pointsPerUnit: '1' });
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const member = await memberAt(plain, shop);
    await purchase(hub, plain, member, '20.00');
    const cause = await hub.gql('mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { id } userErrors { code } } }', { input: { name: unique('Cause ') } }, hub.admin);
    const causeId = cause.data.createCause.cause.id;
    const auto = await hub.gql('mutation($input: SetAutoDonationInput!) { setAutoDonation(input: $input) { userErrors { code } } }', { input: { causeId, percent: 50 } }, member.token);
    expect(auto.data.setAutoDonation.userErrors).toEqual([]);
    await purchase(hub, shop, member, '100.00');
    // The automatic donation of a pending purchase is skipped: pending points are never spent, and a donation is final.
    expect(await hub.db.query(`SELECT count(*)::int AS n FROM ledger_transaction WHERE member_id = $1 AND type = 'DONATION'`, [member.id])).toEqual([{ n: 0 }]);
    expect(await pendingOf(member)).toMatchObject({ balance: 20, pendingPoints: 100 });

    const before = await ledgerRowCounts(hub);
    const tooMuch = await redeem(hub, shop, member, 21);
    expect(tooMuch.userErrors).toEqual([{ code: 'INSUFFICIENT_POINTS', message: 'The member has 20 points, fewer than 21', field: ['input', 'points'] }]);
    const donate = await hub.gql('mutation($input: DonatePointsInput!) { donatePoints(input: $input) { userErrors { code message } } }',
      { input: { idempotencyKey: unique('k'), causeId, points: 21 } }, member.token);
    expect(donate.data.donatePoints.userErrors).toEqual([{ code: 'INSUFFICIENT_POINTS', message: 'The member has 20 points, fewer than 21' }]);
    expect(await ledgerRowCounts(hub)).toEqual(before);

    const spent = await redeem(hub, shop, member, 20);
    expect(spent.userErrors).toEqual([]);
    expect(spent.member.balance).toBe(0);
    expect(await pendingOf(member)).toMatchObject({ balance: 0, pendingPoints: 100 });
    expect((await redeem(hub, shop, member, 1)).userErrors).toMatchObject([{ code: 'INSUFFICIENT_POINTS' }]);
  });

  it('a purchase with pendingDays 30 fully refunded on day 10 leaves no debt and no obligation', async () => {
    const plain = await createPartner(hub, { pointsPerUnit: '1' });
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const member = await memberAt(plain, shop);
    await purchase(hub, plain, member, '5.00'); // 5 available points a refund must not touch
    const bought = await purchase(hub, shop, member, '100.00');
    await passDays(member, 10);
    expect(await pendingOf(member)).toMatchObject({ balance: 5, pendingPoints: 100 });
    const refund = await reverse(hub, shop.token, bought.transaction.id);
    expect(refund.userErrors).toEqual([]);
    expect(refund.transaction.points).toBe(-100);
    expect(refund.member).toMatchObject({ balance: 5, debt: 0 });
    expect(await pendingOf(member)).toEqual({ balance: 5, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await debtsOf(member)).toEqual([]);
    expect(await obligationsOf(member)).toEqual([]);
    expect(await lotOf(bought.transaction.id)).toMatchObject({ points: 100, remaining: 0 });
  });

  it('a partial refund inside the window takes its points from the pending lot only', async () => {
    const plain = await createPartner(hub, { pointsPerUnit: '1' });
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const member = await memberAt(plain, shop);
    await purchase(hub, plain, member, '20.00');
    const bought = await purchase(hub, shop, member, '100.00');
    await passDays(member, 10);
    const refund = await reverse(hub, shop.token, bought.transaction.id, '30.00');
    expect(refund.transaction.points).toBe(-30);
    const seen = await pendingOf(member);
    expect(seen).toMatchObject({ balance: 20, debt: 0, pendingPoints: 70 });
    expect(seen.pendingLots.map((l) => l.points)).toEqual([70]);
    expect(await obligationsOf(member)).toEqual([]);
    // The rest of the window passes: the 70 become available, and a later refund of the rest takes them from the same lot.
    await passDays(member, 21);
    expect(await pendingOf(member)).toEqual({ balance: 90, debt: 0, pendingPoints: 0, pendingLots: [] });
    const rest = await reverse(hub, shop.token, bought.transaction.id);
    expect(rest.transaction.points).toBe(-70);
    expect(rest.member).toMatchObject({ balance: 20, debt: 0 });
    expect(await obligationsOf(member)).toEqual([]);
  });

  it('a new lot pays open debt first, even while it is pending; the rest stays pending', async () => {
    const plain = await createPartner(hub, { pointsPerUnit: '1' });
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const member = await memberAt(plain, shop);
    const first = await purchase(hub, plain, member, '100.00');
    expect((await redeem(hub, plain, member, 80)).userErrors).toEqual([]);
    const refund = await reverse(hub, plain.token, first.transaction.id);
    expect(refund.member).toMatchObject({ balance: -80, debt: 80 });

    const bought = await purchase(hub, shop, member, '100.00');
    expect(bought.member).toMatchObject({ balance: 0, debt: 0 });
    const seen = await pendingOf(member);
    expect(seen).toMatchObject({ balance: 0, debt: 0, pendingPoints: 20 });
    expect(seen.pendingLots.map((l) => l.points)).toEqual([20]);
    expect(await debtsOf(member)).toEqual([{ points: 80, remaining: 0 }]);
    expect(await obligationsOf(member)).toEqual([{ kind: 'DEBT_RECOVERY', payer_id: shop.id, payee_id: plain.id, points: 80 }]);
    expect(await lotOf(bought.transaction.id)).toMatchObject({ points: 100, remaining: 20 });
  });

  it("a lot's expiry counts from its availability", async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30, pointsValidityDays: 10 });
    const member = await memberAt(shop);
    const bought = await purchase(hub, shop, member, '50.00');
    const lot = await lotOf(bought.transaction.id);
    expect(lot.available_at!.getTime()).toBe(lot.created_at.getTime() + 30 * DAY_MS);
    expect(lot.expires_at.getTime()).toBe(lot.available_at!.getTime() + 10 * DAY_MS);
    const next = await hub.gql('{ me { nextExpiry { points expiresAt } } }', {}, member.token);
    expect(next.data.me.nextExpiry).toEqual({ points: 50, expiresAt: lot.expires_at.toISOString() });

    await passDays(member, 35); // available for 5 days, 5 days of validity left
    expect(await pendingOf(member)).toMatchObject({ balance: 50, pendingPoints: 0 });
    await passDays(member, 6); // 41 days after the purchase: past its expiry
    expect(await pendingOf(member)).toMatchObject({ balance: 0, pendingPoints: 0 });
    expect((await redeem(hub, shop, member, 1)).userErrors).toMatchObject([{ code: 'INSUFFICIENT_POINTS' }]);
  });

  it('quotePurchase shows when the points become available', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const plain = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await memberAt(shop, plain);
    const quote = async (partner: TestPartner, extra: Record<string, unknown> = {}) => {
      const res = await hub.gql(QUOTE, { input: { idempotencyKey: unique('k'), memberId: member.id, amount: '12.00', ...extra } }, partner.token);
      return res.data.quotePurchase as { points: number; availableAt: string | null; userErrors: unknown[] };
    };
    let t0 = Date.now();
    const pending = await quote(shop, { occurredAt: new Date(t0 - 5 * DAY_MS).toISOString() });
    let t1 = Date.now();
    expect(pending).toMatchObject({ points: 12, userErrors: [] });
    expect(new Date(pending.availableAt!).getTime()).toBeGreaterThanOrEqual(t0 + 30 * DAY_MS);
    expect(new Date(pending.availableAt!).getTime()).toBeLessThanOrEqual(t1 + 30 * DAY_MS);
    t0 = Date.now();
    const now = await quote(plain);
    t1 = Date.now();
    expect(new Date(now.availableAt!).getTime()).toBeGreaterThanOrEqual(t0 - 1000);
    expect(new Date(now.availableAt!).getTime()).toBeLessThanOrEqual(t1);
    expect(await quote(shop, { amount: '-1' })).toMatchObject({ availableAt: null, userErrors: [{ code: 'INVALID_INPUT' }] });
    expect(await pendingOf(member)).toMatchObject({ balance: 0, pendingPoints: 0 }); // a quote posts nothing
  });
});

describe('pending referral bonuses', () => {
  const ENROLL = 'mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id referralCode } userErrors { code message } } }';
  async function enrollWith(partner: TestPartner, input: Record<string, unknown> = {}): Promise<TestMember & { referralCode: string }> {
    const res = await hub.gql(ENROLL, { input: { email: `${unique('m')}@example.com`, ...input } }, partner.token);
    expect(res.data.enrollMember.userErrors).toEqual([]);
    const { id, referralCode } = res.data.enrollMember.member;
    return { id, referralCode, memberCode: '', token: hub.token({ role: Role.MEMBER, memberId: id }) };
  }
  const referrals = async (member: TestMember) => (await hub.gql('{ me { referralStats { successfulReferrals } } }', {}, member.token)).data.me.referralStats.successfulReferrals;
  const referralTransactions = (member: TestMember) => hub.db.query(
    `SELECT t.type, t.points, t.caller, t.reverses_id IS NOT NULL AS reverses FROM ledger_transaction t
     WHERE t.member_id = $1 AND (t.type = 'REFERRAL' OR (t.type = 'REVERSAL' AND t.caller = 'system')) ORDER BY t.id`, [member.id]);

  it('are pending exactly as long as the purchase; a full refund inside the window cancels them and the referral, which a later purchase earns again', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const ann = await enrollWith(shop);
    const bob = await enrollWith(shop, { referralCode: ann.referralCode });

    const first = await purchase(hub, shop, bob, '10.00');
    expect(first.member).toMatchObject({ balance: 0 });
    const bobSees = await pendingOf(bob);
    expect(bobSees).toMatchObject({ balance: 0, pendingPoints: 60 });
    const availableAt = new Date(first.transaction.postedAt).getTime() + 30 * DAY_MS;
    expect(bobSees.pendingLots.map((l) => [l.points, new Date(l.availableAt).getTime()]).sort()).toEqual([[10, availableAt], [50, availableAt]].sort());
    expect(await pendingOf(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 100, pendingLots: [{ points: 100, availableAt: new Date(availableAt).toISOString() }] });
    expect(await referrals(ann)).toBe(1);

    await passDays(bob, 10);
    await passDays(ann, 10);
    const refund = await reverse(hub, shop.token, first.transaction.id);
    expect(refund.userErrors).toEqual([]);
    expect(refund.member).toMatchObject({ balance: 0, debt: 0 });
    expect(await pendingOf(bob)).toEqual({ balance: 0, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await pendingOf(ann)).toEqual({ balance: 0, debt: 0, pendingPoints: 0, pendingLots: [] });
    expect(await referrals(ann)).toBe(0);
    expect(await referralTransactions(bob)).toEqual([
      { type: 'REFERRAL', points: 50, caller: 'system', reverses: false }, { type: 'REVERSAL', points: -50, caller: 'system', reverses: true }]);
    expect(await referralTransactions(ann)).toEqual([
      { type: 'REFERRAL', points: 100, caller: 'system', reverses: false }, { type: 'REVERSAL', points: -100, caller: 'system', reverses: true }]);
    for (const m of [bob, ann]) {
      expect(await obligationsOf(m)).toEqual([]);
      expect(await debtsOf(m)).toEqual([]);
    }

    // The referral qualifies again with a later purchase: bonuses paid again, pending with it.
    const again = await purchase(hub, shop, bob, '20.00');
    expect(again.userErrors).toEqual([]);
    expect(await pendingOf(bob)).toMatchObject({ balance: 0, pendingPoints: 70 });
    expect(await pendingOf(ann)).toMatchObject({ balance: 0, pendingPoints: 100 });
    expect(await referrals(ann)).toBe(1);
    await passDays(bob, 31);
    await passDays(ann, 31);
    expect(await pendingOf(bob)).toMatchObject({ balance: 70, pendingPoints: 0 });
    expect(await pendingOf(ann)).toMatchObject({ balance: 100, pendingPoints: 0 });
  });

  it('a partial refund does not cancel them; a full refund after the window does not either (the bonuses were no longer pending)', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const ann = await enrollWith(shop);
    const bob = await enrollWith(shop, { referralCode: ann.referralCode });
    const first = await purchase(hub, shop, bob, '10.00');
    expect((await reverse(hub, shop.token, first.transaction.id, '4.00')).transaction.points).toBe(-4);
    expect(await pendingOf(bob)).toMatchObject({ pendingPoints: 56 });
    expect(await pendingOf(ann)).toMatchObject({ pendingPoints: 100 });
    expect(await referrals(ann)).toBe(1);

    await passDays(bob, 31);
    await passDays(ann, 31);
    const rest = await reverse(hub, shop.token, first.transaction.id);
    expect(rest.transaction.points).toBe(-6);
    expect(await pendingOf(bob)).toMatchObject({ balance: 50, pendingPoints: 0 });
    expect(await pendingOf(ann)).toMatchObject({ balance: 100, pendingPoints: 0 });
    expect(await referrals(ann)).toBe(1);
  });

  it('a referral rewarded by a purchase without a window stays rewarded after its full refund (unchanged)', async () => {
    const plain = await createPartner(hub, { pointsPerUnit: '1' });
    const ann = await enrollWith(plain);
    const bob = await enrollWith(plain, { referralCode: ann.referralCode });
    const first = await purchase(hub, plain, bob, '10.00');
    expect(await balanceOf(hub, bob)).toBe(60);
    expect((await reverse(hub, plain.token, first.transaction.id)).member).toMatchObject({ balance: 50, debt: 0 });
    expect(await balanceOf(hub, ann)).toBe(100);
    expect(await referrals(ann)).toBe(1);
  });
});

describe('concurrency', () => {
  it('concurrent redemptions never spend pending points: exactly the available ones are redeemed', async () => {
    const plain = await createPartner(hub, { pointsPerUnit: '1' });
    const shop = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const member = await memberAt(plain, shop);
    await purchase(hub, plain, member, '10.00');
    await purchase(hub, shop, member, '100.00');
    const results = await Promise.all(Array.from({ length: 8 }, () => hub.gql(`mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { ${POSTING_FIELDS} } }`,
      { input: { idempotencyKey: unique('k'), memberId: member.id, points: 3 } }, shop.token)));
    const ok = results.filter((r) => r.data.redeemPoints.userErrors.length === 0).length;
    expect(ok).toBe(3);
    expect(await pendingOf(member)).toMatchObject({ balance: 1, pendingPoints: 100 });
  });
});
