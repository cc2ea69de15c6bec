import { TestHub, post, startTestHub } from '../support/hub';
import { POSTING_FIELDS, TestMember, TestPartner, createPartner, enroll, ledgerCheck, purchase, unique } from '../support/scenario';

/**
 * Concurrency, retries and idempotency (docs/rules.md, The ledger): many requests for the same member
 * at once, on separate connections and on two server instances, lose nothing, post nothing twice,
 * never take a balance below zero, and never show a client a deadlock or serialization error.
 */
let hub: TestHub;
let partner: TestPartner;
let secondUrl: string;

beforeAll(async () => {
  hub = await startTestHub({ poolSize: 40 });
  partner = await createPartner(hub, { pointsPerUnit: '1' });
  secondUrl = (await hub.startAnotherServer()).url;
});
afterAll(() => hub.close());

const PURCHASE = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { ${POSTING_FIELDS} } }`;
const REDEEM = `mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { ${POSTING_FIELDS} } }`;
const BONUS = `mutation($input: AwardBonusInput!) { awardBonus(input: $input) { ${POSTING_FIELDS} } }`;
const REVERSE = `mutation($input: ReverseTransactionInput!) { reverseTransaction(input: $input) { ${POSTING_FIELDS} } }`;

/** Sends alternately to the two server instances. */
function send(i: number, query: string, variables: Record<string, unknown>, token = partner.token) {
  return post(i % 2 === 0 ? hub.url : secondUrl, { query, variables }, token);
}

async function storedBalance(member: TestMember): Promise<number> {
  const [row] = await hub.db.query('SELECT balance::int FROM member WHERE id = $1', [member.id]);
  return row.balance;
}

afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

describe('idempotency', () => {
  it('the same key sent 25 times at once posts once and returns the same transaction to every caller', async () => {
    const member = await enroll(hub, partner);
    const input = { idempotencyKey: unique('same'), memberId: member.id, amount: '42.00' };
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => send(i, PURCHASE, { input })));
    for (const r of responses) {
      expect(r.errors).toBeUndefined();
      expect(r.data.recordPurchase.userErrors).toEqual([]);
    }
    const ids = new Set(responses.map((r) => r.data.recordPurchase.transaction.id));
    expect(ids.size).toBe(1);
    expect(await hub.db.query('SELECT count(*)::int AS n FROM ledger_transaction WHERE member_id = $1', [member.id])).toEqual([{ n: 1 }]);
    expect(await storedBalance(member)).toBe(42);
  });

  it('a retry after later postings still returns the original transaction', async () => {
    const member = await enroll(hub, partner);
    const input = { idempotencyKey: unique('retry'), memberId: member.id, amount: '10.00' };
    const first = await send(0, PURCHASE, { input });
    await purchase(hub, partner, member, '5.00');
    const retry = await send(1, PURCHASE, { input });
    expect(retry.data.recordPurchase.transaction).toEqual(first.data.recordPurchase.transaction);
    expect(await storedBalance(member)).toBe(15);
  });

  it('the same key with different input is IDEMPOTENCY_KEY_REUSED and writes nothing', async () => {
    const member = await enroll(hub, partner);
    const key = unique('reuse');
    await send(0, PURCHASE, { input: { idempotencyKey: key, memberId: member.id, amount: '10.00' } });
    const reused = await send(1, PURCHASE, { input: { idempotencyKey: key, memberId: member.id, amount: '11.00' } });
    expect(reused.data.recordPurchase).toMatchObject({ transaction: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] }] });
    expect(await storedBalance(member)).toBe(10);
  });

  it('keys are per caller: two partners may use the same key for the same member', async () => {
    const other = await createPartner(hub, { pointsPerUnit: '1' });
    const email = `${unique('two')}@example.com`;
    const member = await enroll(hub, partner, { email });
    await enroll(hub, other, { email });
    const key = unique('shared-key');
    const a = await send(0, PURCHASE, { input: { idempotencyKey: key, memberId: member.id, amount: '3.00' } }, partner.token);
    const b = await send(1, PURCHASE, { input: { idempotencyKey: key, memberId: member.id, amount: '3.00' } }, other.token);
    expect(a.data.recordPurchase.transaction.id).not.toBe(b.data.recordPurchase.transaction.id);
    expect(await storedBalance(member)).toBe(6);
  });

  it('25 concurrent redemptions with one key take the points once, and every caller gets the original result', async () => {
    // 40 points, 30 a redemption: a retry judged afresh after the first one would fail with INSUFFICIENT_POINTS.
    const member = await enroll(hub, partner);
    await purchase(hub, partner, member, '40.00');
    const input = { idempotencyKey: unique('redeem-once'), memberId: member.id, points: 30 };
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => send(i, REDEEM, { input })));
    for (const r of responses) expect(r.data.redeemPoints.userErrors).toEqual([]);
    expect(new Set(responses.map((r) => r.data.redeemPoints.transaction.id)).size).toBe(1);
    expect(await storedBalance(member)).toBe(10);
  });

  it('20 concurrent full refunds with one key refund once, and none of them says ALREADY_REVERSED', async () => {
    const member = await enroll(hub, partner);
    const bought = await purchase(hub, partner, member, '30.00');
    const input = { idempotencyKey: unique('refund-once'), transactionId: bought.transaction.id };
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i, REVERSE, { input })));
    for (const r of responses) expect(r.data.reverseTransaction.userErrors).toEqual([]);
    expect(new Set(responses.map((r) => r.data.reverseTransaction.transaction.id)).size).toBe(1);
    expect(await storedBalance(member)).toBe(0);
  });
});

describe('many requests for one member at once', () => {
  it('40 concurrent redemptions never take the balance below zero', async () => {
    const member = await enroll(hub, partner);
    await purchase(hub, partner, member, '155.00');
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      send(i, REDEEM, { input: { idempotencyKey: unique('r'), memberId: member.id, points: 10 } })));
    for (const r of responses) expect(r.errors).toBeUndefined();
    const codes = responses.map((r) => r.data.redeemPoints.userErrors[0]?.code ?? 'OK');
    expect(codes.filter((c) => c === 'OK')).toHaveLength(15);
    expect(codes.filter((c) => c === 'INSUFFICIENT_POINTS')).toHaveLength(25);
    expect(await storedBalance(member)).toBe(5);
    const [lots] = await hub.db.query('SELECT sum(remaining)::int AS total, min(remaining) AS lowest FROM lot WHERE member_id = $1', [member.id]);
    expect(lots).toEqual({ total: 5, lowest: 5 });
  });

  it('a mixed storm of purchases, bonuses, redemptions and refunds on two servers adds up exactly', async () => {
    const member = await enroll(hub, partner);
    const seed = await purchase(hub, partner, member, '200.00');
    const operations = Array.from({ length: 60 }, (_, i) => {
      const key = unique('storm');
      switch (i % 4) {
        case 0: return send(i, PURCHASE, { input: { idempotencyKey: key, memberId: member.id, amount: `${(i % 7) + 1}.50` } });
        case 1: return send(i, BONUS, { input: { idempotencyKey: key, memberId: member.id, action: 'SURVEY', points: 3 } });
        case 2: return send(i, REDEEM, { input: { idempotencyKey: key, memberId: member.id, points: 9 } });
        default: return send(i, REVERSE, { input: { idempotencyKey: key, transactionId: seed.transaction.id, amount: '10.00' } });
      }
    });
    const responses = await Promise.all(operations);
    let expected = 200;
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(r.errors).toBeUndefined();
      const payload = Object.values(r.data as Record<string, { transaction: { points: number } | null; userErrors: { code: string }[] }>)[0]!;
      if (payload.transaction) expected += payload.transaction.points;
      else expect(['INSUFFICIENT_POINTS', 'MEMBER_IN_DEBT', 'ALREADY_REVERSED']).toContain(payload.userErrors[0]!.code);
    }
    expect(await storedBalance(member)).toBe(expected);
  });

  it('overlapping batches in opposite member order do not deadlock', async () => {
    const members = await Promise.all(Array.from({ length: 20 }, () => enroll(hub, partner)));
    const batch = (order: TestMember[]) => order.map((m) => ({ idempotencyKey: unique('b'), memberId: m.id, amount: '1.00' }));
    const query = `mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { transaction { id } userErrors { code } } }`;
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      send(i, query, { inputs: batch(i % 2 ? [...members].reverse() : members) })));
    for (const r of responses) {
      expect(r.errors).toBeUndefined();
      expect(r.data.recordPurchases.every((p: { userErrors: unknown[] }) => p.userErrors.length === 0)).toBe(true);
    }
    for (const m of members) expect(await storedBalance(m)).toBe(12);
  });
});

describe('stateless servers', () => {
  it('two instances serve the same data with the same tokens', async () => {
    const member = await enroll(hub, partner);
    await send(0, PURCHASE, { input: { idempotencyKey: unique('s'), memberId: member.id, amount: '7.00' } });
    const fromSecond = await post(secondUrl, { query: '{ me { id balance } }' }, member.token);
    expect(fromSecond.data.me).toEqual({ id: member.id, balance: 7 });
  });
});
