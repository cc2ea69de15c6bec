import type { Tier } from '../coalition/coalition.entity';
import { nextTier, tierFor, tierProgress } from './tier.rules';

/** Coalition tiers as configureCoalition stores them: sorted by qualifyingPoints. */
const TIERS: Tier[] = [
  { name: 'Silver', qualifyingPoints: 100, earnMultiplier: '1.5' },
  { name: 'Gold', qualifyingPoints: 500, earnMultiplier: '2' },
  { name: 'Platinum', qualifyingPoints: 2000, earnMultiplier: '3' },
];

describe('tierFor: the highest tier whose threshold the qualifying points reach', () => {
  it.each([
    [0, null, 'nothing qualified'],
    [99, null, 'one point short of the first tier'],
    [100, 'Silver', 'exactly the first threshold'],
    [101, 'Silver', 'past the first threshold'],
    [499, 'Silver', 'one point short of the second tier'],
    [500, 'Gold', 'exactly the second threshold'],
    [1999, 'Gold', 'one point short of the top'],
    [2000, 'Platinum', 'exactly the top threshold'],
    [1_000_000, 'Platinum', 'far past the top'],
    [-50, null, 'net negative after refunds'],
  ] as [number, string | null, string][])('%i qualifying points → %s (%s)', (qualifying, expected) => {
    expect(tierFor(qualifying, TIERS)?.name ?? null).toBe(expected);
  });

  it('has no tier to give when the coalition has none', () => {
    expect(tierFor(10_000, [])).toBeNull();
  });

  it('gives a tier with threshold 0 to everyone', () => {
    expect(tierFor(0, [{ name: 'Member', qualifyingPoints: 0, earnMultiplier: '1' }, ...TIERS])?.name).toBe('Member');
  });
});

describe('nextTier: upgrades at once, downgrades only when the expiry job says so', () => {
  it.each([
    // current, qualifying, downgrade, expected, why
    [null, 50, false, null, 'below every threshold stays without a tier'],
    [null, 100, false, 'Silver', 'reaching a threshold upgrades at once'],
    [null, 600, false, 'Gold', 'a big purchase can skip a tier'],
    ['Silver', 500, false, 'Gold', 'Silver to Gold at once'],
    ['Silver', 120, false, 'Silver', 'still Silver'],
    ['Gold', 120, false, 'Gold', 'a lower qualification (a refund) keeps the tier until the expiry job'],
    ['Gold', 0, false, 'Gold', 'nothing left in the window still keeps it until the expiry job'],
    ['Gold', 120, true, 'Silver', 'the expiry job downgrades to what the window qualifies for'],
    ['Gold', 0, true, null, 'the expiry job takes the tier away when nothing qualifies'],
    ['Silver', 600, true, 'Gold', 'the expiry job also upgrades'],
    ['Platinum', 2500, true, 'Platinum', 'the expiry job keeps a tier still qualified for'],
  ] as [string | null, number, boolean, string | null, string][])('%s with %i qualifying points (downgrade %s) → %s: %s',
    (current, qualifying, downgrade, expected) => {
      expect(nextTier(current, qualifying, TIERS, downgrade)).toBe(expected);
    });

  it('drops a tier the coalition no longer has when the expiry job runs', () => {
    expect(nextTier('Bronze', 50, TIERS, true)).toBeNull();
  });
});

describe('tierProgress: what the next tier still needs', () => {
  it.each([
    // qualifying, held, next tier, points to it, why
    [0, null, 'Silver', 100, 'a new member'],
    [80, null, 'Silver', 20, 'on the way to the first tier'],
    [110, 'Silver', 'Gold', 390, 'Silver on the way to Gold'],
    [500, 'Gold', 'Platinum', 1500, 'exactly at Gold'],
    [2000, 'Platinum', null, 0, 'at the top: no next tier, nothing to go'],
    [5000, 'Platinum', null, 0, 'far past the top'],
    [70, 'Silver', 'Gold', 430, 'a refund took qualification below Silver; the held Silver is not the next tier'],
    [0, 'Gold', 'Platinum', 2000, 'a window that slid: the next tier is above the one held'],
  ] as [number, string | null, string | null, number, string][])('%i qualifying points holding %s → next %s, %i to go (%s)',
    (qualifying, held, next, toGo) => {
      const progress = tierProgress(qualifying, TIERS, held);
      expect(progress).toEqual({ qualifyingPoints: qualifying, nextTier: next === null ? null : TIERS.find((t) => t.name === next), pointsToNextTier: toGo });
    });

  it('has nothing to aim for without tiers', () => {
    expect(tierProgress(300, [], null)).toEqual({ qualifyingPoints: 300, nextTier: null, pointsToNextTier: 0 });
  });
});
