import { Dec } from '../../common/decimal';
import { EarnContext, EarnRule, NO_HISTORY, PromotionForEarn, PurchaseLine, checkRate, computeEarn, purchaseAvailableAt, validateEarnRule } from './earn-rule';

const rule = (overrides: Partial<EarnRule> = {}): EarnRule => ({
  pointsPerUnit: '1', minSpend: null, categoryMultipliers: [], maxPointsPerTransaction: null, maxPointsPerMemberPerDay: null,
  firstPurchaseBonus: null, everyNthVisit: null, visitBonus: null, pointsValidityDays: 365, ...overrides,
});
const earn = (overrides: Partial<EarnRule>, amount: string) => computeEarn(rule(overrides), { amount: new Dec(amount) });

describe('computeEarn: the exact product, rounded down once', () => {
  it.each([
    ['1.25', '19.99', 24], // 24.9875
    ['1', '0.99', 0],
    ['1', '1.00', 1],
    ['2', '10.00', 20],
    ['1.15', '100.00', 115], // 114.99999999999999 in floating point
    ['0.1', '9.99', 0], // 0.999
    ['0.333333', '3.00', 0], // 0.999999
    ['0.333334', '3.00', 1], // 1.000002
    ['0.000001', '999999.99', 0], // 0.99999999
    ['3', '0.34', 1], // 1.02
    ['0', '50.00', 0],
    ['1000000', '1000000000', 1_000_000_000_000_000],
  ])('%s points per unit on %s earns %i', (pointsPerUnit, amount, points) => {
    expect(earn({ pointsPerUnit }, amount).points).toBe(points);
  });

  it('explains the base step in one breakdown line', () => {
    expect(earn({ pointsPerUnit: '1.25' }, '19.99')).toEqual({
      points: 24,
      breakdown: [{ rule: 'BASE', points: 24, detail: '19.99 × 1.25 points per unit = 24.9875, rounded down' }],
    });
  });
});

describe('computeEarn: minimum spend', () => {
  it.each([
    ['10.00', '10.00', 10, 'exactly the minimum earns'],
    ['10.00', '10.01', 10, 'above the minimum earns'],
    ['10.00', '9.99', 0, 'below the minimum earns nothing'],
    ['0', '0.50', 0, 'a zero minimum lets everything through'],
    ['0', '5.00', 5, 'a zero minimum lets everything through'],
  ])('minSpend %s, purchase %s → %i points (%s)', (minSpend, amount, points) => {
    expect(earn({ minSpend }, amount).points).toBe(points);
  });

  it('says why a purchase below the minimum earned nothing', () => {
    expect(earn({ minSpend: '10.00' }, '9.99')).toEqual({
      points: 0,
      breakdown: [{ rule: 'MIN_SPEND', points: 0, detail: '9.99 is below the minimum spend of 10.00' }],
    });
  });
});

describe('computeEarn: maxPointsPerTransaction', () => {
  it.each([
    [50, '100.00', 50, 'above the cap: capped'],
    [50, '50.00', 50, 'exactly the cap: nothing to cap'],
    [50, '49.99', 49, 'below the cap'],
    [1, '1000.00', 1, 'a cap of one'],
  ])('cap %i, purchase %s at 1 point per unit → %i (%s)', (maxPointsPerTransaction, amount, points) => {
    expect(earn({ maxPointsPerTransaction }, amount).points).toBe(points);
  });

  it('shows the cap as its own breakdown line that takes the excess back', () => {
    const result = earn({ pointsPerUnit: '2', maxPointsPerTransaction: 50 }, '100.00');
    expect(result.points).toBe(50);
    expect(result.breakdown).toEqual([
      { rule: 'BASE', points: 200, detail: expect.stringMatching(/^100(\.00)? × 2 points per unit = 200, rounded down$/) },
      { rule: 'MAX_PER_TRANSACTION', points: -150, detail: 'capped at 50 points per transaction' },
    ]);
    expect(result.breakdown.reduce((sum, line) => sum + line.points, 0)).toBe(result.points);
  });

  it('adds no cap line when the cap is not reached', () => {
    expect(earn({ maxPointsPerTransaction: 50 }, '50.00').breakdown.map((l) => l.rule)).toEqual(['BASE']);
  });

  it('checks the minimum spend before the cap', () => {
    expect(earn({ minSpend: '20.00', maxPointsPerTransaction: 5 }, '19.99').breakdown.map((l) => l.rule)).toEqual(['MIN_SPEND']);
  });
});

describe('validateEarnRule', () => {
  const path = ['input', 'earnRule'];
  const errorsOf = (overrides: Partial<EarnRule>, exponent = 2) => validateEarnRule(rule(overrides), exponent, path);

  it('finds nothing wrong with a valid rule', () => {
    expect(errorsOf({})).toEqual([]);
    expect(errorsOf({
      pointsPerUnit: '1.234567', minSpend: '5.00', categoryMultipliers: [{ category: 'fuel', multiplier: '2' }, { category: 'food', multiplier: '1000' }],
      maxPointsPerTransaction: 1, maxPointsPerMemberPerDay: 1, firstPurchaseBonus: 0, everyNthVisit: 1000, visitBonus: 1, pointsValidityDays: 3650,
    })).toEqual([]);
  });

  it.each([
    ['pointsPerUnit below zero', { pointsPerUnit: '-1' }, ['pointsPerUnit'], /at least 0/],
    ['pointsPerUnit with 7 decimal places', { pointsPerUnit: '1.1234567' }, ['pointsPerUnit'], /at most 6 decimal places/],
    ['pointsPerUnit over a million', { pointsPerUnit: '1000000.000001' }, ['pointsPerUnit'], /at most 1000000/],
    ['maxPointsPerTransaction 0', { maxPointsPerTransaction: 0 }, ['maxPointsPerTransaction'], /whole number from 1/],
    ['pendingDays below 0', { pendingDays: -1 }, ['pendingDays'], /whole number from 0 to 365/],
    ['pendingDays over 365', { pendingDays: 366 }, ['pendingDays'], /whole number from 0 to 365/],
    ['pendingDays not whole', { pendingDays: 1.5 }, ['pendingDays'], /whole number from 0 to 365/],
    ['maxPointsPerTransaction not whole', { maxPointsPerTransaction: 1.5 }, ['maxPointsPerTransaction'], /whole number/],
    ['maxPointsPerMemberPerDay 0', { maxPointsPerMemberPerDay: 0 }, ['maxPointsPerMemberPerDay'], /whole number from 1/],
    ['firstPurchaseBonus below zero', { firstPurchaseBonus: -1 }, ['firstPurchaseBonus'], /whole number from 0/],
    ['everyNthVisit over 1000', { everyNthVisit: 1001, visitBonus: 5 }, ['everyNthVisit'], /from 1 to 1000/],
    ['everyNthVisit 0', { everyNthVisit: 0, visitBonus: 5 }, ['everyNthVisit'], /from 1 to 1000/],
    ['visitBonus 0', { everyNthVisit: 3, visitBonus: 0 }, ['visitBonus'], /whole number from 1/],
    ['everyNthVisit without visitBonus', { everyNthVisit: 3 }, ['everyNthVisit'], /go together/],
    ['visitBonus without everyNthVisit', { visitBonus: 3 }, ['everyNthVisit'], /go together/],
    ['pointsValidityDays 0', { pointsValidityDays: 0 }, ['pointsValidityDays'], /from 1 to 3650/],
    ['pointsValidityDays over ten years', { pointsValidityDays: 3651 }, ['pointsValidityDays'], /from 1 to 3650/],
    ['a negative minSpend', { minSpend: '-1.00' }, ['minSpend'], /non-negative/],
    ['a minSpend finer than the currency', { minSpend: '1.234' }, ['minSpend'], /at most 2 decimal places/],
    ['an empty category', { categoryMultipliers: [{ category: '  ', multiplier: '2' }] }, ['categoryMultipliers', '0', 'category'], /must not be empty/],
    ['a category twice', { categoryMultipliers: [{ category: 'fuel', multiplier: '2' }, { category: 'fuel', multiplier: '3' }] }, ['categoryMultipliers', '1', 'category'], /appears twice/],
    ['a negative multiplier', { categoryMultipliers: [{ category: 'fuel', multiplier: '-1' }] }, ['categoryMultipliers', '0', 'multiplier'], /at least 0/],
    ['a category twice in another case ("Fuel" and " fuel")', { categoryMultipliers: [{ category: 'Fuel', multiplier: '2' }, { category: ' fuel', multiplier: '3' }] },
      ['categoryMultipliers', '1', 'category'], /appears twice/],
    ['a multiplier over 1000', { categoryMultipliers: [{ category: 'fuel', multiplier: '1000.5' }] }, ['categoryMultipliers', '0', 'multiplier'], /at most 1000/],
    ['a multiplier with 7 decimal places', { categoryMultipliers: [{ category: 'fuel', multiplier: '1.0000001' }] }, ['categoryMultipliers', '0', 'multiplier'], /at most 6 decimal places/],
  ] as [string, Partial<EarnRule>, string[], RegExp][])('refuses %s, pointing at its field', (_why, overrides, field, message) => {
    expect(errorsOf(overrides)).toEqual([{ code: 'INVALID_INPUT', field: [...path, ...field], message: expect.stringMatching(message) }]);
  });

  it('accepts a minSpend with 3 decimal places in a 3-decimal currency, and none but whole units in a 0-decimal one', () => {
    expect(errorsOf({ minSpend: '1.234' }, 3)).toEqual([]);
    expect(errorsOf({ minSpend: '100' }, 0)).toEqual([]);
    expect(errorsOf({ minSpend: '100.5' }, 0)).toHaveLength(1);
  });

  it('reports every problem at once, each with its own field', () => {
    const errors = errorsOf({ pointsPerUnit: '-1', maxPointsPerTransaction: 0, pointsValidityDays: 0, minSpend: '-1' });
    expect(errors.map((e) => e.field)).toEqual([
      [...path, 'pointsPerUnit'], [...path, 'maxPointsPerTransaction'], [...path, 'pointsValidityDays'], [...path, 'minSpend'],
    ]);
  });
});

describe('checkRate', () => {
  const field = ['input', 'rate'];
  it.each([
    ['1.123456', '0', '10', false, undefined],
    ['0', '0', '10', false, undefined],
    ['10', '0', '10', false, undefined],
    ['10.000000', '0', '10', false, undefined],
    ['1.1234567', '0', '10', false, /at most 6 decimal places/],
    ['-0.000001', '0', '10', false, /must be at least 0/],
    ['0', '0', '10', true, /must be greater than 0/],
    ['0.000001', '0', '10', true, undefined],
    ['10.000001', '0', '10', false, /must be at most 10/],
    ['0.5', '1', '10', false, /must be at least 1/],
  ] as [string, string, string, boolean, RegExp | undefined][])('%s within [%s, %s] (min exclusive: %s) → %s', (value, min, max, minExclusive, message) => {
    const error = checkRate(value, field, new Dec(min), new Dec(max), minExclusive);
    if (message === undefined) expect(error).toBeUndefined();
    else expect(error).toEqual({ code: 'INVALID_INPUT', field, message: expect.stringMatching(message) });
  });

  it('names the field in its message', () => {
    expect(checkRate('-1', ['input', 'earnRule', 'pointsPerUnit'], new Dec(0), new Dec(10))?.message).toBe('pointsPerUnit must be at least 0');
  });
});

/*
 * The earn engine's steps and their combinations (docs/rules.md, Earning): per line
 * amount × pointsPerUnit × category multiplier × largest matching promotion multiplier × tier
 * multiplier, exactly, floored once; then bonuses; then the transaction cap and the day cap.
 */
const promo = (overrides: Partial<PromotionForEarn>): PromotionForEarn => ({
  name: 'promo', multiplier: null, bonusPoints: null, categories: [], tiers: [], minSpend: null, ...overrides,
});
const line = (amount: string, category: string | null = null): PurchaseLine => ({ category, amount: new Dec(amount) });
const SILVER = { name: 'Silver', earnMultiplier: '1.5' };
const GOLD = { name: 'Gold', earnMultiplier: '2' };

type Steps = [string, number][];
type EarnCase = [string, Partial<EarnRule>, { amount: string; lines?: PurchaseLine[] }, Partial<EarnContext>, number, Steps];

function earnCase(overrides: Partial<EarnRule>, purchase: { amount: string; lines?: PurchaseLine[] }, context: Partial<EarnContext>) {
  return computeEarn(rule(overrides), { amount: new Dec(purchase.amount), lines: purchase.lines }, { ...NO_HISTORY, ...context });
}

function checkCase(overrides: Partial<EarnRule>, purchase: { amount: string; lines?: PurchaseLine[] }, context: Partial<EarnContext>, points: number, steps: Steps) {
  const result = earnCase(overrides, purchase, context);
  expect(result.points).toBe(points);
  expect(result.breakdown.map((b) => [b.rule, b.points])).toEqual(steps);
  // Every breakdown explains its points: the lines add up to what the purchase earns.
  expect(result.breakdown.reduce((sum, b) => sum + b.points, 0)).toBe(result.points);
}

describe('computeEarn: lines and category multipliers', () => {
  it.each<EarnCase>([
    ['a category multiplier applies to its line only', { categoryMultipliers: [{ category: 'fuel', multiplier: '2' }] },
      { amount: '15.00', lines: [line('10.00', 'fuel'), line('5.00', 'food')] }, {}, 25, [['BASE', 25]]],
    ['one floor at the end, not per line (0.5 + 0.5 = 1)', { pointsPerUnit: '1.25' },
      { amount: '0.80', lines: [line('0.40', 'a'), line('0.40', 'b')] }, {}, 1, [['BASE', 1]]],
    ['19.99 × 1.25 × category 1.5 = 37.48125', { pointsPerUnit: '1.25', categoryMultipliers: [{ category: 'fuel', multiplier: '1.5' }] },
      { amount: '19.99', lines: [line('19.99', 'fuel')] }, {}, 37, [['BASE', 37]]],
    ['a fractional category multiplier: 3 × 0.5 + 0.99 = 2.49', { categoryMultipliers: [{ category: 'fuel', multiplier: '0.5' }] },
      { amount: '3.99', lines: [line('3.00', 'fuel'), line('0.99')] }, {}, 2, [['BASE', 2]]],
    ['a category without a multiplier counts once', { categoryMultipliers: [{ category: 'fuel', multiplier: '2' }] },
      { amount: '10.00', lines: [line('10.00', 'books')] }, {}, 10, [['BASE', 10]]],
    ['categories compare trimmed and case-insensitively: rule "fuel", line " Fuel " → ×2', { categoryMultipliers: [{ category: 'fuel', multiplier: '2' }] },
      { amount: '10.00', lines: [line('10.00', ' Fuel ')] }, {}, 20, [['BASE', 20]]],
    ['a category multiplier of 0 excludes its line: tobacco ×0 earns 0, the rest earns', { categoryMultipliers: [{ category: 'tobacco', multiplier: '0' }] },
      { amount: '30.00', lines: [line('20.00', 'Tobacco'), line('10.00', 'food')] }, {}, 10, [['BASE', 10]]],
    ['minSpend is judged on the total, not on a line', { minSpend: '10.00' },
      { amount: '10.00', lines: [line('6.00', 'a'), line('4.00', 'b')] }, {}, 10, [['BASE', 10]]],
  ])('%s', (_why, overrides, purchase, context, points, steps) => checkCase(overrides, purchase, context, points, steps));
});

describe('computeEarn: promotions', () => {
  it.each<EarnCase>([
    ['no promotion: multiplier 1', {}, { amount: '10.00' }, {}, 10, [['BASE', 10]]],
    ['a 2× promotion on everything', {}, { amount: '10.00' }, { promotions: [promo({ multiplier: '2' })] }, 20, [['BASE', 20]]],
    ['multipliers do not stack: the largest wins (3×, not 6×)', {}, { amount: '10.00' },
      { promotions: [promo({ name: 'double', multiplier: '2' }), promo({ name: 'triple', multiplier: '3' })] }, 30, [['BASE', 30]]],
    ['a category promotion multiplies its lines only', {}, { amount: '20.00', lines: [line('10.00', 'fuel'), line('10.00', 'food')] },
      { promotions: [promo({ multiplier: '3', categories: ['fuel'] })] }, 40, [['BASE', 40]]],
    ['a promotion category "FUEL" matches the line category "fuel"', {}, { amount: '20.00', lines: [line('10.00', 'fuel'), line('10.00', 'food')] },
      { promotions: [promo({ multiplier: '3', categories: ['FUEL'] })] }, 40, [['BASE', 40]]],
    ['a line of an excluded category (×0) makes no promotion bonus apply', { categoryMultipliers: [{ category: 'tobacco', multiplier: '0' }] },
      { amount: '10.00', lines: [line('10.00', 'tobacco')] }, { promotions: [promo({ bonusPoints: 5 })] }, 0, [['BASE', 0]]],
    ['the largest matching multiplier is chosen per line', {}, { amount: '20.00', lines: [line('10.00', 'fuel'), line('10.00', 'food')] },
      { promotions: [promo({ name: 'all', multiplier: '2' }), promo({ name: 'fuel', multiplier: '3', categories: ['fuel'] })] }, 50, [['BASE', 50]]],
    ['a category promotion does not match a purchase without lines', {}, { amount: '10.00' },
      { promotions: [promo({ multiplier: '3', categories: ['fuel'] })] }, 10, [['BASE', 10]]],
    ['promotion minSpend not reached by the total', {}, { amount: '49.99' }, { promotions: [promo({ multiplier: '2', minSpend: '50.00' })] }, 49, [['BASE', 49]]],
    ['promotion minSpend reached exactly', {}, { amount: '50.00' }, { promotions: [promo({ multiplier: '2', minSpend: '50.00' })] }, 100, [['BASE', 100]]],
    ['promotion minSpend is judged on the purchase total, not the line', {}, { amount: '50.00', lines: [line('30.00', 'fuel'), line('20.00', 'food')] },
      { promotions: [promo({ multiplier: '2', categories: ['fuel'], minSpend: '50.00' })] }, 80, [['BASE', 80]]],
    ['a tier promotion skips a member without a tier', {}, { amount: '10.00' }, { promotions: [promo({ multiplier: '2', tiers: ['Gold'] })] }, 10, [['BASE', 10]]],
    ['a tier promotion skips another tier', {}, { amount: '10.00' },
      { tier: SILVER, promotions: [promo({ multiplier: '3', tiers: ['Gold'] })] }, 15, [['BASE', 15]]],
    ['a tier promotion matches its tier (3 × tier 2)', {}, { amount: '10.00' },
      { tier: GOLD, promotions: [promo({ multiplier: '3', tiers: ['Gold'] })] }, 60, [['BASE', 60]]],
    ['a promotion without tiers is for everyone, tiered or not', {}, { amount: '10.00' },
      { tier: GOLD, promotions: [promo({ multiplier: '3' })] }, 60, [['BASE', 60]]],
    ['fixed bonus points add after the floor', { pointsPerUnit: '1.25' }, { amount: '19.99' },
      { promotions: [promo({ bonusPoints: 5 })] }, 29, [['BASE', 24], ['PROMOTION_BONUS', 5]]],
    ["every matching promotion's bonus adds, while only the largest multiplier applies", {}, { amount: '10.00' },
      { promotions: [promo({ name: 'a', multiplier: '2', bonusPoints: 5 }), promo({ name: 'b', multiplier: '3', bonusPoints: 7 })] },
      42, [['BASE', 30], ['PROMOTION_BONUS', 5], ['PROMOTION_BONUS', 7]]],
    ['a bonus of a promotion for other categories does not add', {}, { amount: '10.00', lines: [line('10.00', 'fuel')] },
      { promotions: [promo({ bonusPoints: 11, categories: ['books'] })] }, 10, [['BASE', 10]]],
    ['a bonus below its promotion minSpend does not add', {}, { amount: '10.00' },
      { promotions: [promo({ bonusPoints: 11, minSpend: '50.00' })] }, 10, [['BASE', 10]]],
  ])('%s', (_why, overrides, purchase, context, points, steps) => checkCase(overrides, purchase, context, points, steps));

  it('names the promotion that multiplied a line and the one whose bonus was added', () => {
    const result = earnCase({}, { amount: '10.00' }, { promotions: [promo({ name: 'Double Days', multiplier: '2' }), promo({ name: 'Welcome', bonusPoints: 5 })] });
    expect(result.breakdown[0]!.detail).toContain('Double Days 2');
    expect(result.breakdown[1]).toEqual({ rule: 'PROMOTION_BONUS', points: 5, detail: 'Welcome' });
  });
});

describe('computeEarn: tier multiplier', () => {
  it.each<EarnCase>([
    ['Silver 1.5 × 1.25 on 19.99 = 37.48125', { pointsPerUnit: '1.25' }, { amount: '19.99' }, { tier: SILVER }, 37, [['BASE', 37]]],
    ['every step multiplied: 10 × category 1.5 × promotion 3 × Gold 2 = 90', { categoryMultipliers: [{ category: 'fuel', multiplier: '1.5' }] },
      { amount: '10.00', lines: [line('10.00', 'fuel')] }, { tier: GOLD, promotions: [promo({ multiplier: '3' })] }, 90, [['BASE', 90]]],
    ['a tier with multiplier 1 changes nothing', { pointsPerUnit: '1.25' }, { amount: '19.99' }, { tier: { name: 'Basic', earnMultiplier: '1' } }, 24, [['BASE', 24]]],
    ['bonuses are not multiplied by the tier', { firstPurchaseBonus: 50 }, { amount: '10.00' }, { tier: GOLD }, 70, [['BASE', 20], ['FIRST_PURCHASE_BONUS', 50]]],
  ])('%s', (_why, overrides, purchase, context, points, steps) => checkCase(overrides, purchase, context, points, steps));

  it('shows the tier in the base line', () => {
    expect(earnCase({}, { amount: '10.00' }, { tier: GOLD }).breakdown[0]!.detail).toContain('tier Gold 2');
  });
});

const club = (name: string, earnMultiplier: string) => ({ id: `club-${name}`, name, earnMultiplier });

describe('computeEarn: club multipliers (multiply the exact base, rounded down once, a line each)', () => {
  it.each<EarnCase>([
    ['a ×2 club doubles the base', {}, { amount: '10.00' }, { clubs: [club('VIP', '2')] }, 20, [['BASE', 10], ['CLUB_MULTIPLIER', 10]]],
    ['tier × club: 3.33 × Silver 1.5 = 4.995, × 1.5 = 7.4925 → 7 (not floor(4) × 1.5 = 6)', {}, { amount: '3.33' },
      { tier: SILVER, clubs: [club('Sneakers', '1.5')] }, 7, [['BASE', 4], ['CLUB_MULTIPLIER', 3]]],
    ['19.99 × 1.25 × Silver 1.5 × club 1.2 = 44.9775 → 44', { pointsPerUnit: '1.25' }, { amount: '19.99' },
      { tier: SILVER, clubs: [club('Runners', '1.2')] }, 44, [['BASE', 37], ['CLUB_MULTIPLIER', 7]]],
    ['two clubs multiply, by name: 10 × 1.5 = 15 (+5), × 1.1 = 16.5 (+1)', {}, { amount: '10.00' },
      { clubs: [club('Z-club', '1.1'), club('A-club', '1.5')] }, 16, [['BASE', 10], ['CLUB_MULTIPLIER', 5], ['CLUB_MULTIPLIER', 1]]],
    ['rounded once: 0.99 earns 0 alone, × club 2 = 1.98 → 1', {}, { amount: '0.99' }, { clubs: [club('VIP', '2')] }, 1, [['BASE', 0], ['CLUB_MULTIPLIER', 1]]],
    ['a ×1 club (early access only) adds no line', {}, { amount: '10.00' }, { clubs: [club('Early', '1')] }, 10, [['BASE', 10]]],
    ['bonuses are not multiplied by a club', { firstPurchaseBonus: 50 }, { amount: '10.00' }, { clubs: [club('VIP', '2')] }, 70,
      [['BASE', 10], ['CLUB_MULTIPLIER', 10], ['FIRST_PURCHASE_BONUS', 50]]],
    ['below minSpend a club adds nothing', { minSpend: '20.00' }, { amount: '10.00' }, { clubs: [club('VIP', '2')] }, 0, [['MIN_SPEND', 0]]],
    ['the transaction cap applies after the clubs', { maxPointsPerTransaction: 15 }, { amount: '10.00' }, { clubs: [club('VIP', '2')] }, 15,
      [['BASE', 10], ['CLUB_MULTIPLIER', 10], ['MAX_PER_TRANSACTION', -5]]],
    ['with lines and a promotion: 10 fuel × 2 × promo 3 = 60, × club 1.5 = 90', { categoryMultipliers: [{ category: 'fuel', multiplier: '2' }] },
      { amount: '10.00', lines: [line('10.00', 'fuel')] }, { promotions: [promo({ multiplier: '3' })], clubs: [club('VIP', '1.5')] }, 90,
      [['BASE', 60], ['CLUB_MULTIPLIER', 30]]],
  ])('%s', (_why, overrides, purchase, context, points, steps) => checkCase(overrides, purchase, context, points, steps));

  it('names the club, its multiplier and the exact running product', () => {
    expect(earnCase({}, { amount: '3.33' }, { tier: SILVER, clubs: [club('Sneakers', '1.5')] }).breakdown[1]!.detail)
      .toBe('club Sneakers × 1.5: 4.995 × 1.5 = 7.4925, rounded down');
  });
});

describe('computeEarn: club-only promotions', () => {
  const members = promo({ name: 'Members double', multiplier: '2', clubs: ['club-VIP'] });
  it.each<EarnCase>([
    ['applies to a member of the club', {}, { amount: '10.00' }, { promotions: [members], clubs: [club('VIP', '1')] }, 20, [['BASE', 20]]],
    ['not to a member of no club', {}, { amount: '10.00' }, { promotions: [members] }, 10, [['BASE', 10]]],
    ['not to a member of another club', {}, { amount: '10.00' }, { promotions: [members], clubs: [club('Other', '1')] }, 10, [['BASE', 10]]],
    ['one of its clubs is enough', {}, { amount: '10.00' }, { promotions: [promo({ bonusPoints: 7, clubs: ['club-A', 'club-VIP'] })], clubs: [club('VIP', '1')] }, 17,
      [['BASE', 10], ['PROMOTION_BONUS', 7]]],
    ['with tiers too, both must match', {}, { amount: '10.00' }, { promotions: [promo({ bonusPoints: 7, clubs: ['club-VIP'], tiers: ['Gold'] })], tier: SILVER, clubs: [club('VIP', '1')] }, 15,
      [['BASE', 15]]],
  ])('%s', (_why, overrides, purchase, context, points, steps) => checkCase(overrides, purchase, context, points, steps));
});

describe('computeEarn: first-purchase and punch-card bonuses', () => {
  it.each<EarnCase>([
    ['the first purchase at the partner gets the first-purchase bonus', { firstPurchaseBonus: 50 }, { amount: '10.00' }, { visitsBefore: 0 },
      60, [['BASE', 10], ['FIRST_PURCHASE_BONUS', 50]]],
    ['the second does not', { firstPurchaseBonus: 50 }, { amount: '10.00' }, { visitsBefore: 1 }, 10, [['BASE', 10]]],
    ['a first-purchase bonus of 0 adds no line', { firstPurchaseBonus: 0 }, { amount: '10.00' }, { visitsBefore: 0 }, 10, [['BASE', 10]]],
    ['a purchase below minSpend (4.99 of 5.00) is no visit: no first-purchase bonus', { minSpend: '5.00', firstPurchaseBonus: 50 }, { amount: '4.99' },
      { visitsBefore: 0 }, 0, [['MIN_SPEND', 0]]],
    ['every 3rd visit: not the 1st', { everyNthVisit: 3, visitBonus: 20 }, { amount: '10.00' }, { visitsBefore: 0 }, 10, [['BASE', 10]]],
    ['every 3rd visit: not the 2nd', { everyNthVisit: 3, visitBonus: 20 }, { amount: '10.00' }, { visitsBefore: 1 }, 10, [['BASE', 10]]],
    ['every 3rd visit: the 3rd', { everyNthVisit: 3, visitBonus: 20 }, { amount: '10.00' }, { visitsBefore: 2 }, 30, [['BASE', 10], ['VISIT_BONUS', 20]]],
    ['every 3rd visit: not the 4th', { everyNthVisit: 3, visitBonus: 20 }, { amount: '10.00' }, { visitsBefore: 3, visitBonusesBefore: 1 }, 10, [['BASE', 10]]],
    ['every 3rd visit: the 6th', { everyNthVisit: 3, visitBonus: 20 }, { amount: '10.00' }, { visitsBefore: 5, visitBonusesBefore: 1 }, 30, [['BASE', 10], ['VISIT_BONUS', 20]]],
    ['every 3rd visit: the 3rd again after an earlier visit was refunded, its card already paid: no second bonus', { everyNthVisit: 3, visitBonus: 20 },
      { amount: '10.00' }, { visitsBefore: 2, visitBonusesBefore: 1 }, 10, [['BASE', 10]]],
    ['every 3rd visit: a purchase below minSpend is no visit, even when it would be the 3rd', { minSpend: '5.00', everyNthVisit: 3, visitBonus: 20 }, { amount: '4.99' },
      { visitsBefore: 2 }, 0, [['MIN_SPEND', 0]]],
    ['every visit, with the first-purchase bonus on the first', { firstPurchaseBonus: 50, everyNthVisit: 1, visitBonus: 20 }, { amount: '10.00' },
      { visitsBefore: 0 }, 80, [['BASE', 10], ['FIRST_PURCHASE_BONUS', 50], ['VISIT_BONUS', 20]]],
  ])('%s', (_why, overrides, purchase, context, points, steps) => checkCase(overrides, purchase, context, points, steps));
});

describe('computeEarn: the transaction cap, then what is left of the day cap', () => {
  it.each<EarnCase>([
    ['the transaction cap applies after the bonuses', { pointsPerUnit: '10', maxPointsPerTransaction: 500, firstPurchaseBonus: 100 }, { amount: '45.00' }, {},
      500, [['BASE', 450], ['FIRST_PURCHASE_BONUS', 100], ['MAX_PER_TRANSACTION', -50]]],
    ['the day cap leaves what is left of the day', { maxPointsPerMemberPerDay: 100 }, { amount: '50.00' }, { pointsEarnedToday: 70 },
      30, [['BASE', 50], ['MAX_PER_DAY', -20]]],
    ['the day cap not reached adds no line', { maxPointsPerMemberPerDay: 100 }, { amount: '50.00' }, { pointsEarnedToday: 10 }, 50, [['BASE', 50]]],
    ['exactly reaching the day cap adds no line', { maxPointsPerMemberPerDay: 100 }, { amount: '50.00' }, { pointsEarnedToday: 50 }, 50, [['BASE', 50]]],
    ['a day at its cap earns nothing more', { maxPointsPerMemberPerDay: 100 }, { amount: '50.00' }, { pointsEarnedToday: 100 }, 0, [['BASE', 50], ['MAX_PER_DAY', -50]]],
    ['a day past its cap (the cap was lowered) earns nothing, never less', { maxPointsPerMemberPerDay: 100 }, { amount: '50.00' }, { pointsEarnedToday: 130 },
      0, [['BASE', 50], ['MAX_PER_DAY', -50]]],
    ['the transaction cap first, then the day cap on what it left', { maxPointsPerTransaction: 40, maxPointsPerMemberPerDay: 100 }, { amount: '50.00' },
      { pointsEarnedToday: 80 }, 20, [['BASE', 50], ['MAX_PER_TRANSACTION', -10], ['MAX_PER_DAY', -20]]],
    ['the day cap also caps bonuses', { maxPointsPerMemberPerDay: 100, firstPurchaseBonus: 80 }, { amount: '50.00' }, {},
      100, [['BASE', 50], ['FIRST_PURCHASE_BONUS', 80], ['MAX_PER_DAY', -30]]],
  ])('%s', (_why, overrides, purchase, context, points, steps) => checkCase(overrides, purchase, context, points, steps));

  it('says how much was earned already that day', () => {
    expect(earnCase({ maxPointsPerMemberPerDay: 100 }, { amount: '50.00' }, { pointsEarnedToday: 70 }).breakdown[1]!.detail)
      .toBe('capped at 100 points a day at this partner; 70 earned already that day');
  });
});

describe('purchaseAvailableAt: pendingDays after the later of occurredAt and the posting time', () => {
  const posted = new Date('2026-03-10T12:00:00.000Z');
  it.each([
    ['no window (rule stored before pendingDays)', undefined, posted, null],
    ['pendingDays 0: available at posting', 0, posted, null],
    ['30 days after posting', 30, posted, '2026-04-09T12:00:00.000Z'],
    ['backdated 20 days: still 30 days after posting', 30, new Date('2026-02-18T12:00:00.000Z'), '2026-04-09T12:00:00.000Z'],
    ['occurredAt 4 minutes ahead of the posting: from occurredAt', 1, new Date('2026-03-10T12:04:00.000Z'), '2026-03-11T12:04:00.000Z'],
    ['365 days', 365, posted, '2027-03-10T12:00:00.000Z'],
  ])('%s', (_name, pendingDays, occurredAt, expected) => {
    expect(purchaseAvailableAt({ pendingDays }, occurredAt, posted)?.toISOString() ?? null).toBe(expected);
  });

  it('accepts 0 and 365', () => {
    expect(validateEarnRule({ ...rule({}), pendingDays: 0 }, 2, ['r'])).toEqual([]);
    expect(validateEarnRule({ ...rule({}), pendingDays: 365 }, 2, ['r'])).toEqual([]);
  });
});
