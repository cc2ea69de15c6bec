import { autoDonationPoints, matchFor } from './charity.rules';

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
