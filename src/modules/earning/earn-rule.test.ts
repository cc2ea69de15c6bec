import { Dec } from '../../common/decimal';
import { EarnRule, checkRate, computeEarn, validateEarnRule } from './earn-rule';

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
    ['a zero multiplier', { categoryMultipliers: [{ category: 'fuel', multiplier: '0' }] }, ['categoryMultipliers', '0', 'multiplier'], /greater than 0/],
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
