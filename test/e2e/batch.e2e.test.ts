import { uuidv7 } from '../../src/common/ids';
import { GraphQLResponse, TestHub, startTestHub } from '../support/hub';
import {
  POSTING_FIELDS, TestMember, TestPartner, balanceOf, createPartner, enroll, ledgerCheck, ledgerRowCounts, unique,
} from '../support/scenario';

/**
 * recordPurchases: up to 1000 purchases in one request, each judged on its own, posted in one
 * database transaction. An invalid item gets its own userErrors (field paths into `inputs[i]`) and
 * writes nothing; the valid ones post. Idempotency holds inside a batch as across requests.
 */

let hub: TestHub;
let grocer: TestPartner;
let fuel: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  grocer = await createPartner(hub, { pointsPerUnit: '1.25' });
  fuel = await createPartner(hub, { pointsPerUnit: '1' });
});
afterAll(() => hub.close());

const RECORD_PURCHASES = `mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { ${POSTING_FIELDS} } }`;

interface Payload {
  transaction: { id: string; type: string; points: number; amount: { amount: string; currency: string } } | null;
  member: { id: string; balance: number; debt: number } | null;
  userErrors: { code: string; message: string; field: string[] | null }[];
}

async function recordPurchases(inputs: Record<string, unknown>[], token = grocer.token): Promise<GraphQLResponse<{ recordPurchases: Payload[] }>> {
  return hub.gql(RECORD_PURCHASES, { inputs }, token);
}

/** The payloads of a batch the server answered as a whole (no GraphQL error). */
function payloadsOf(res: GraphQLResponse<{ recordPurchases: Payload[] }>): Payload[] {
  expect(res.errors).toBeUndefined();
  expect(res.status).toBe(200);
  return res.data!.recordPurchases;
}

const item = (member: TestMember, amount = '10.00', extra: Record<string, unknown> = {}) =>
  ({ idempotencyKey: unique('k'), memberId: member.id, amount, ...extra });

async function enrollMany(n: number, partner = grocer): Promise<TestMember[]> {
  const members: TestMember[] = [];
  for (let i = 0; i < n; i++) members.push(await enroll(hub, partner));
  return members;
}

/** Row counts after minus before, per table, leaving out the tables that did not change. */
function grown(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).filter((t) => after[t] !== before[t]).map((t) => [t, after[t]! - before[t]!]));
}

describe('a full batch', () => {
  it('posts 1000 valid purchases over 50 members in one request; each balance is the sum of its earn', async () => {
    const members = await enrollMany(50);
    const inputs = Array.from({ length: 1000 }, (_, i) => item(members[i % 50]!, `${(i % 97) + 1}.${String((i * 7) % 100).padStart(2, '0')}`));
    const before = await ledgerRowCounts(hub);

    const payloads = payloadsOf(await recordPurchases(inputs));

    expect(payloads).toHaveLength(1000);
    const earned = new Map<string, number>();
    payloads.forEach((p, i) => {
      expect(p.userErrors).toEqual([]);
      expect(p.transaction).toMatchObject({ type: 'PURCHASE', amount: { amount: inputs[i]!.amount, currency: 'EUR' } });
      expect(p.member!.id).toBe(inputs[i]!.memberId);
      earned.set(p.member!.id, (earned.get(p.member!.id) ?? 0) + p.transaction!.points);
    });
    // Each purchase earns floor(amount × 1.25), computed here from the amount alone.
    payloads.forEach((p, i) => {
      const cents = Number((inputs[i]!.amount as string).replace('.', ''));
      expect(p.transaction!.points).toBe(Math.floor((cents * 125) / 10000));
    });
    expect(new Set(payloads.map((p) => p.transaction!.id)).size).toBe(1000);
    for (const member of members) expect(await balanceOf(hub, member)).toBe(earned.get(member.id));
    // The last payload of each member shows the balance after the whole batch.
    for (const member of members) {
      const last = [...payloads].reverse().find((p) => p.member!.id === member.id)!;
      expect(last.member!.balance).toBe(earned.get(member.id));
    }
    expect(grown(before, await ledgerRowCounts(hub))).toEqual({ ledger_transaction: 1000, ledger_entry: 2000, lot: 1000 });
    expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  });

  it('refuses 1001 purchases as a whole: a BAD_USER_INPUT error and nothing written', async () => {
    const members = await enrollMany(3);
    const inputs = Array.from({ length: 1001 }, (_, i) => item(members[i % 3]!));
    const before = await ledgerRowCounts(hub);

    const res = await recordPurchases(inputs);

    expect(res.status).not.toBe(500);
    expect(res.data?.recordPurchases ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res.errors![0])).toMatch(/at most 1000/);
    expect(await ledgerRowCounts(hub)).toEqual(before);
    for (const member of members) expect(await balanceOf(hub, member)).toBe(0);
  });

  it('an empty batch posts nothing and answers an empty list', async () => {
    const before = await ledgerRowCounts(hub);
    expect(payloadsOf(await recordPurchases([]))).toEqual([]);
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });
});

describe('each item is judged on its own', () => {
  it('posts the valid items; each invalid one gets its own userErrors and writes nothing', async () => {
    const [ann, bob] = await enrollMany(2);
    const stranger = (await enrollMany(1, fuel))[0]!;
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const cases: [Record<string, unknown>, string | null][] = [
      [item(ann!, '10.00'), null],
      [item(ann!, '0'), 'INVALID_INPUT'],
      [item(ann!, '12.345'), 'INVALID_INPUT'],
      [item(bob!, '20.00'), null],
      [item(bob!, '10.00', { memberId: 'not-a-member' }), 'NOT_FOUND'],
      [item(bob!, '10.00', { memberId: uuidv7() }), 'NOT_FOUND'],
      [item(stranger, '10.00'), 'NOT_FOUND'],
      [item(bob!, '10.00', { occurredAt: future }), 'INVALID_INPUT'],
      [item(bob!, '10.00', { lines: [{ amount: '4.00' }, { amount: '5.00' }] }), 'INVALID_INPUT'],
      [item(bob!, '10.00', { affiliateCode: 'NOBODY' }), 'INVALID_INPUT'],
      [item(ann!, '4.00'), null],
    ];
    const before = await ledgerRowCounts(hub);

    const payloads = payloadsOf(await recordPurchases(cases.map(([input]) => input)));

    // Compared as a whole, so a failure shows every item that went wrong.
    expect(payloads.map((p, i) => ({
      i, posted: p.transaction?.amount.amount ?? null, member: p.member?.id ?? null,
      errors: p.userErrors.map((e) => ({ code: e.code, under: e.field!.slice(0, 2) })),
    }))).toEqual(cases.map(([input, code], i) => code === null
      ? { i, posted: input.amount, member: input.memberId, errors: [] }
      : { i, posted: null, member: null, errors: [{ code, under: ['inputs', String(i)] }] }));
    // Only the three valid purchases were written: 12 + 5 points for Ann, 25 for Bob, none for the stranger.
    expect(grown(before, await ledgerRowCounts(hub))).toEqual({ ledger_transaction: 3, ledger_entry: 6, lot: 3 });
    expect(await balanceOf(hub, ann!)).toBe(12 + 5);
    expect(await balanceOf(hub, bob!)).toBe(25);
    expect(await balanceOf(hub, stranger)).toBe(0);
    expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  });

  // The path of a batch item's field is inputs, its index, then the field inside RecordPurchaseInput.
  it.each([
    ['a zero amount', 'INVALID_INPUT', ['amount'], { amount: '0' }],
    ['a too precise amount', 'INVALID_INPUT', ['amount'], { amount: '1.001' }],
    ['a member id that is not a uuid', 'NOT_FOUND', ['memberId'], { memberId: 'x' }],
    ['an unknown member id', 'NOT_FOUND', ['memberId'], { memberId: uuidv7() }],
    ['an occurredAt in the future', 'INVALID_INPUT', ['occurredAt'], { occurredAt: new Date(Date.now() + 3_600_000).toISOString() }],
    ['lines that do not sum to the amount', 'INVALID_INPUT', ['lines'], { amount: '10.00', lines: [{ amount: '9.00' }] }],
    ['a too precise line', 'INVALID_INPUT', ['lines', '1', 'amount'], { amount: '10.00', lines: [{ amount: '5.00' }, { amount: '4.999' }] }],
    ['an unknown affiliate code', 'INVALID_INPUT', ['affiliateCode'], { affiliateCode: 'NOBODY' }],
    ['another partner named in partnerId', 'INVALID_INPUT', ['partnerId'], () => ({ partnerId: fuel.id })],
  ] as [string, string, string[], Record<string, unknown> | (() => Record<string, unknown>)][])(
    '%s at index 2 is %s on inputs, 2, then %j', async (_why, code, field, bad) => {
      const [ann] = await enrollMany(1);
      const extra = typeof bad === 'function' ? bad() : bad;
      const payloads = payloadsOf(await recordPurchases([item(ann!), item(ann!), item(ann!, '10.00', extra)]));
      expect(payloads[2]).toEqual({ transaction: null, member: null,
        userErrors: [{ code, field: ['inputs', '2', ...field], message: expect.any(String) }] });
    });

  it('a batch of only invalid items writes nothing', async () => {
    const [ann] = await enrollMany(1);
    const before = await ledgerRowCounts(hub);
    const payloads = payloadsOf(await recordPurchases([item(ann!, '0'), item(ann!, '1.00', { memberId: uuidv7() })]));
    expect(payloads.map((p) => p.userErrors.map((e) => e.code))).toEqual([['INVALID_INPUT'], ['NOT_FOUND']]);
    expect(await ledgerRowCounts(hub)).toEqual(before);
    expect(await balanceOf(hub, ann!)).toBe(0);
  });

  it('a partner cannot post for a member not linked to it: NOT_FOUND for that item only', async () => {
    const [ours] = await enrollMany(1, grocer);
    const [theirs] = await enrollMany(1, fuel);
    const before = await ledgerRowCounts(hub);

    const payloads = payloadsOf(await recordPurchases([item(ours!, '8.00'), item(theirs!, '8.00'), item(ours!, '8.00')]));

    expect(payloads.map((p) => p.userErrors)).toEqual([
      [],
      [{ code: 'NOT_FOUND', field: ['inputs', '1', 'memberId'], message: expect.any(String) }],
      [],
    ]);
    expect(await balanceOf(hub, ours!)).toBe(20);
    expect(await balanceOf(hub, theirs!)).toBe(0);
    expect(grown(before, await ledgerRowCounts(hub))).toEqual({ ledger_transaction: 2, ledger_entry: 4, lot: 2 });
  });

  // Inside a batch the item's own constraints (as on recordPurchase's input) still hold.
  it.each([
    ['empty', ''],
    ['256 characters long', 'k'.repeat(256)],
    ['a single space', ' '],
  ])('an item whose idempotencyKey is %s is refused with a clear error and written nowhere', async (_why, idempotencyKey) => {
    const [ann] = await enrollMany(1);
    const before = await ledgerRowCounts(hub);

    const res = await recordPurchases([item(ann!, '10.00'), item(ann!, '10.00', { idempotencyKey })]);

    expect(res.status).not.toBe(500);
    expect(res.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('INTERNAL_SERVER_ERROR');
    if (res.errors) {
      // Refused as a whole, like recordPurchase: nothing written at all.
      expect(res.errors[0]!.extensions?.code).toBe('BAD_USER_INPUT');
      expect(await ledgerRowCounts(hub)).toEqual(before);
    } else {
      // Judged on its own: the bad item is INVALID_INPUT at its key, the good one posts.
      const payloads = res.data!.recordPurchases;
      expect(payloads[1]).toEqual({ transaction: null, member: null,
        userErrors: [{ code: 'INVALID_INPUT', field: ['inputs', '1', 'idempotencyKey'], message: expect.any(String) }] });
      expect(payloads[0]!.userErrors).toEqual([]);
      expect(grown(before, await ledgerRowCounts(hub))).toEqual({ ledger_transaction: 1, ledger_entry: 2, lot: 1 });
    }
  });
});

describe('idempotency inside a batch', () => {
  it('the same key, member and input twice in one batch post once and both return that transaction', async () => {
    const [ann] = await enrollMany(1);
    const twice = item(ann!, '40.00');
    const before = await ledgerRowCounts(hub);

    const [first, second] = payloadsOf(await recordPurchases([twice, { ...twice }]));

    expect(first!.userErrors).toEqual([]);
    expect(second!.userErrors).toEqual([]);
    expect(second!.transaction!.id).toBe(first!.transaction!.id);
    expect(await balanceOf(hub, ann!)).toBe(50);
    expect(grown(before, await ledgerRowCounts(hub))).toEqual({ ledger_transaction: 1, ledger_entry: 2, lot: 1 });
  });

  it('the same key and member with a different input in one batch: the second is IDEMPOTENCY_KEY_REUSED', async () => {
    const [ann] = await enrollMany(1);
    const first = item(ann!, '40.00');
    const before = await ledgerRowCounts(hub);

    const payloads = payloadsOf(await recordPurchases([first, { ...first, amount: '41.00' }]));

    expect(payloads[0]!.userErrors).toEqual([]);
    expect(payloads[0]!.transaction!.points).toBe(50);
    expect(payloads[1]).toEqual({ transaction: null, member: null,
      userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['inputs', '1', 'idempotencyKey'], message: expect.any(String) }] });
    expect(await balanceOf(hub, ann!)).toBe(50);
    expect(grown(before, await ledgerRowCounts(hub))).toEqual({ ledger_transaction: 1, ledger_entry: 2, lot: 1 });
  });

  it('the same key for two different members is two purchases: keys are unique per caller and member', async () => {
    const [ann, bob] = await enrollMany(2);
    const key = unique('shared');
    const payloads = payloadsOf(await recordPurchases([item(ann!, '8.00', { idempotencyKey: key }), item(bob!, '16.00', { idempotencyKey: key })]));
    expect(payloads.map((p) => p.userErrors)).toEqual([[], []]);
    expect(payloads[0]!.transaction!.id).not.toBe(payloads[1]!.transaction!.id);
    expect(await balanceOf(hub, ann!)).toBe(10);
    expect(await balanceOf(hub, bob!)).toBe(20);
  });

  it('re-sending a whole batch returns the same transactions and writes nothing new', async () => {
    const members = await enrollMany(3);
    const inputs = Array.from({ length: 30 }, (_, i) => item(members[i % 3]!, `${i + 1}.00`));
    const first = payloadsOf(await recordPurchases(inputs));
    expect(first.every((p) => p.userErrors.length === 0)).toBe(true);
    const balances = await Promise.all(members.map((m) => balanceOf(hub, m)));
    const before = await ledgerRowCounts(hub);

    const again = payloadsOf(await recordPurchases(inputs));

    expect(again.map((p) => p.userErrors)).toEqual(first.map(() => []));
    expect(again.map((p) => p.transaction!.id)).toEqual(first.map((p) => p.transaction!.id));
    expect(again.map((p) => p.transaction!.points)).toEqual(first.map((p) => p.transaction!.points));
    expect(await ledgerRowCounts(hub)).toEqual(before);
    expect(await Promise.all(members.map((m) => balanceOf(hub, m)))).toEqual(balances);
    expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  });

  it('a key first used by recordPurchase returns that purchase when it comes again in a batch', async () => {
    const [ann] = await enrollMany(1);
    const input = item(ann!, '16.00');
    const single = await hub.gql(`mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { ${POSTING_FIELDS} } }`, { input }, grocer.token);
    expect(single.data.recordPurchase.userErrors).toEqual([]);
    const before = await ledgerRowCounts(hub);

    const [p] = payloadsOf(await recordPurchases([input]));

    expect(p!.transaction!.id).toBe(single.data.recordPurchase.transaction.id);
    expect(await ledgerRowCounts(hub)).toEqual(before);
    expect(await balanceOf(hub, ann!)).toBe(20);
  });
});
