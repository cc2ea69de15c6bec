import type { ReferralSettings } from '../coalition/coalition.entity';
import { Dec } from '../../common/decimal';
import { milestoneBonus, nextMilestone, qualifiesForReferral, referralCancelledByRefund } from './referral.rules';

/** Referral settings as configureCoalition stores them: milestones sorted by referrals. */
const SETTINGS: ReferralSettings = {
  refereeBonus: 50,
  referrerBonus: 100,
  milestones: [{ referrals: 5, bonus: 500 }, { referrals: 10, bonus: 1000 }, { referrals: 25, bonus: 3000 }, { referrals: 50, bonus: 7500 }],
};

describe('milestoneBonus: paid exactly when the successful referrals reach a milestone', () => {
  it.each([
    [1, 0, 'the first referral is no milestone'],
    [4, 0, 'one short of the first milestone'],
    [5, 500, 'the first milestone'],
    [6, 0, 'past the first milestone: paid once, not again'],
    [10, 1000, 'the second milestone'],
    [25, 3000, 'the third milestone'],
    [49, 0, 'one short of the last milestone'],
    [50, 7500, 'the last milestone'],
    [51, 0, 'past the last milestone'],
    [100, 0, 'far past every milestone'],
  ])('%i successful referrals → %i bonus points (%s)', (count, bonus) => {
    expect(milestoneBonus(SETTINGS, count)).toBe(bonus);
  });

  it('pays nothing when there are no milestones', () => {
    expect(milestoneBonus({ ...SETTINGS, milestones: [] }, 5)).toBe(0);
  });
});

describe('nextMilestone: the first milestone above the referrals so far', () => {
  it.each([
    [0, { referrals: 5, bonus: 500 }, 'no referrals yet'],
    [4, { referrals: 5, bonus: 500 }, 'one short'],
    [5, { referrals: 10, bonus: 1000 }, 'a milestone just reached points at the next'],
    [24, { referrals: 25, bonus: 3000 }, 'between milestones'],
    [49, { referrals: 50, bonus: 7500 }, 'before the last'],
    [50, null, 'the last reached: nothing next'],
    [70, null, 'past every milestone'],
  ] as [number, { referrals: number; bonus: number } | null, string][])('after %i referrals → %j (%s)', (count, expected) => {
    expect(nextMilestone(SETTINGS, count)).toEqual(expected);
  });

  it('has no next milestone when referrals are not configured', () => {
    expect(nextMilestone(null, 0)).toBeNull();
  });

  it('has no next milestone when the settings have none', () => {
    expect(nextMilestone({ ...SETTINGS, milestones: [] }, 0)).toBeNull();
  });
});

describe('qualifiesForReferral: amount reaches minimumPurchase and the purchase earned a point', () => {
  it.each([
    ['0.01 earning 0 points, minimum 0: no', undefined, '0.01', 0, false],
    ['0.01 earning 1 point, minimum 0 (the default): yes', undefined, '0.01', 1, true],
    ['9.99 earning 9 points, minimum 10.00: no', '10.00', '9.99', 9, false],
    ['10.00 earning 10 points, minimum 10.00: yes', '10.00', '10.00', 10, true],
    ['50.00 earning 0 points (an excluded category), minimum 10.00: no', '10.00', '50.00', 0, false],
  ])('%s', (_why, minimumPurchase, amount, points, expected) => {
    expect(qualifiesForReferral({ ...SETTINGS, minimumPurchase }, new Dec(amount), points)).toBe(expected);
  });
});

describe('referralCancelledByRefund: a refund after which the purchase no longer qualifies, while its points are pending', () => {
  const now = new Date('2026-03-01T00:00:00Z');
  const pending = new Date(now.getTime() + 1);
  const min10 = { ...SETTINGS, minimumPurchase: '10.00' };
  it.each([
    ['full refund inside the window (minimum 0)', SETTINGS, 0n, 0, pending, true],
    ['partial refund inside the window, net 0.01, minimum 0', SETTINGS, 1n, 1, pending, false],
    ['partial refund inside the window, net 0.01 < minimum 10.00', min10, 1n, 1, pending, true],
    ['partial refund inside the window, net 9.99 < minimum 10.00', min10, 999n, 9, pending, true],
    ['partial refund inside the window, net 10.00 = minimum 10.00', min10, 1000n, 10, pending, false],
    ['partial refund inside the window leaving 0 points, net above the minimum', min10, 2000n, 0, pending, true],
    ['settings without a referral (minimum 0), full refund', null, 0n, 0, pending, true],
    ['net 0.01 < minimum at availableAt (the points are available)', min10, 1n, 1, now, false],
    ['full refund after the window', min10, 0n, 0, new Date(now.getTime() - 1), false],
    ['full refund of a purchase without a window', min10, 0n, 0, null, false],
  ])('%s', (_name, settings, netMinor, netPoints, availableAt, cancelled) => {
    expect(referralCancelledByRefund(settings, 2, netMinor, netPoints, availableAt, now)).toBe(cancelled);
  });
  it('reads the minimum in the currency\'s minor units (exponent 0: 10 units)', () => {
    expect(referralCancelledByRefund({ ...SETTINGS, minimumPurchase: '10' }, 0, 9n, 9, pending, now)).toBe(true);
    expect(referralCancelledByRefund({ ...SETTINGS, minimumPurchase: '10' }, 0, 10n, 10, pending, now)).toBe(false);
  });
});
