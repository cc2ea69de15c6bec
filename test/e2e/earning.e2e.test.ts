import { Role } from '../../src/api/auth';
import { TestHub, startTestHub } from '../support/hub';
import {
  POSTING_FIELDS, TestMember, TestPartner, bonus, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, reverse, unique,
} from '../support/scenario';

/**
 * The earn engine through GraphQL (docs/rules.md, Earning): the earn steps and their combinations,
 * quotePurchase against recordPurchase, promotions, updateEarnRule and limits on action bonuses.
 * This file configures no tiers and no referrals (they are coalition-wide): tiered earning and
 * tier promotions are in tiers-referrals-expiry.e2e.test.ts.
 */
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const RECORD = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { ${POSTING_FIELDS} } }`;
const QUOTE = 'query($input: RecordPurchaseInput!) { quotePurchase(input: $input) { points breakdown { rule points detail } userErrors { code message field } } }';
const CREATE_PROMOTION = `mutation($input: CreatePromotionInput!) { createPromotion(input: $input) {
  promotion { id partnerId name startsAt endsAt multiplier bonusPoints categories tiers minSpend } userErrors { code message field } } }`;
const SET_BONUS_LIMITS = `mutation($input: SetBonusLimitsInput!) { setBonusLimits(input: $input) {
  partner { id bonusLimits { action maxCount periodDays } } userErrors { code message field } } }`;
const UPDATE_EARN_RULE = `mutation($input: UpdateEarnRuleInput!) { updateEarnRule(input: $input) {
  partner { id earnRule { pointsPerUnit firstPurchaseBonus } } userErrors { code message field } } }`;

const DAY_MS = 86_400_000;
const NOW = Date.now();
/** UTC midnight ten days ago: purchases placed on it and the day after, by occurredAt. */
const DAY = Math.floor(NOW / DAY_MS) * DAY_MS - 10 * DAY_MS;
const at = (hours: number, minutes = 0, seconds = 0, ms = 0, day = DAY) => new Date(day + ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms).toISOString();
const NEXT_DAY = DAY + DAY_MS;
/** A promotion window around now, for promotions that are not about their window. */
const ACTIVE = { startsAt: new Date(NOW - DAY_MS).toISOString(), endsAt: new Date(NOW + DAY_MS).toISOString() };

type Line = { sku?: string; category?: string; amount: string };
interface PurchaseSpec {
  amount: string;
  lines?: Line[];
  occurredAt?: string;
}
type Steps = [string, number][];

async function createPromotion(partner: TestPartner, promotion: Record<string, unknown>) {
  const res = await hub.gql(CREATE_PROMOTION, { input: { partnerId: partner.id, name: unique('promo'), ...ACTIVE, ...promotion } }, hub.admin);
  expect(res.errors).toBeUndefined();
  expect(res.data.createPromotion.userErrors).toEqual([]);
  return res.data.createPromotion.promotion;
}

async function quote(token: string, input: Record<string, unknown>) {
  const res = await hub.gql(QUOTE, { input }, token);
  expect(res.errors).toBeUndefined();
  return res.data.quotePurchase;
}

async function record(token: string, input: Record<string, unknown>) {
  const res = await hub.gql(RECORD, { input }, token);
  expect(res.errors).toBeUndefined();
  return res.data.recordPurchase;
}

/** Breakdown lines as [rule, points], in a stable order (promotions come in no promised order). */
const steps = (breakdown: { rule: string; points: number }[]): Steps => breakdown.map((b): [string, number] => [b.rule, b.points]);
const sorted = (list: Steps): Steps => [...list].sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));

/**
 * Quotes the purchase, checks the quote wrote nothing, records the same input and checks the
 * posting is exactly what was quoted.
 */
async function quoteThenRecord(partner: TestPartner, member: TestMember, spec: PurchaseSpec) {
  const input = { idempotencyKey: unique('k'), memberId: member.id, ...spec };
  const before = await ledgerRowCounts(hub);
  const quoted = await quote(partner.token, input);
  expect(quoted.userErrors).toEqual([]);
  expect(await ledgerRowCounts(hub)).toEqual(before);
  const recorded = await record(partner.token, input);
  expect(recorded.userErrors).toEqual([]);
  expect(recorded.transaction.points).toBe(quoted.points);
  expect(recorded.transaction.breakdown).toEqual(quoted.breakdown);
  return { quoted, recorded };
}

type EarnCase = [string, { rule: Record<string, unknown>; promotions?: Record<string, unknown>[]; before?: PurchaseSpec[];
  purchase: PurchaseSpec; points: number; steps: Steps }];

describe('the earn steps, quoted and then recorded', () => {
  const fuel2 = [{ category: 'fuel', multiplier: '2' }];
  const cases: EarnCase[] = [
    ['19.99 at 1.25 points per unit = 24.9875, rounded down once',
      { rule: { pointsPerUnit: '1.25' }, purchase: { amount: '19.99' }, points: 24, steps: [['BASE', 24]] }],
    ['a category multiplier applies to its line',
      { rule: { pointsPerUnit: '1', categoryMultipliers: fuel2 }, purchase: { amount: '15.00', lines: [{ sku: 'a', category: 'fuel', amount: '10.00' }, { sku: 'b', category: 'food', amount: '5.00' }] },
        points: 25, steps: [['BASE', 25]] }],
    ['one floor at the end, not per line: 0.40 and 0.40 at 1.25 = 0.5 + 0.5 = 1',
      { rule: { pointsPerUnit: '1.25' }, purchase: { amount: '0.80', lines: [{ category: 'a', amount: '0.40' }, { category: 'b', amount: '0.40' }] },
        points: 1, steps: [['BASE', 1]] }],
    ['every step exact: 19.99 × 1.25 × category 1.5 × promotion 2 = 74.9625',
      { rule: { pointsPerUnit: '1.25', categoryMultipliers: [{ category: 'fuel', multiplier: '1.5' }] }, promotions: [{ multiplier: '2' }],
        purchase: { amount: '19.99', lines: [{ category: 'fuel', amount: '19.99' }] }, points: 74, steps: [['BASE', 74]] }],
    ['below minSpend earns nothing, and is recorded',
      { rule: { pointsPerUnit: '1', minSpend: '10.00' }, purchase: { amount: '9.99' }, points: 0, steps: [['MIN_SPEND', 0]] }],
    ['exactly minSpend earns',
      { rule: { pointsPerUnit: '1', minSpend: '10.00' }, purchase: { amount: '10.00' }, points: 10, steps: [['BASE', 10]] }],
    ['a promotion applies to a purchase at exactly its startsAt',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2', startsAt: at(12), endsAt: at(14) }],
        purchase: { amount: '10.00', occurredAt: at(12) }, points: 20, steps: [['BASE', 20]] }],
    ['a promotion applies up to the last millisecond before its endsAt',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2', startsAt: at(12), endsAt: at(14) }],
        purchase: { amount: '10.00', occurredAt: at(13, 59, 59, 999) }, points: 20, steps: [['BASE', 20]] }],
    ['a promotion does not apply to a purchase at exactly its endsAt',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2', startsAt: at(12), endsAt: at(14) }],
        purchase: { amount: '10.00', occurredAt: at(14) }, points: 10, steps: [['BASE', 10]] }],
    ['a promotion does not apply before its startsAt',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2', startsAt: at(12), endsAt: at(14) }],
        purchase: { amount: '10.00', occurredAt: at(11, 59, 59, 999) }, points: 10, steps: [['BASE', 10]] }],
    ['a promotion limited to categories multiplies only their lines',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '3', categories: ['fuel'] }],
        purchase: { amount: '20.00', lines: [{ category: 'fuel', amount: '10.00' }, { category: 'food', amount: '10.00' }] }, points: 40, steps: [['BASE', 40]] }],
    ['a promotion without categories covers every line',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '3', categories: [] }],
        purchase: { amount: '20.00', lines: [{ category: 'fuel', amount: '10.00' }, { category: 'food', amount: '10.00' }] }, points: 60, steps: [['BASE', 60]] }],
    ['multipliers do not stack: the largest wins',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2' }, { multiplier: '3' }], purchase: { amount: '10.00' }, points: 30, steps: [['BASE', 30]] }],
    ['the largest matching multiplier is chosen line by line',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2' }, { multiplier: '3', categories: ['fuel'] }],
        purchase: { amount: '20.00', lines: [{ category: 'fuel', amount: '10.00' }, { category: 'food', amount: '10.00' }] }, points: 50, steps: [['BASE', 50]] }],
    ["every matching promotion's bonus points add; one that matches no line adds nothing",
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2', bonusPoints: 5 }, { multiplier: '3', bonusPoints: 7 }, { bonusPoints: 11, categories: ['books'] }],
        purchase: { amount: '10.00', lines: [{ category: 'fuel', amount: '10.00' }] }, points: 42, steps: [['BASE', 30], ['PROMOTION_BONUS', 5], ['PROMOTION_BONUS', 7]] }],
    ['promotion minSpend not reached by the purchase total',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2', bonusPoints: 5, minSpend: '50.00' }], purchase: { amount: '49.99' }, points: 49, steps: [['BASE', 49]] }],
    ['promotion minSpend reached exactly',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2', bonusPoints: 5, minSpend: '50.00' }], purchase: { amount: '50.00' },
        points: 105, steps: [['BASE', 100], ['PROMOTION_BONUS', 5]] }],
    ['promotion minSpend is judged on the purchase total, not on its line',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '2', categories: ['fuel'], minSpend: '50.00' }],
        purchase: { amount: '50.00', lines: [{ category: 'fuel', amount: '30.00' }, { category: 'food', amount: '20.00' }] }, points: 80, steps: [['BASE', 80]] }],
    ['the first purchase at the partner gets the first-purchase bonus',
      { rule: { pointsPerUnit: '1', firstPurchaseBonus: 50 }, purchase: { amount: '10.00' }, points: 60, steps: [['BASE', 10], ['FIRST_PURCHASE_BONUS', 50]] }],
    ['the second purchase at the partner does not',
      { rule: { pointsPerUnit: '1', firstPurchaseBonus: 50 }, before: [{ amount: '10.00' }], purchase: { amount: '10.00' }, points: 10, steps: [['BASE', 10]] }],
    ['punch card every 3rd visit: not on the 2nd',
      { rule: { pointsPerUnit: '1', everyNthVisit: 3, visitBonus: 20 }, before: [{ amount: '1.00' }], purchase: { amount: '10.00' }, points: 10, steps: [['BASE', 10]] }],
    ['punch card every 3rd visit: the 3rd',
      { rule: { pointsPerUnit: '1', everyNthVisit: 3, visitBonus: 20 }, before: [{ amount: '1.00' }, { amount: '1.00' }], purchase: { amount: '10.00' },
        points: 30, steps: [['BASE', 10], ['VISIT_BONUS', 20]] }],
    ['punch card every 3rd visit: not on the 4th',
      { rule: { pointsPerUnit: '1', everyNthVisit: 3, visitBonus: 20 }, before: Array.from({ length: 3 }, () => ({ amount: '1.00' })), purchase: { amount: '10.00' },
        points: 10, steps: [['BASE', 10]] }],
    ['punch card every 3rd visit: the 6th',
      { rule: { pointsPerUnit: '1', everyNthVisit: 3, visitBonus: 20 }, before: Array.from({ length: 5 }, () => ({ amount: '1.00' })), purchase: { amount: '10.00' },
        points: 30, steps: [['BASE', 10], ['VISIT_BONUS', 20]] }],
    ['punch card: purchases below minSpend (1.00 of 5.00) are not visits: the 10.00 after two of them is visit 1, no bonus',
      { rule: { pointsPerUnit: '1', minSpend: '5.00', everyNthVisit: 3, visitBonus: 20 }, before: [{ amount: '1.00' }, { amount: '1.00' }], purchase: { amount: '10.00' },
        points: 10, steps: [['BASE', 10]] }],
    ['punch card: the 3rd visit reaching minSpend earns the bonus, below-minSpend purchases between them do not count',
      { rule: { pointsPerUnit: '1', minSpend: '5.00', everyNthVisit: 3, visitBonus: 20 }, before: [{ amount: '5.00' }, { amount: '1.00' }, { amount: '5.00' }, { amount: '4.99' }],
        purchase: { amount: '10.00' }, points: 30, steps: [['BASE', 10], ['VISIT_BONUS', 20]] }],
    ['a purchase below minSpend (4.99 of 5.00) does not use up the first-purchase bonus: the 5.00 after it gets 50',
      { rule: { pointsPerUnit: '1', minSpend: '5.00', firstPurchaseBonus: 50 }, before: [{ amount: '4.99' }], purchase: { amount: '5.00' },
        points: 55, steps: [['BASE', 5], ['FIRST_PURCHASE_BONUS', 50]] }],
    ['rule category "fuel" ×2 applies to a line of category "Fuel"',
      { rule: { pointsPerUnit: '1', categoryMultipliers: [{ category: 'fuel', multiplier: '2' }] }, purchase: { amount: '10.00', lines: [{ category: 'Fuel', amount: '10.00' }] },
        points: 20, steps: [['BASE', 20]] }],
    ['promotion category "FUEL" ×3 matches a line of category " fuel "',
      { rule: { pointsPerUnit: '1' }, promotions: [{ multiplier: '3', categories: ['FUEL'] }],
        purchase: { amount: '20.00', lines: [{ category: ' fuel ', amount: '10.00' }, { category: 'food', amount: '10.00' }] }, points: 40, steps: [['BASE', 40]] }],
    ['tobacco ×0 is excluded: 20.00 of tobacco earns 0 while 10.00 of food earns 10',
      { rule: { pointsPerUnit: '1', categoryMultipliers: [{ category: 'tobacco', multiplier: '0' }] },
        purchase: { amount: '30.00', lines: [{ category: 'Tobacco', amount: '20.00' }, { category: 'food', amount: '10.00' }] }, points: 10, steps: [['BASE', 10]] }],
    ['maxPointsPerTransaction caps after the bonuses',
      { rule: { pointsPerUnit: '10', maxPointsPerTransaction: 500, firstPurchaseBonus: 100 }, purchase: { amount: '45.00' },
        points: 500, steps: [['BASE', 450], ['FIRST_PURCHASE_BONUS', 100], ['MAX_PER_TRANSACTION', -50]] }],
    ['maxPointsPerMemberPerDay: a second purchase the same UTC day earns what is left of the day',
      { rule: { pointsPerUnit: '1', maxPointsPerMemberPerDay: 100 }, before: [{ amount: '70.00', occurredAt: at(9) }],
        purchase: { amount: '50.00', occurredAt: at(18) }, points: 30, steps: [['BASE', 50], ['MAX_PER_DAY', -20]] }],
    ['maxPointsPerMemberPerDay: the last millisecond of the UTC day is the same day',
      { rule: { pointsPerUnit: '1', maxPointsPerMemberPerDay: 100 }, before: [{ amount: '70.00', occurredAt: at(0) }],
        purchase: { amount: '50.00', occurredAt: at(23, 59, 59, 999) }, points: 30, steps: [['BASE', 50], ['MAX_PER_DAY', -20]] }],
    ['maxPointsPerMemberPerDay: the next UTC day starts afresh',
      { rule: { pointsPerUnit: '1', maxPointsPerMemberPerDay: 100 }, before: [{ amount: '70.00', occurredAt: at(9) }],
        purchase: { amount: '50.00', occurredAt: at(0, 0, 0, 0, NEXT_DAY) }, points: 50, steps: [['BASE', 50]] }],
    ['maxPointsPerMemberPerDay: a day at its cap earns nothing more, and the purchase is recorded',
      { rule: { pointsPerUnit: '1', maxPointsPerMemberPerDay: 100 }, before: [{ amount: '100.00', occurredAt: at(9) }],
        purchase: { amount: '50.00', occurredAt: at(10) }, points: 0, steps: [['BASE', 50], ['MAX_PER_DAY', -50]] }],
    ['the transaction cap first, then what is left of the day cap',
      { rule: { pointsPerUnit: '1', maxPointsPerTransaction: 40, maxPointsPerMemberPerDay: 100 },
        before: [{ amount: '70.00', occurredAt: at(9) }, { amount: '45.00', occurredAt: at(10) }], // 40 + 40 earned that day
        purchase: { amount: '50.00', occurredAt: at(11) }, points: 20, steps: [['BASE', 50], ['MAX_PER_TRANSACTION', -10], ['MAX_PER_DAY', -20]] }],
  ];

  it.each(cases)('%s', async (_why, c) => {
    const partner = await createPartner(hub, c.rule);
    for (const p of c.promotions ?? []) await createPromotion(partner, p);
    const member = await enroll(hub, partner);
    let balance = 0;
    for (const p of c.before ?? []) {
      const earlier = await purchase(hub, partner, member, p.amount, p.occurredAt ? { occurredAt: p.occurredAt } : {});
      expect(earlier.userErrors).toEqual([]);
      balance += earlier.transaction.points;
    }
    const lotsBefore = Number((await hub.db.query('SELECT count(*)::int AS n FROM lot WHERE member_id = $1', [member.id]))[0].n);
    const { quoted, recorded } = await quoteThenRecord(partner, member, c.purchase);
    expect(quoted.points).toBe(c.points);
    expect(sorted(steps(quoted.breakdown))).toEqual(sorted(c.steps));
    expect(recorded.transaction).toMatchObject({ type: 'PURCHASE', points: c.points, amount: { amount: c.purchase.amount, currency: 'EUR' } });
    if (c.purchase.occurredAt) expect(recorded.transaction.occurredAt).toBe(c.purchase.occurredAt);
    expect(recorded.member.balance).toBe(balance + c.points);
    // A purchase that earns 0 points is recorded without a lot.
    const lotsAfter = Number((await hub.db.query('SELECT count(*)::int AS n FROM lot WHERE member_id = $1', [member.id]))[0].n);
    expect(lotsAfter - lotsBefore).toBe(c.points > 0 ? 1 : 0);
  });
});

describe('purchases: more of the rules', () => {
  it('refuses lines that do not sum to the amount (INVALID_INPUT), in the quote and the posting, and writes nothing', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await enroll(hub, partner);
    const before = await ledgerRowCounts(hub);
    for (const lines of [[{ category: 'a', amount: '6.00' }, { category: 'b', amount: '3.00' }], [{ category: 'a', amount: '10.01' }]]) {
      const input = { idempotencyKey: unique('k'), memberId: member.id, amount: '10.00', lines };
      const quoted = await quote(partner.token, input);
      expect(quoted).toMatchObject({ points: 0, breakdown: [], userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'lines'] }] });
      const recorded = await record(partner.token, input);
      expect(recorded.transaction).toBeNull();
      expect(recorded.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'lines'] })]);
    }
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it('gives the first-purchase bonus at each partner once, and a bonus at the partner before does not count as a purchase', async () => {
    const grocer = await createPartner(hub, { pointsPerUnit: '1', firstPurchaseBonus: 50 });
    const fuel = await createPartner(hub, { pointsPerUnit: '1', firstPurchaseBonus: 30 });
    const email = `${unique('shared')}@example.com`;
    const member = await enroll(hub, grocer, { email });
    await enroll(hub, fuel, { email });
    expect((await bonus(hub, fuel.token, member, 5, { action: 'SIGNUP' })).userErrors).toEqual([]);
    expect((await purchase(hub, grocer, member, '10.00')).transaction.points).toBe(60);
    expect((await purchase(hub, grocer, member, '10.00')).transaction.points).toBe(10);
    const atFuel = await purchase(hub, fuel, member, '10.00');
    expect(steps(atFuel.transaction.breakdown)).toEqual([['BASE', 10], ['FIRST_PURCHASE_BONUS', 30]]);
    expect((await purchase(hub, fuel, member, '10.00')).transaction.points).toBe(10);
  });

  it('counts punch-card visits per partner', async () => {
    const grocer = await createPartner(hub, { pointsPerUnit: '1', everyNthVisit: 2, visitBonus: 20 });
    const other = await createPartner(hub, { pointsPerUnit: '1' });
    const email = `${unique('shared')}@example.com`;
    const member = await enroll(hub, grocer, { email });
    await enroll(hub, other, { email });
    await purchase(hub, grocer, member, '10.00');
    await purchase(hub, other, member, '10.00'); // a visit elsewhere is not a visit here
    const second = await purchase(hub, grocer, member, '10.00');
    expect(steps(second.transaction.breakdown)).toEqual([['BASE', 10], ['VISIT_BONUS', 20]]);
  });

  it('caps the day per partner: points earned at another partner that day do not count', async () => {
    const capped = await createPartner(hub, { pointsPerUnit: '1', maxPointsPerMemberPerDay: 100 });
    const other = await createPartner(hub, { pointsPerUnit: '1' });
    const email = `${unique('shared')}@example.com`;
    const member = await enroll(hub, capped, { email });
    await enroll(hub, other, { email });
    await purchase(hub, other, member, '90.00', { occurredAt: at(9) });
    const first = await purchase(hub, capped, member, '80.00', { occurredAt: at(10) });
    expect(first.transaction.points).toBe(80);
    const { recorded } = await quoteThenRecord(capped, member, { amount: '80.00', occurredAt: at(11) });
    expect(recorded.transaction.points).toBe(20);
  });

  it('quotes for a member the partner is not linked to as NOT_FOUND, and refuses a member token (FORBIDDEN)', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const stranger = await enroll(hub, await createPartner(hub, { pointsPerUnit: '1' }));
    const input = { idempotencyKey: unique('k'), memberId: stranger.id, amount: '10.00' };
    expect(await quote(partner.token, input)).toMatchObject({ points: 0, userErrors: [{ code: 'NOT_FOUND', field: ['input', 'memberId'] }] });
    const res = await hub.gql(QUOTE, { input }, stranger.token);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lets the operator quote and record for a partner it names, with the same result', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '2', firstPurchaseBonus: 7 });
    const member = await enroll(hub, partner);
    const input = { idempotencyKey: unique('k'), memberId: member.id, amount: '12.34', partnerId: partner.id };
    const before = await ledgerRowCounts(hub);
    const quoted = await quote(hub.admin, input);
    expect(await ledgerRowCounts(hub)).toEqual(before);
    expect(quoted).toMatchObject({ points: 31, userErrors: [] });
    const recorded = await record(hub.admin, input);
    expect(recorded.transaction.points).toBe(31);
    expect(recorded.transaction.breakdown).toEqual(quoted.breakdown);
  });
});

describe('updateEarnRule', () => {
  const HISTORY = '{ me { transactions(first: 10) { edges { node { id points breakdown { rule points detail } } } } } }';

  it('applies to purchases after the change; the earlier transaction keeps its points and breakdown', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await enroll(hub, partner);
    const first = await purchase(hub, partner, member, '10.00');
    expect(first.transaction.points).toBe(10);
    const res = await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: partner.id, earnRule: { pointsPerUnit: '3', firstPurchaseBonus: 100 } } }, hub.admin);
    expect(res.data.updateEarnRule).toEqual({ partner: { id: partner.id, earnRule: { pointsPerUnit: '3', firstPurchaseBonus: 100 } }, userErrors: [] });

    // The member's second purchase at the partner: the new rate, and no first-purchase bonus.
    const { recorded: second } = await quoteThenRecord(partner, member, { amount: '10.00' });
    expect(steps(second.transaction.breakdown)).toEqual([['BASE', 30]]);
    // A new member's first purchase gets the new first-purchase bonus.
    const newcomer = await enroll(hub, partner);
    expect(steps((await purchase(hub, partner, newcomer, '10.00')).transaction.breakdown)).toEqual([['BASE', 30], ['FIRST_PURCHASE_BONUS', 100]]);

    const history = (await hub.gql(HISTORY, {}, member.token)).data.me.transactions.edges.map((e: { node: unknown }) => e.node);
    expect(history).toEqual([
      { id: second.transaction.id, points: 30, breakdown: second.transaction.breakdown },
      { id: first.transaction.id, points: 10, breakdown: first.transaction.breakdown },
    ]);
    expect(first.transaction.breakdown).toEqual([{ rule: 'BASE', points: 10, detail: expect.stringMatching(/^10(\.00)? × 1 points per unit = 10/) }]);
    // A refund of the earlier purchase takes back what it earned, not what the new rule would.
    expect((await reverse(hub, partner.token, first.transaction.id)).transaction.points).toBe(-10);
  });

  it('refuses an invalid rule and an unknown partner, and a partner may not change its own rule (FORBIDDEN)', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const invalid = await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: partner.id, earnRule: { pointsPerUnit: '-1' } } }, hub.admin);
    expect(invalid.data.updateEarnRule).toMatchObject({ partner: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'earnRule', 'pointsPerUnit'] }] });
    const unknown = await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: '00000000-0000-7000-8000-000000000000', earnRule: { pointsPerUnit: '2' } } }, hub.admin);
    expect(unknown.data.updateEarnRule).toMatchObject({ partner: null, userErrors: [{ code: 'NOT_FOUND' }] });
    const own = await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: partner.id, earnRule: { pointsPerUnit: '100' } } }, partner.token);
    expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const member = await enroll(hub, partner);
    expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(10);
  });
});

describe('createPromotion', () => {
  it('stores a promotion and lists it on Partner.promotions for the partner itself and the operator, newest first', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const older = await createPromotion(partner, { name: 'Spring', multiplier: '2', startsAt: at(0), endsAt: at(12), categories: ['fuel', ' fuel'], minSpend: '20.00' });
    const newer = await createPromotion(partner, { name: 'Welcome', bonusPoints: 25 });
    expect(older).toMatchObject({ partnerId: partner.id, name: 'Spring', multiplier: '2', bonusPoints: null, categories: ['fuel'], tiers: [], startsAt: at(0), endsAt: at(12) });
    expect(older.minSpend).toMatch(/^20(\.0+)?$/);
    expect(newer).toMatchObject({ name: 'Welcome', multiplier: null, bonusPoints: 25, categories: [], tiers: [], minSpend: null, ...ACTIVE });
    const fields = '{ id promotions { id name } }';
    const asOperator = await hub.gql(`query($id: ID!) { partner(id: $id) ${fields} }`, { id: partner.id }, hub.admin);
    expect(asOperator.data.partner.promotions).toEqual([{ id: newer.id, name: 'Welcome' }, { id: older.id, name: 'Spring' }]);
    const asPartner = await hub.gql(`{ myPartner ${fields} }`, {}, partner.token);
    expect(asPartner.data.myPartner.promotions).toEqual(asOperator.data.partner.promotions);
    const other = await createPartner(hub, { pointsPerUnit: '1' });
    const asOther = await hub.gql(`query($id: ID!) { partner(id: $id) ${fields} }`, { id: partner.id }, other.token);
    expect(asOther.data?.partner ?? null).toBeNull();
    expect((await hub.gql(`{ myPartner ${fields} }`, {}, other.token)).data.myPartner.promotions).toEqual([]);
  });

  const ok = { name: 'Promo', ...ACTIVE, multiplier: '2' };
  it.each([
    ['endsAt equal to startsAt', { ...ok, endsAt: ACTIVE.startsAt }, ['input', 'endsAt']],
    ['endsAt before startsAt', { ...ok, startsAt: ACTIVE.endsAt, endsAt: ACTIVE.startsAt }, ['input', 'endsAt']],
    ['a multiplier of 0', { ...ok, multiplier: '0' }, ['input', 'multiplier']],
    ['a negative multiplier', { ...ok, multiplier: '-2' }, ['input', 'multiplier']],
    ['a multiplier below 1 (it would lower what a purchase earns)', { ...ok, multiplier: '0.99' }, ['input', 'multiplier']],
    ['negative bonusPoints', { ...ok, multiplier: undefined, bonusPoints: -5 }, ['input', 'bonusPoints']],
    ['neither a multiplier nor bonusPoints', { ...ok, multiplier: undefined }, ['input']],
    ['an unknown tier name', { ...ok, tiers: ['Gold'] }, ['input', 'tiers', '0']],
  ])('refuses %s (INVALID_INPUT) and writes nothing', async (_why, input, field) => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const res = await hub.gql(CREATE_PROMOTION, { input: { partnerId: partner.id, ...input } }, hub.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.createPromotion).toEqual({ promotion: null, userErrors: [expect.objectContaining({ code: 'INVALID_INPUT', field })] });
    expect((await hub.gql(`query($id: ID!) { partner(id: $id) { promotions { id } } }`, { id: partner.id }, hub.admin)).data.partner.promotions).toEqual([]);
  });

  it('says NOT_FOUND for an unknown partner, and a partner may not create promotions (FORBIDDEN)', async () => {
    const unknown = await hub.gql(CREATE_PROMOTION, { input: { partnerId: '00000000-0000-7000-8000-000000000000', ...ok } }, hub.admin);
    expect(unknown.data.createPromotion).toEqual({ promotion: null, userErrors: [expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'partnerId'] })] });
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const own = await hub.gql(CREATE_PROMOTION, { input: { partnerId: partner.id, ...ok } }, partner.token);
    expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(own.data?.createPromotion ?? null).toBeNull();
    expect((await hub.gql(`query($id: ID!) { partner(id: $id) { promotions { id } } }`, { id: partner.id }, hub.admin)).data.partner.promotions).toEqual([]);
  });

  it('applies to purchases the moment it exists, and a purchase before it was created but inside its window also gets it', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await enroll(hub, partner);
    expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(10);
    await createPromotion(partner, { multiplier: '2', startsAt: at(0), endsAt: new Date(NOW + DAY_MS).toISOString() });
    expect((await purchase(hub, partner, member, '10.00')).transaction.points).toBe(20);
    // A till that uploads late: occurredAt inside the window earns the promotion.
    expect((await purchase(hub, partner, member, '10.00', { occurredAt: at(6) })).transaction.points).toBe(20);
  });
});

describe('limits on action bonuses', () => {
  const limitsOf = async (partner: TestPartner) =>
    (await hub.gql(`query($id: ID!) { partner(id: $id) { bonusLimits { action maxCount periodDays } } }`, { id: partner.id }, hub.admin)).data.partner.bonusLimits;
  async function setLimits(partner: TestPartner, limits: Record<string, unknown>[], token = hub.admin) {
    return hub.gql(SET_BONUS_LIMITS, { input: { partnerId: partner.id, limits } }, token);
  }
  /** A member linked to both partners. */
  async function sharedMember(a: TestPartner, b: TestPartner): Promise<TestMember> {
    const email = `${unique('shared')}@example.com`;
    const member = await enroll(hub, a, { email });
    await enroll(hub, b, { email });
    return member;
  }

  it('shows the limits on Partner.bonusLimits, to the operator and the partner itself', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    expect(await limitsOf(partner)).toEqual([]);
    const res = await setLimits(partner, [{ action: 'REVIEW', maxCount: 1, periodDays: 1 }, { action: 'SURVEY', maxCount: 3, periodDays: 30 }]);
    expect(res.data.setBonusLimits).toEqual({ partner: { id: partner.id, bonusLimits: [
      { action: 'REVIEW', maxCount: 1, periodDays: 1 }, { action: 'SURVEY', maxCount: 3, periodDays: 30 }] }, userErrors: [] });
    expect(await limitsOf(partner)).toEqual(res.data.setBonusLimits.partner.bonusLimits);
    expect((await hub.gql('{ myPartner { bonusLimits { action maxCount periodDays } } }', {}, partner.token)).data.myPartner.bonusLimits)
      .toEqual(res.data.setBonusLimits.partner.bonusLimits);
    // Replacing with an empty list removes every limit.
    expect((await setLimits(partner, [])).data.setBonusLimits.userErrors).toEqual([]);
    expect(await limitsOf(partner)).toEqual([]);
  });

  it('refuses a second REVIEW bonus within the period (LIMIT_EXCEEDED, nothing written); another action, partner or member is unaffected', async () => {
    const limited = await createPartner(hub, { pointsPerUnit: '1' });
    const other = await createPartner(hub, { pointsPerUnit: '1' });
    expect((await setLimits(limited, [{ action: 'REVIEW', maxCount: 1, periodDays: 1 }])).data.setBonusLimits.userErrors).toEqual([]);
    const member = await sharedMember(limited, other);
    const key = unique('review');
    const first = await bonus(hub, limited.token, member, 10, { action: 'REVIEW', idempotencyKey: key });
    expect(first.userErrors).toEqual([]);
    expect(first.transaction).toMatchObject({ type: 'BONUS', points: 10 });

    const before = await ledgerRowCounts(hub);
    const second = await bonus(hub, limited.token, member, 10, { action: 'REVIEW' });
    expect(second).toMatchObject({ transaction: null, userErrors: [{ code: 'LIMIT_EXCEEDED', field: ['input', 'action'] }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);

    // The same request again is the same bonus, not a second one: awardBonus stays idempotent.
    const replay = await bonus(hub, limited.token, member, 10, { action: 'REVIEW', idempotencyKey: key });
    expect(replay.userErrors).toEqual([]);
    expect(replay.transaction.id).toBe(first.transaction.id);
    expect(await ledgerRowCounts(hub)).toEqual(before);

    expect((await bonus(hub, limited.token, member, 10, { action: 'SURVEY' })).userErrors).toEqual([]);
    expect((await bonus(hub, other.token, member, 10, { action: 'REVIEW' })).userErrors).toEqual([]);
    expect((await bonus(hub, other.token, member, 10, { action: 'REVIEW' })).userErrors).toEqual([]);
    const someoneElse = await enroll(hub, limited);
    expect((await bonus(hub, limited.token, someoneElse, 10, { action: 'REVIEW' })).userErrors).toEqual([]);
    const balance = (await hub.gql('{ me { balance } }', {}, member.token)).data.me.balance;
    expect(balance).toBe(40);
  });

  it('counts only bonuses inside the period: an older one does not count', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    await setLimits(partner, [{ action: 'REVIEW', maxCount: 2, periodDays: 7 }]);
    const member = await enroll(hub, partner);
    const first = await bonus(hub, partner.token, member, 10, { action: 'REVIEW' });
    expect((await bonus(hub, partner.token, member, 10, { action: 'REVIEW' })).userErrors).toEqual([]);
    expect((await bonus(hub, partner.token, member, 10, { action: 'REVIEW' })).userErrors).toEqual([expect.objectContaining({ code: 'LIMIT_EXCEEDED' })]);
    // Stands in for time passing: the first bonus moves to 8 days ago, outside the 7-day period
    // (transaction ids are time-ordered, so the oldest is the first bonus).
    const [{ id }] = await hub.db.query('SELECT id FROM ledger_transaction WHERE member_id = $1 ORDER BY id LIMIT 1', [member.id]);
    await hub.db.query(`UPDATE ledger_transaction SET posted_at = posted_at - interval '8 days' WHERE member_id = $1 AND id = $2`, [member.id, id]);
    await hub.db.query(`UPDATE ledger_entry SET posted_at = posted_at - interval '8 days' WHERE member_id = $1 AND transaction_id = $2`, [member.id, id]);
    expect(first.transaction.points).toBe(10);
    expect((await bonus(hub, partner.token, member, 10, { action: 'REVIEW' })).userErrors).toEqual([]);
    expect((await bonus(hub, partner.token, member, 10, { action: 'REVIEW' })).userErrors).toEqual([expect.objectContaining({ code: 'LIMIT_EXCEEDED' })]);
  });

  it('does not count a reversed bonus toward the limit', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    await setLimits(partner, [{ action: 'REVIEW', maxCount: 1, periodDays: 1 }]);
    const member = await enroll(hub, partner);
    const first = await bonus(hub, partner.token, member, 10, { action: 'REVIEW' });
    const reversal = await reverse(hub, partner.token, first.transaction.id);
    expect(reversal.userErrors).toEqual([]);
    const again = await bonus(hub, partner.token, member, 15, { action: 'REVIEW' });
    expect(again.userErrors).toEqual([]);
    expect(again.member.balance).toBe(15);
    expect((await bonus(hub, partner.token, member, 10, { action: 'REVIEW' })).userErrors).toEqual([expect.objectContaining({ code: 'LIMIT_EXCEEDED' })]);
  });

  it('does not limit the operator awarding as the coalition', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    await setLimits(partner, [{ action: 'REVIEW', maxCount: 1, periodDays: 1 }]);
    const member = await enroll(hub, partner);
    expect((await bonus(hub, partner.token, member, 10, { action: 'REVIEW' })).userErrors).toEqual([]);
    expect((await bonus(hub, hub.admin, member, 10, { action: 'REVIEW' })).userErrors).toEqual([]);
    // The operator acting for the partner is held to the partner's limit.
    expect((await bonus(hub, hub.admin, member, 10, { action: 'REVIEW', partnerId: partner.id })).userErrors)
      .toEqual([expect.objectContaining({ code: 'LIMIT_EXCEEDED' })]);
  });

  it.each([
    ['an action twice', [{ action: 'REVIEW', maxCount: 1, periodDays: 1 }, { action: 'REVIEW', maxCount: 2, periodDays: 7 }], ['input', 'limits', '1', 'action']],
    ['maxCount 0', [{ action: 'REVIEW', maxCount: 0, periodDays: 1 }], ['input', 'limits', '0', 'maxCount']],
    ['periodDays 0', [{ action: 'REVIEW', maxCount: 1, periodDays: 0 }], ['input', 'limits', '0', 'periodDays']],
  ])('refuses %s (INVALID_INPUT) and keeps the limits it had', async (_why, limits, field) => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    await setLimits(partner, [{ action: 'SURVEY', maxCount: 1, periodDays: 1 }]);
    const res = await setLimits(partner, limits);
    expect(res.data.setBonusLimits).toEqual({ partner: null, userErrors: [expect.objectContaining({ code: 'INVALID_INPUT', field })] });
    expect(await limitsOf(partner)).toEqual([{ action: 'SURVEY', maxCount: 1, periodDays: 1 }]);
  });

  it('says NOT_FOUND for an unknown partner, and a partner may not set its limits (FORBIDDEN)', async () => {
    const unknown = await hub.gql(SET_BONUS_LIMITS, { input: { partnerId: '00000000-0000-7000-8000-000000000000', limits: [] } }, hub.admin);
    expect(unknown.data.setBonusLimits).toEqual({ partner: null, userErrors: [expect.objectContaining({ code: 'NOT_FOUND' })] });
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const own = await setLimits(partner, [{ action: 'REVIEW', maxCount: 100, periodDays: 1 }], partner.token);
    expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const member = hub.token({ role: Role.MEMBER, memberId: (await enroll(hub, partner)).id });
    expect((await setLimits(partner, [], member)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
