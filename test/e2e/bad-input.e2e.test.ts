import { encodeTransactionId, uuidv7 } from '../../src/common/ids';
import { GraphQLResponse, TestHub, post, startTestHub } from '../support/hub';
import {
  POSTING_FIELDS, TestMember, TestPartner, balanceOf, bonus, createPartner, enroll, ledgerRowCounts, purchase, reverse, unique,
} from '../support/scenario';

/**
 * The rule: bad input gets a clear error and writes nothing. An expected business failure is a
 * userError in the payload; a request the schema cannot accept is a GraphQL error (HTTP 400 when it
 * fails before execution). Never a 500, never an internal error, never a stack trace or SQL.
 */

let hub: TestHub;
let grocer: TestPartner;
let fuel: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  grocer = await createPartner(hub, { pointsPerUnit: '1' });
  fuel = await createPartner(hub, { pointsPerUnit: '1' });
});
afterAll(() => hub.close());

const RECORD_PURCHASE = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { ${POSTING_FIELDS} } }`;
const REDEEM_POINTS = `mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { ${POSTING_FIELDS} } }`;
const AWARD_BONUS = `mutation($input: AwardBonusInput!) { awardBonus(input: $input) { ${POSTING_FIELDS} } }`;
const REVERSE_TRANSACTION = `mutation($input: ReverseTransactionInput!) { reverseTransaction(input: $input) { ${POSTING_FIELDS} } }`;

type Mutation = 'recordPurchase' | 'redeemPoints' | 'awardBonus' | 'reverseTransaction';
type ErrorCode = 'INVALID_INPUT' | 'NOT_FOUND' | 'INSUFFICIENT_POINTS' | 'ALREADY_REVERSED';

/** A fresh member of the grocer with 100 points from one purchase of 100.00. */
async function memberWith100Points(): Promise<{ member: TestMember; purchaseId: string }> {
  const member = await enroll(hub, grocer);
  const bought = await purchase(hub, grocer, member, '100.00');
  expect(bought.userErrors).toEqual([]);
  return { member, purchaseId: bought.transaction.id };
}

/** Never a server fault: no 500, no internal error, no stack trace, no SQL in what the client sees. */
function expectNoFault(res: GraphQLResponse): void {
  expect(res.status).not.toBe(500);
  for (const error of res.errors ?? []) {
    expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    expect(error.extensions).not.toHaveProperty('stacktrace');
    expect(error.extensions).not.toHaveProperty('exception');
  }
  expect(JSON.stringify(res)).not.toMatch(/\b(SELECT|INSERT|UPDATE|unnest|ledger_transaction)\b|\.ts:\d+|node_modules/);
}

/** Makes a call that must be refused and checks that it wrote nothing and left the member's balance as it was. */
async function refused(member: TestMember, call: () => Promise<GraphQLResponse>): Promise<GraphQLResponse> {
  const rowsBefore = await ledgerRowCounts(hub);
  const balanceBefore = await balanceOf(hub, member);
  const res = await call();
  expectNoFault(res);
  expect(await ledgerRowCounts(hub)).toEqual(rowsBefore);
  expect(await balanceOf(hub, member)).toBe(balanceBefore);
  return res;
}

/** The payload carries exactly one userError with this code and field, and no result. */
function expectUserError(res: GraphQLResponse, mutation: Mutation, code: ErrorCode, field: string[], message?: RegExp): void {
  expect(res.status).toBe(200);
  expect(res.errors).toBeUndefined();
  const payload = res.data[mutation];
  expect(payload.transaction).toBeNull();
  expect(payload.member).toBeNull();
  expect(payload.userErrors).toEqual([{ code, field, message: expect.stringMatching(message ?? /\S/) }]);
}

/** A request refused before execution: HTTP 400, BAD_USER_INPUT, naming what is wrong, no data. */
function expectRefusedVariables(res: GraphQLResponse, mentions: RegExp): void {
  expect(res.status).toBe(400);
  expect(res.data).toBeUndefined();
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
  expect(res.errors![0]!.message).toMatch(mentions);
}

const recordPurchase = (member: TestMember, input: Record<string, unknown>, token = grocer.token) =>
  hub.gql(RECORD_PURCHASE, { input: { idempotencyKey: unique('k'), memberId: member.id, amount: '10.00', ...input } }, token);
const redeemPoints = (member: TestMember, input: Record<string, unknown>) =>
  hub.gql(REDEEM_POINTS, { input: { idempotencyKey: unique('k'), memberId: member.id, points: 10, ...input } }, grocer.token);
const awardBonus = (member: TestMember, input: Record<string, unknown>) =>
  hub.gql(AWARD_BONUS, { input: { idempotencyKey: unique('k'), memberId: member.id, action: 'CUSTOM', points: 10, ...input } }, grocer.token);
const reverseTransaction = (input: Record<string, unknown>, token = grocer.token) =>
  hub.gql(REVERSE_TRANSACTION, { input: { idempotencyKey: unique('k'), ...input } }, token);

describe('recordPurchase amount', () => {
  it.each([
    ['-5.00', 'negative', /greater than zero/],
    ['0', 'zero', /greater than zero/],
    ['0.00', 'zero with decimals', /greater than zero/],
    ['12.345', 'more decimals than EUR has', /at most 2 decimal places/],
    ['1000000000.01', 'over the 1e9 sanity bound', /at most 1000000000/],
  ])('%s (%s) is INVALID_INPUT on input.amount, and nothing is written', async (amount, _why, message) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => recordPurchase(member, { amount }));
    expectUserError(res, 'recordPurchase', 'INVALID_INPUT', ['input', 'amount'], message);
  });

  it.each([
    ['abc', 'not a number'],
    ['1e5', 'exponent notation'],
    ['', 'empty'],
    ['99999999999999999999', 'absurdly long (20 integer digits)'],
    ['12,50', 'a decimal comma'],
    [5.5, 'a JSON float, which may already have lost digits'],
    [null, 'null'],
  ])('%j (%s) fails the Decimal scalar: HTTP 400 BAD_USER_INPUT naming input.amount, nothing written', async (amount, _why) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => recordPurchase(member, { amount }));
    expectRefusedVariables(res, /input\.amount/);
  });

  it('a missing amount is HTTP 400 naming the field', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => hub.gql(RECORD_PURCHASE, { input: { idempotencyKey: unique('k'), memberId: member.id } }, grocer.token));
    expectRefusedVariables(res, /"amount" of required type "Decimal!" was not provided/);
  });
});

describe('recordPurchase other fields', () => {
  it('an occurredAt more than 5 minutes in the future is INVALID_INPUT on input.occurredAt', async () => {
    const { member } = await memberWith100Points();
    const occurredAt = new Date(Date.now() + 10 * 60_000).toISOString();
    const res = await refused(member, () => recordPurchase(member, { occurredAt }));
    expectUserError(res, 'recordPurchase', 'INVALID_INPUT', ['input', 'occurredAt'], /future/);
  });

  it('an occurredAt that is not a date-time is HTTP 400', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => recordPurchase(member, { occurredAt: 'yesterday' }));
    expectRefusedVariables(res, /input\.occurredAt/);
  });

  it.each([
    ['lines that do not sum to the amount', [{ amount: '4.00' }, { amount: '5.00' }], ['input', 'lines'], /sum to 9/],
    ['a line with more decimals than EUR has', [{ amount: '5.00' }, { amount: '4.995' }, { amount: '0.005' }], ['input', 'lines', '1', 'amount'], /at most 2 decimal places/],
    ['a negative line', [{ amount: '11.00' }, { amount: '-1.00' }], ['input', 'lines', '1', 'amount'], /non-negative/],
  ])('%s is INVALID_INPUT (amount 10.00)', async (_why, lines, field, message) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => recordPurchase(member, { amount: '10.00', lines }));
    const payload = res.data.recordPurchase;
    expect(payload.transaction).toBeNull();
    expect(payload.userErrors).toContainEqual({ code: 'INVALID_INPUT', field, message: expect.stringMatching(message) });
    expect(payload.userErrors.every((e: { code: string }) => e.code === 'INVALID_INPUT')).toBe(true);
  });

  it.each([
    ['an unknown member id', () => uuidv7()],
    ['an id that is not a uuid', () => 'not-a-member'],
  ])('%s is NOT_FOUND on input.memberId', async (_why, memberId) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => recordPurchase(member, { memberId: memberId() }));
    expectUserError(res, 'recordPurchase', 'NOT_FOUND', ['input', 'memberId']);
  });

  it('a member not linked to the partner is NOT_FOUND, as if it did not exist', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => recordPurchase(member, {}, fuel.token));
    expectUserError(res, 'recordPurchase', 'NOT_FOUND', ['input', 'memberId']);
  });

  it('an affiliate code no affiliate holds is INVALID_INPUT on input.affiliateCode', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => recordPurchase(member, { affiliateCode: 'NOBODY' }));
    expectUserError(res, 'recordPurchase', 'INVALID_INPUT', ['input', 'affiliateCode']);
  });

  it('a partner naming another partner in partnerId is INVALID_INPUT', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => recordPurchase(member, { partnerId: fuel.id }));
    expectUserError(res, 'recordPurchase', 'INVALID_INPUT', ['input', 'partnerId']);
  });
});

describe('redeemPoints', () => {
  it.each([
    [0, 'zero'],
    [-1, 'negative'],
  ])('points %j (%s) is INVALID_INPUT on input.points', async (points, _why) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => redeemPoints(member, { points }));
    expectUserError(res, 'redeemPoints', 'INVALID_INPUT', ['input', 'points']);
  });

  it.each([
    [2147483648, 'beyond a 32-bit Int'],
    [1.5, 'a fraction'],
    ['10', 'a string'],
    [null, 'null'],
  ])('points %j (%s) fails the Int scalar: HTTP 400', async (points, _why) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => redeemPoints(member, { points }));
    expectRefusedVariables(res, /input\.points/);
  });

  it('more points than the balance is INSUFFICIENT_POINTS, and the balance stays', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => redeemPoints(member, { points: 101 }));
    expectUserError(res, 'redeemPoints', 'INSUFFICIENT_POINTS', ['input', 'points'], /100 points/);
  });

  it.each([
    ['an unknown member id', () => uuidv7()],
    ['an id that is not a uuid', () => 'garbage'],
  ])('%s is NOT_FOUND on input.memberId', async (_why, memberId) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => redeemPoints(member, { memberId: memberId() }));
    expectUserError(res, 'redeemPoints', 'NOT_FOUND', ['input', 'memberId']);
  });
});

describe('awardBonus', () => {
  it.each([
    [0, 'zero'],
    [-5, 'negative'],
  ])('points %j (%s) is INVALID_INPUT on input.points', async (points, _why) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => awardBonus(member, { points }));
    expectUserError(res, 'awardBonus', 'INVALID_INPUT', ['input', 'points']);
  });

  it('an action outside BonusAction is HTTP 400', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => awardBonus(member, { action: 'LOTTERY' }));
    expectRefusedVariables(res, /input\.action/);
  });

  it('an unknown member is NOT_FOUND on input.memberId', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => awardBonus(member, { memberId: uuidv7() }));
    expectUserError(res, 'awardBonus', 'NOT_FOUND', ['input', 'memberId']);
  });
});

describe('reverseTransaction', () => {
  it.each([
    ['garbage', () => 'garbage'],
    ['a well-formed id of no transaction', () => encodeTransactionId(uuidv7(), uuidv7())],
    ['a uuid', () => uuidv7()],
  ])('a transactionId that is %s is NOT_FOUND', async (_why, transactionId) => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => reverseTransaction({ transactionId: transactionId() }));
    expectUserError(res, 'reverseTransaction', 'NOT_FOUND', ['input', 'transactionId']);
  });

  it('an id of a transaction of this member that does not exist is NOT_FOUND', async () => {
    const { member } = await memberWith100Points();
    const res = await refused(member, () => reverseTransaction({ transactionId: encodeTransactionId(member.id, uuidv7()) }));
    expectUserError(res, 'reverseTransaction', 'NOT_FOUND', ['input', 'transactionId']);
  });

  it.each([
    ['0', 'zero', /greater than zero/],
    ['-1.00', 'negative', /greater than zero/],
    ['1.001', 'too precise', /decimal places/],
    ['100.01', 'more than the purchase of 100.00', /more than is left/],
  ])('a refund amount of %s (%s) is INVALID_INPUT on input.amount', async (amount, _why, message) => {
    const { member, purchaseId } = await memberWith100Points();
    const res = await refused(member, () => reverseTransaction({ transactionId: purchaseId, amount }));
    expectUserError(res, 'reverseTransaction', 'INVALID_INPUT', ['input', 'amount'], message);
  });

  it('refunding more than is left after a partial refund is INVALID_INPUT', async () => {
    const { member, purchaseId } = await memberWith100Points();
    expect((await reverse(hub, grocer.token, purchaseId, '60.00')).userErrors).toEqual([]);
    const res = await refused(member, () => reverseTransaction({ transactionId: purchaseId, amount: '40.01' }));
    expectUserError(res, 'reverseTransaction', 'INVALID_INPUT', ['input', 'amount'], /more than is left/);
  });

  it('an amount on a bonus reversal is INVALID_INPUT: bonuses reverse whole', async () => {
    const { member } = await memberWith100Points();
    const awarded = await bonus(hub, grocer.token, member, 50);
    expect(awarded.userErrors).toEqual([]);
    const res = await refused(member, () => reverseTransaction({ transactionId: awarded.transaction.id, amount: '1.00' }));
    expectUserError(res, 'reverseTransaction', 'INVALID_INPUT', ['input', 'amount']);
  });

  it('an amount on a redemption reversal is INVALID_INPUT: redemptions reverse whole', async () => {
    const { member } = await memberWith100Points();
    const spent = (await redeemPoints(member, { points: 10 })).data.redeemPoints;
    expect(spent.userErrors).toEqual([]);
    const res = await refused(member, () => reverseTransaction({ transactionId: spent.transaction.id, amount: '1.00' }));
    expectUserError(res, 'reverseTransaction', 'INVALID_INPUT', ['input', 'amount']);
  });

  it('reversing a reversal is INVALID_INPUT', async () => {
    const { member, purchaseId } = await memberWith100Points();
    const refund = await reverse(hub, grocer.token, purchaseId, '10.00');
    expect(refund.userErrors).toEqual([]);
    const res = await refused(member, () => reverseTransaction({ transactionId: refund.transaction.id }));
    expectUserError(res, 'reverseTransaction', 'INVALID_INPUT', ['input', 'transactionId'], /reversal cannot itself be reversed/);
  });

  it('reversing a fully refunded purchase is ALREADY_REVERSED', async () => {
    const { member, purchaseId } = await memberWith100Points();
    expect((await reverse(hub, grocer.token, purchaseId)).userErrors).toEqual([]);
    const res = await refused(member, () => reverseTransaction({ transactionId: purchaseId }));
    expectUserError(res, 'reverseTransaction', 'ALREADY_REVERSED', ['input', 'transactionId']);
  });

  it('reversing a purchase refunded in parts up to its total is ALREADY_REVERSED', async () => {
    const { member, purchaseId } = await memberWith100Points();
    expect((await reverse(hub, grocer.token, purchaseId, '30.00')).userErrors).toEqual([]);
    expect((await reverse(hub, grocer.token, purchaseId, '70.00')).userErrors).toEqual([]);
    const res = await refused(member, () => reverseTransaction({ transactionId: purchaseId, amount: '0.01' }));
    expectUserError(res, 'reverseTransaction', 'ALREADY_REVERSED', ['input', 'transactionId']);
  });

  it('reversing a bonus twice is ALREADY_REVERSED', async () => {
    const { member } = await memberWith100Points();
    const awarded = await bonus(hub, grocer.token, member, 50);
    expect((await reverse(hub, grocer.token, awarded.transaction.id)).userErrors).toEqual([]);
    const res = await refused(member, () => reverseTransaction({ transactionId: awarded.transaction.id }));
    expectUserError(res, 'reverseTransaction', 'ALREADY_REVERSED', ['input', 'transactionId']);
  });

  it.each([
    ['is not linked to', false],
    ['is linked to', true],
  ])('another partner reversing a purchase of a member it %s is NOT_FOUND', async (_why, linked) => {
    const email = `${unique('shared')}@example.com`;
    const member = await enroll(hub, grocer, { email });
    const bought = await purchase(hub, grocer, member, '100.00');
    if (linked) {
      // Enrolling an existing member by one of its identifiers is how a partner links it.
      const link = await enroll(hub, fuel, { email });
      expect(link.id).toBe(member.id);
    }
    const res = await refused(member, () => reverseTransaction({ transactionId: bought.transaction.id }, fuel.token));
    expectUserError(res, 'reverseTransaction', 'NOT_FOUND', ['input', 'transactionId']);
  });
});

describe('idempotency keys: 1 to 255 printable characters, not blank', () => {
  const longKey = 'k'.repeat(256);
  it.each([
    ['recordPurchase', 'empty', ''],
    ['recordPurchase', '256 characters long', longKey],
    ['recordPurchase', 'a single space', ' '],
    ['recordPurchase', 'only white space', ' \u00a0 '],
    ['recordPurchase', 'holding a tab (a control character)', 'a\tb'],
    ['recordPurchase', 'holding a line feed', 'a\nb'],
    ['recordPurchase', 'holding U+0007 BEL', 'a\u0007b'],
    ['recordPurchase', 'holding U+202E (bidirectional override)', 'a\u202eb'],
    ['redeemPoints', 'empty', ''],
    ['redeemPoints', '256 characters long', longKey],
    ['redeemPoints', 'a single space', ' '],
    ['awardBonus', 'empty', ''],
    ['awardBonus', '256 characters long', longKey],
    ['awardBonus', 'a single space', ' '],
    ['reverseTransaction', 'empty', ''],
    ['reverseTransaction', '256 characters long', longKey],
    ['reverseTransaction', 'a single space', ' '],
  ] as [Mutation, string, string][])('%s with an idempotencyKey that is %s is a BAD_USER_INPUT error naming idempotencyKey', async (mutation, _why, idempotencyKey) => {
    const { member, purchaseId } = await memberWith100Points();
    const res = await refused(member, () => {
      switch (mutation) {
        case 'recordPurchase': return recordPurchase(member, { idempotencyKey });
        case 'redeemPoints': return redeemPoints(member, { idempotencyKey });
        case 'awardBonus': return awardBonus(member, { idempotencyKey });
        case 'reverseTransaction': return reverseTransaction({ transactionId: purchaseId, idempotencyKey });
      }
    });
    expect([200, 400]).toContain(res.status);
    expect(res.data?.[mutation] ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res.errors![0])).toContain('idempotencyKey');
  });

  it('a key of 255 characters, the most allowed, is accepted, and so is one with inner spaces and non-ASCII letters', async () => {
    const { member } = await memberWith100Points();
    const res = await recordPurchase(member, { idempotencyKey: 'k'.repeat(255) });
    expect(res.data.recordPurchase.userErrors).toEqual([]);
    expect(res.data.recordPurchase.member.balance).toBe(110);
    const again = await recordPurchase(member, { idempotencyKey: 'k'.repeat(255) });
    expect(again.data.recordPurchase.member.balance).toBe(110); // the same key: the first result, nothing posted
    const spaced = await recordPurchase(member, { idempotencyKey: ' order 42 / kasse 1 – Jänner ' });
    expect(spaced.data.recordPurchase.userErrors).toEqual([]);
  });

  it('donatePoints with a key of a single space is BAD_USER_INPUT naming idempotencyKey, and nothing is written', async () => {
    const { member } = await memberWith100Points();
    const cause = await hub.gql('mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { id } } }', { input: { name: unique('Cause ') } }, hub.admin);
    const res = await refused(member, () => hub.gql('mutation($input: DonatePointsInput!) { donatePoints(input: $input) { userErrors { code } } }',
      { input: { idempotencyKey: ' ', causeId: cause.data.createCause.cause.id, points: 10 } }, member.token));
    expect(res.data?.donatePoints ?? null).toBeNull();
    expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res.errors![0])).toContain('idempotencyKey');
  });
});

describe('text a database cannot store', () => {
  // PostgreSQL text cannot hold a NUL character: the hub must refuse it as bad input, not fail on it.
  it.each([
    ['recordPurchase', 'idempotencyKey'],
    ['redeemPoints', 'idempotencyKey'],
    ['redeemPoints', 'description'],
    ['awardBonus', 'description'],
  ] as [Mutation, string][])('%s with a NUL character in %s gets a clear error and writes nothing', async (mutation, field) => {
    const { member } = await memberWith100Points();
    const input = { [field]: `bad\u0000${unique('x')}` };
    const res = await refused(member, () => (mutation === 'recordPurchase' ? recordPurchase(member, input)
      : mutation === 'redeemPoints' ? redeemPoints(member, input) : awardBonus(member, input)));
    const clear = res.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT'
      || res.data?.[mutation]?.userErrors?.some((e: { code: string }) => e.code === 'INVALID_INPUT');
    expect({ clear, response: res }).toMatchObject({ clear: true });
  });

  it.each([
    ['createCause', 'mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { id } userErrors { code message field } } }', { name: 'Food\u202eknaB' }],
    ['createAffiliate', 'mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id } userErrors { code message field } } }', { name: 'Pat\u2066Evil', email: 'pat.bidi@example.com' }],
  ] as [string, string, Record<string, string>][])('%s with a bidirectional override in its name (U+202E, U+2066: "Trojan Source") is refused and writes nothing', async (mutation, query, input) => {
    const res = await hub.gql(query, { input }, hub.admin);
    // The free-text guard (docs/rules.md, Free text) answers INVALID_INPUT naming the field, no longer a GraphQL error.
    expect(res.errors).toBeUndefined();
    expect(res.data[mutation].userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'name'], message: expect.stringMatching(/^name may not contain control characters or invisible formatting characters/) }]);
    const stored = await hub.db.query(mutation === 'createCause' ? 'SELECT count(*)::int AS n FROM cause WHERE name LIKE $1' : 'SELECT count(*)::int AS n FROM affiliate WHERE name LIKE $1',
      [`${input.name!.slice(0, 3)}%`]);
    expect(stored[0].n).toBe(0);
  });

  it('whatever the server answers, no SQL, driver message or stack trace reaches the client', async () => {
    const { member } = await memberWith100Points();
    const res = await awardBonus(member, { description: 'x\u0000y' });
    const text = JSON.stringify(res);
    expect(res.status).not.toBe(500);
    expect(text).not.toMatch(/invalid byte sequence|SELECT|INSERT|unnest|ledger_transaction|QueryFailedError|\.ts:\d+|node_modules|stacktrace/);
  });
});

describe('transport and query limits', () => {
  // None of these requests may write anything either.
  let rowsBefore: Record<string, number>;
  beforeEach(async () => { rowsBefore = await ledgerRowCounts(hub); });
  afterEach(async () => { expect(await ledgerRowCounts(hub)).toEqual(rowsBefore); });

  const coalitionName = '{ coalition { name } }';
  const postRaw = (body: string, headers: Record<string, string> = {}) =>
    fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.admin}`, ...headers }, body });

  it('a well-formed query is served (the control for the cases below)', async () => {
    const res = await hub.gql(coalitionName, {}, hub.admin);
    expect(res).toMatchObject({ status: 200, data: { coalition: { name: expect.any(String) } } });
  });

  it('malformed GraphQL is HTTP 400 GRAPHQL_PARSE_FAILED', async () => {
    const res = await hub.gql('mutation { recordPurchase( }', {}, grocer.token);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expectNoFault(res);
  });

  it.each([
    ['not JSON at all', 'this is not json'],
    ['truncated JSON', '{"query": "{ coalition { name } }"'],
  ])('a body that is %s is HTTP 400', async (_why, body) => {
    const res = await postRaw(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { errors: { message: string }[] };
    expect(json.errors[0].message).toMatch(/not valid JSON/);
  });

  it('a body without a query is HTTP 400', async () => {
    const res = await post(hub.url, { variables: {} }, hub.admin);
    expect(res.status).toBe(400);
    expectNoFault(res);
  });

  it('an unknown field is HTTP 400 GRAPHQL_VALIDATION_FAILED', async () => {
    const res = await hub.gql('{ coalition { name secretSauce } }', {}, hub.admin);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors![0]!.message).toMatch(/secretSauce/);
  });

  it('a body over 1 MB is HTTP 413 (declared by content-length)', async () => {
    const res = await post(hub.url, { query: coalitionName, padding: 'x'.repeat(1024 * 1024) }, hub.admin);
    expect(res.status).toBe(413);
    expect(res.errors![0]!.message).toMatch(/over 1048576 bytes/);
  });

  it('a body over 1 MB is HTTP 413 (streamed, without content-length)', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode(`{"query":"${coalitionName}","padding":"`));
        if (sent >= 20) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
          return;
        }
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit)
      .then((r) => ({ status: r.status }), (error: Error) => ({ status: `no response: ${error.message}: ${String((error as { cause?: unknown }).cause)}` }));
    expect(res.status).toBe(413);
  });

  const nested = (depth: number) => `{ coalition { ${'... on Coalition { '.repeat(depth - 2)}name${' }'.repeat(depth - 2)} } }`;

  it('a query 12 deep is served', async () => {
    const res = await hub.gql(nested(12), {}, hub.admin);
    expect(res.status).toBe(200);
    expect(res.data.coalition.name).toEqual(expect.any(String));
  });

  it('a query 13 deep (over the limit of 12) is HTTP 400', async () => {
    const res = await hub.gql(nested(13), {}, hub.admin);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.message).toMatch(/depth limit of 12 exceeded/);
    expect(res.data).toBeUndefined();
  });

  const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: coalition { name }`).join(' ')} }`;

  it('20 aliases are served', async () => {
    const res = await hub.gql(aliased(20), {}, hub.admin);
    expect(res.status).toBe(200);
    expect(Object.keys(res.data)).toHaveLength(20);
  });

  it('21 aliases (over the limit of 20) is HTTP 400', async () => {
    const res = await hub.gql(aliased(21), {}, hub.admin);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.message).toMatch(/Aliases limit of 20 exceeded/);
  });

  it('a query of over 2000 tokens is HTTP 400', async () => {
    const res = await hub.gql(`{ coalition { ${'name '.repeat(2100)}} }`, {}, hub.admin);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(res.errors![0]!.message).toMatch(/Document contains more th\w+ 2000 tokens/);
  });

  it('a query of well under 2000 tokens is served', async () => {
    const res = await hub.gql(`{ coalition { ${'name '.repeat(400)}} }`, {}, hub.admin);
    expect(res.status).toBe(200);
  });

  it.each([
    ['GET', '/nope'],
    ['POST', '/nope'],
    ['GET', '/graphql/extra'],
  ])('%s %s is HTTP 404', async (method, path) => {
    const res = await fetch(new URL(path, hub.url), { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(res.status).toBe(404);
  });

  it('a batched (array) request body is refused, not a 500', async () => {
    const res = await postRaw(JSON.stringify([{ query: coalitionName }, { query: coalitionName }]));
    expect(res.status).toBe(400);
  });
});
