import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, bonus, createPartner, enroll, ledgerCheck, purchase, redeem, reverse, unique } from '../support/scenario';

/**
 * The ledger through GraphQL (docs/rules.md, The ledger; Redemption): earning, lots and their
 * consumption order, obligations, refunds in parts, taking points back, debt and its recovery.
 */
let hub: TestHub;
let grocer: TestPartner; // 1.25 points per unit, lots valid 30 days, 0.01 per point redeemed
let fuel: TestPartner; // 2 points per unit, lots valid 365 days, 0.008 per point redeemed

beforeAll(async () => {
  hub = await startTestHub();
  grocer = await createPartner(hub, { pointsPerUnit: '1.25', pointsValidityDays: 30 }, '0.01');
  fuel = await createPartner(hub, { pointsPerUnit: '2' }, '0.008');
});
afterAll(() => hub.close());

/** A member linked to both partners. */
async function sharedMember(): Promise<TestMember> {
  const email = `${unique('shared')}@example.com`;
  const member = await enroll(hub, grocer, { email });
  await enroll(hub, fuel, { email });
  return member;
}

async function lots(member: TestMember) {
  return hub.db.query(`SELECT issuer_type, issuer_id, points, remaining FROM lot WHERE member_id = $1 ORDER BY expires_at, created_at`, [member.id]);
}

async function obligations(member: TestMember) {
  return hub.db.query(`SELECT kind, payer_type, payer_id, payee_id, points, rate::text FROM obligation WHERE member_id = $1 ORDER BY posted_at, kind, points`, [member.id]);
}

afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

describe('earning', () => {
  it.each([
    ['19.99', 24, '19.99 × 1.25 = 24.9875'],
    ['0.79', 0, 'under one point'],
    ['0.80', 1, 'exactly one point'],
    ['100.00', 125, 'a round amount'],
  ])('a purchase of %s earns %i points (%s), rounded down once', async (amount, points) => {
    const member = await enroll(hub, grocer);
    const result = await purchase(hub, grocer, member, amount);
    expect(result.userErrors).toEqual([]);
    expect(result.transaction).toMatchObject({ type: 'PURCHASE', points, amount: { amount, currency: 'EUR' } });
    expect(result.transaction.breakdown[0]).toMatchObject({ rule: 'BASE', points });
    expect(result.member.balance).toBe(points);
  });

  it('records a purchase below minSpend with 0 points and no lot', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1', minSpend: '10.00' });
    const member = await enroll(hub, shop);
    const below = await purchase(hub, shop, member, '9.99');
    expect(below.transaction).toMatchObject({ points: 0, breakdown: [{ rule: 'MIN_SPEND', points: 0 }] });
    const at = await purchase(hub, shop, member, '10.00');
    expect(at.transaction.points).toBe(10);
    expect(await lots(member)).toHaveLength(1);
  });

  it('caps points at maxPointsPerTransaction', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '10', maxPointsPerTransaction: 500 });
    const member = await enroll(hub, shop);
    const result = await purchase(hub, shop, member, '120.00');
    expect(result.transaction.points).toBe(500);
    expect(result.transaction.breakdown.map((b: { rule: string }) => b.rule)).toEqual(['BASE', 'MAX_PER_TRANSACTION']);
  });

  it("creates a lot issued by the purchase's partner, valid for its pointsValidityDays", async () => {
    const member = await enroll(hub, grocer);
    await purchase(hub, grocer, member, '8.00');
    const [lot] = await hub.db.query(`SELECT issuer_type, issuer_id, points, remaining, expires_at - created_at AS validity FROM lot WHERE member_id = $1`, [member.id]);
    expect(lot).toMatchObject({ issuer_type: 'PARTNER', issuer_id: grocer.id, points: 10, remaining: 10 });
    expect(lot.validity.days).toBe(30);
  });

  it('writes two entries that sum to zero: member +points, partner issuance −points', async () => {
    const member = await enroll(hub, grocer);
    await purchase(hub, grocer, member, '8.00');
    const entries = await hub.db.query(`SELECT account_type, account_id, points::int FROM ledger_entry WHERE member_id = $1 ORDER BY seq`, [member.id]);
    expect(entries).toEqual([
      { account_type: 'MEMBER', account_id: member.id, points: 10 },
      { account_type: 'PARTNER', account_id: grocer.id, points: -10 },
    ]);
  });
});

describe('redemption', () => {
  it('consumes lots earliest expiry first and owes the other issuer’s points to the redeeming partner', async () => {
    const member = await sharedMember();
    await purchase(hub, fuel, member, '50.00'); // 100 points, expire in 365 days
    await purchase(hub, grocer, member, '40.00'); // 50 points, expire in 30 days: consumed first
    const result = await redeem(hub, fuel, member, 70);
    expect(result.userErrors).toEqual([]);
    expect(result.member.balance).toBe(80);
    expect(await lots(member)).toEqual([
      { issuer_type: 'PARTNER', issuer_id: grocer.id, points: 50, remaining: 0 },
      { issuer_type: 'PARTNER', issuer_id: fuel.id, points: 100, remaining: 80 },
    ]);
    // Only the grocer's 50 points are owed, at the redeeming partner's value per point.
    expect(await obligations(member)).toEqual([
      { kind: 'REDEMPTION', payer_type: 'PARTNER', payer_id: grocer.id, payee_id: fuel.id, points: 50, rate: '0.008000' },
    ]);
  });

  it('owes nothing for points the redeeming partner issued itself', async () => {
    const member = await enroll(hub, grocer);
    await purchase(hub, grocer, member, '80.00');
    await redeem(hub, grocer, member, 60);
    expect(await obligations(member)).toEqual([]);
  });

  it('refuses more than the balance with INSUFFICIENT_POINTS and writes nothing', async () => {
    const member = await enroll(hub, grocer);
    await purchase(hub, grocer, member, '8.00');
    const before = await hub.db.query('SELECT count(*)::int AS n FROM ledger_transaction WHERE member_id = $1', [member.id]);
    const result = await redeem(hub, grocer, member, 11);
    expect(result).toMatchObject({ transaction: null, userErrors: [{ code: 'INSUFFICIENT_POINTS', field: ['input', 'points'] }] });
    expect(await hub.db.query('SELECT count(*)::int AS n FROM ledger_transaction WHERE member_id = $1', [member.id])).toEqual(before);
  });

  it('operator bonus points are issued by the operator, who owes the redeeming partner', async () => {
    const member = await enroll(hub, grocer);
    const awarded = await bonus(hub, hub.admin, member, 30, { action: 'SIGNUP' });
    expect(awarded.transaction).toMatchObject({ type: 'BONUS', points: 30 });
    await redeem(hub, grocer, member, 30);
    expect(await obligations(member)).toEqual([
      { kind: 'REDEMPTION', payer_type: 'OPERATOR', payer_id: null, payee_id: grocer.id, points: 30, rate: '0.010000' },
    ]);
  });

  it('a returned reward restores the same lots and reverses their obligations', async () => {
    const member = await sharedMember();
    await purchase(hub, grocer, member, '40.00'); // 50
    await purchase(hub, fuel, member, '50.00'); // 100
    const spent = await redeem(hub, fuel, member, 120);
    const before = await lots(member);
    expect(before.map((l: { remaining: number }) => l.remaining)).toEqual([0, 30]);
    const returned = await reverse(hub, fuel.token, spent.transaction.id);
    expect(returned.userErrors).toEqual([]);
    expect(returned.transaction).toMatchObject({ type: 'REVERSAL', points: 120 });
    expect(returned.member.balance).toBe(150);
    expect((await lots(member)).map((l: { remaining: number }) => l.remaining)).toEqual([50, 100]);
    const owed = await hub.db.query(`SELECT payer_id, payee_id, sum(points)::int AS net FROM obligation WHERE member_id = $1 GROUP BY 1, 2`, [member.id]);
    expect(owed).toEqual([{ payer_id: grocer.id, payee_id: fuel.id, net: 0 }]);
    const again = await reverse(hub, fuel.token, spent.transaction.id);
    expect(again.userErrors).toMatchObject([{ code: 'ALREADY_REVERSED' }]);
  });
});

describe('reversals', () => {
  it('refunds a purchase in parts on the running total: floor(earned × refunded in all / amount) in all, the last refund takes what is left', async () => {
    const member = await enroll(hub, grocer);
    const bought = await purchase(hub, grocer, member, '100.00'); // 125 points
    // floor(125 × 0.3) = 37, floor(125 × 0.6) = 75 in all (38 more), then the rest: 50.
    const steps = [['30.00', -37], ['30.00', -38], ['40.00', -50]] as const;
    for (const [amount, points] of steps) {
      const refund = await reverse(hub, grocer.token, bought.transaction.id, amount);
      expect(refund.userErrors).toEqual([]);
      expect(refund.transaction).toMatchObject({ type: 'REVERSAL', points, amount: { amount } });
    }
    const final = await reverse(hub, grocer.token, bought.transaction.id, '0.01');
    expect(final.userErrors).toMatchObject([{ code: 'ALREADY_REVERSED' }]);
    expect(await hub.db.query('SELECT balance::int FROM member WHERE id = $1', [member.id])).toEqual([{ balance: 0 }]);
  });

  it('refuses a refund larger than what is left of the purchase', async () => {
    const member = await enroll(hub, grocer);
    const bought = await purchase(hub, grocer, member, '20.00');
    await reverse(hub, grocer.token, bought.transaction.id, '15.00');
    const tooMuch = await reverse(hub, grocer.token, bought.transaction.id, '5.01');
    expect(tooMuch.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'amount'] }]);
  });

  it('takes points back from other lots as debt recovery in favour of the reversing partner', async () => {
    const member = await sharedMember();
    const bought = await purchase(hub, grocer, member, '40.00'); // 50 grocer points, expire first
    await purchase(hub, fuel, member, '50.00'); // 100 fuel points
    await redeem(hub, grocer, member, 40); // grocer lot: 10 left
    const refund = await reverse(hub, grocer.token, bought.transaction.id);
    expect(refund.transaction.points).toBe(-50);
    expect(refund.member).toMatchObject({ balance: 60, debt: 0 });
    expect((await lots(member)).map((l: { remaining: number }) => l.remaining)).toEqual([0, 60]);
    expect(await obligations(member)).toEqual([
      { kind: 'DEBT_RECOVERY', payer_type: 'PARTNER', payer_id: fuel.id, payee_id: grocer.id, points: 40, rate: '0.010000' },
    ]);
  });

  it('turns what cannot be taken back into debt, refuses redemptions, and recovers it from new lots', async () => {
    const member = await sharedMember();
    const bought = await purchase(hub, grocer, member, '80.00'); // 100
    await redeem(hub, grocer, member, 80); // 20 left
    const refund = await reverse(hub, grocer.token, bought.transaction.id);
    expect(refund.member).toMatchObject({ balance: -80, debt: 80 });

    const refused = await redeem(hub, grocer, member, 1);
    expect(refused.userErrors).toMatchObject([{ code: 'MEMBER_IN_DEBT' }]);

    const earned = await purchase(hub, fuel, member, '25.00'); // 50 fuel points pay 50 of the debt
    expect(earned.member).toMatchObject({ balance: -30, debt: 30 });
    const more = await purchase(hub, fuel, member, '50.00'); // 100: 30 to the debt, 70 left
    expect(more.member).toMatchObject({ balance: 70, debt: 0 });
    expect(await obligations(member)).toEqual([
      { kind: 'DEBT_RECOVERY', payer_type: 'PARTNER', payer_id: fuel.id, payee_id: grocer.id, points: 50, rate: '0.010000' },
      { kind: 'DEBT_RECOVERY', payer_type: 'PARTNER', payer_id: fuel.id, payee_id: grocer.id, points: 30, rate: '0.010000' },
    ]);
    expect((await redeem(hub, grocer, member, 70)).userErrors).toEqual([]);
  });

  it('reverses a bonus whole, once', async () => {
    const member = await enroll(hub, grocer);
    const awarded = await bonus(hub, grocer.token, member, 40, { action: 'REVIEW' });
    const taken = await reverse(hub, grocer.token, awarded.transaction.id);
    expect(taken.transaction.points).toBe(-40);
    expect(taken.member.balance).toBe(0);
    expect((await reverse(hub, grocer.token, awarded.transaction.id)).userErrors).toMatchObject([{ code: 'ALREADY_REVERSED' }]);
  });

  it('only the posting partner or the operator may reverse', async () => {
    const member = await sharedMember();
    const bought = await purchase(hub, grocer, member, '8.00');
    const byOther = await reverse(hub, fuel.token, bought.transaction.id);
    expect(byOther.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    const byOperator = await reverse(hub, hub.admin, bought.transaction.id);
    expect(byOperator.userErrors).toEqual([]);
    expect(byOperator.member.balance).toBe(0);
  });
});

describe('reading the ledger', () => {
  it('pages through a member’s transactions newest first; a partner sees only what it posted', async () => {
    const member = await sharedMember();
    for (const amount of ['8.00', '16.00', '24.00']) await purchase(hub, grocer, member, amount);
    await purchase(hub, fuel, member, '5.00');
    const query = `query($id: ID!, $after: String) { member(id: $id) { transactions(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { type points } } } } }`;
    const seen: number[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await hub.gql(query, { id: member.id, after }, member.token);
      const page: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: { points: number } }[] } = res.data.member.transactions;
      expect(page.totalCount).toBe(4);
      seen.push(...page.edges.map((e) => e.node.points));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([10, 30, 20, 10]);
    const asGrocer = await hub.gql(query, { id: member.id, after: null }, grocer.token);
    expect(asGrocer.data.member.transactions.totalCount).toBe(3);
  });

  it('the ledger check finds a balance that disagrees with its entries and lots', async () => {
    const member = await enroll(hub, grocer);
    await purchase(hub, grocer, member, '8.00');
    await hub.db.query('UPDATE member SET balance = balance + 1 WHERE id = $1', [member.id]);
    const check = await ledgerCheck(hub);
    expect(check.ok).toBe(false);
    expect(check.violations.join('\n')).toContain(member.id);
    await hub.db.query('UPDATE member SET balance = balance - 1 WHERE id = $1', [member.id]);
  });
});
