import { POSTING_STEPS } from './steps';

describe('the posting steps', () => {
  it('run in the order the rules need: earn, commission, auto-donation, tier, referral, donation, reward', () => {
    expect(POSTING_STEPS.map((s) => s.name)).toEqual(['earn', 'commission', 'auto-donation', 'tier', 'referral', 'donation', 'reward']);
  });

  it('have one name each', () => {
    expect(new Set(POSTING_STEPS.map((s) => s.name)).size).toBe(POSTING_STEPS.length);
  });
});
