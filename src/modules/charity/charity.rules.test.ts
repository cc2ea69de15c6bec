import { autoDonationPoints, donationValueMinor, matchFor, minimumDonationPoints, splitDonationValue } from './charity.rules';

describe('matchFor: floor(points × ratio), capped by what is left', () => {
  it.each([
    [100, '1', 1000, 100],
    [100, '0.5', 1000, 50],
    [7, '0.5', 1000, 3],
    [3, '0.333333', 1000, 0],
    [100, '2', 150, 150],
    [100, '1', 0, 0],
    [100, '1.5', 1, 1],
  ])('%i points at ratio %s with %i left match %i', (points, ratio, left, expected) => {
    expect(matchFor(points, ratio, left)).toBe(expected);
  });
});

describe('autoDonationPoints: percent of the earn, rounded down, from what the lot holds', () => {
  it.each([
    [125, 10, 125, 12],
    [125, 100, 125, 125],
    [9, 10, 9, 0],
    [100, 50, 30, 30],
    [100, 1, 100, 1],
    [0, 50, 0, 0],
  ])('%i points at %i %% with %i in the lot donate %i', (earned, percent, remaining, expected) => {
    expect(autoDonationPoints(earned, percent, remaining)).toBe(expected);
  });
});

describe('donationValueMinor: points × value per point, rounded down to minor units', () => {
  it.each([
    [1, '0.005', 2, 0n],
    [2, '0.005', 2, 1n],
    [3, '0.005', 2, 1n],
    [10, '0.005', 2, 5n],
    [1, '0.5', 0, 0n],
    [3, '0.5', 0, 1n],
    [100, '0.01', 2, 100n],
    [7, '0.0033', 3, 23n],
  ])('%i points at %s (exponent %i) are worth %s minor units', (points, rate, exponent, expected) => {
    expect(donationValueMinor(points, rate, exponent)).toBe(expected);
  });
});

describe('splitDonationValue: a donation split over its rows on the running total sums to its value', () => {
  it.each([
    [[1, 2], '0.005', 2, [0, 1]],
    [[2, 1], '0.005', 2, [1, 0]],
    [[1, 1, 1, 1], '0.005', 2, [0, 1, 0, 1]],
    [[100, 10], '0.01', 2, [100, 10]],
    [[3], '0.5', 0, [1]],
  ])('rows %j at %s (exponent %i) are worth %j', (rows, rate, exponent, expected) => {
    const values = splitDonationValue(rows, rate, exponent);
    expect(values).toEqual(expected.map(BigInt));
    expect(values.reduce((a, b) => a + b, 0n)).toBe(donationValueMinor(rows.reduce((a, b) => a + b, 0), rate, exponent));
  });
});

describe('minimumDonationPoints: the fewest points worth one minor unit', () => {
  it.each([
    ['0.005', 2, 2],
    ['0.01', 2, 1],
    ['0.003', 2, 4],
    ['0.5', 0, 2],
    ['2', 0, 1],
    ['0.000001', 2, 10000],
    ['0', 2, 2147483647],
  ])('at %s (exponent %i): %i', (rate, exponent, expected) => {
    expect(minimumDonationPoints(rate, exponent)).toBe(expected);
    if (expected < 2147483647) {
      expect(donationValueMinor(expected, rate, exponent)).toBeGreaterThan(0n);
      expect(donationValueMinor(expected - 1, rate, exponent)).toBe(0n);
    }
  });
});
