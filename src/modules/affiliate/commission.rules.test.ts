import { CommissionPlanType } from '../partner/partner.types';
import { approvesAt, commissionAfterRefund, commissionFor, commissionRefund } from './commission.rules';

const DAY = 86_400_000;
const at = new Date('2026-06-01T00:00:00Z');
const percent = (rate: string, durationDays: number | null = null) => ({ type: CommissionPlanType.PERCENT_OF_SALE, rate, amount: null, durationDays, holdDays: 0 });
const fixed = (amount: string) => ({ type: CommissionPlanType.FIXED_FIRST_PURCHASE, rate: null, amount, durationDays: null, holdDays: 0 });

describe('commissionFor', () => {
  it.each([
    ['5 % of 10.10 rounds half up', percent('0.05'), 1010n, true, 0, 51n],
    ['5 % of 10.09', percent('0.05'), 1009n, true, 0, 50n],
    ['a fixed amount on the first purchase', fixed('2.50'), 10000n, true, 0, 250n],
    ['no fixed amount on a later purchase', fixed('2.50'), 10000n, false, 0, 0n],
    ['inside the attribution window', percent('0.1', 30), 1000n, false, 30 * DAY, 100n],
    ['past the attribution window', percent('0.1', 30), 1000n, false, 30 * DAY + 1, 0n],
    ['a sale from before the attribution', percent('0.1'), 1000n, false, -1, 0n],
  ])('%s', (_name, plan, amount, first, sinceAttribution, expected) => {
    expect(commissionFor({ plan, purchaseAmountMinor: amount, currencyExponent: 2, firstPurchaseAtPartner: first,
      attributedAt: at, occurredAt: new Date(at.getTime() + sinceAttribution) })).toBe(expected);
  });
});

describe('commissionAfterRefund: pro rata from the first amount, half up', () => {
  it.each([
    [1000n, 10000n, 3000n, 700n],
    [51n, 1010n, 505n, 26n], // 25.5 → 26
    [1000n, 10000n, 10000n, 0n],
    [1000n, 10000n, 0n, 1000n],
  ])('%s of %s after %s refunded is %s', (base, amount, refunded, expected) => {
    expect(commissionAfterRefund(base, amount, refunded)).toBe(expected);
  });
});

describe('commissionRefund', () => {
  const state = (over: Partial<Parameters<typeof commissionRefund>[0]> = {}) =>
    ({ baseMinor: 1000n, purchaseAmountMinor: 10000n, amountsMinor: [1000n], reversed: false, approved: false, ...over });
  it.each([
    ['before approval, a partial refund reduces it', state(), 3000n, { kind: 'reduce', amountMinor: 700n }],
    ['before approval, a full refund reverses it', state(), 10000n, { kind: 'reverse' }],
    ['after approval, a partial refund claws back the difference', state({ approved: true }), 3000n, { kind: 'clawback', amountMinor: -300n }],
    ['after approval and a clawback, the rest is clawed back', state({ approved: true, amountsMinor: [1000n, -300n] }), 10000n, { kind: 'clawback', amountMinor: -700n }],
    ['reduced before approval, clawed back after', state({ approved: true, amountsMinor: [700n] }), 6000n, { kind: 'clawback', amountMinor: -300n }],
    ['a reversed commission changes no more', state({ reversed: true }), 10000n, { kind: 'none' }],
    ['nothing to change', state({ approved: true, amountsMinor: [1000n] }), 0n, { kind: 'none' }],
  ])('%s', (_name, s, refunded, expected) => {
    expect(commissionRefund(s, refunded)).toEqual(expected);
  });
});

describe('approvesAt: the hold counts from the later of occurredAt and the posting', () => {
  const held = { ...percent('0.1'), holdDays: 30 };
  it.each([
    ['a purchase posted as it happens: 30 days after it', at, at, new Date(at.getTime() + 30 * DAY)],
    ['a purchase backdated 20 days: 30 days after its posting, not 10', new Date(at.getTime() - 20 * DAY), at, new Date(at.getTime() + 30 * DAY)],
    ['a purchase dated a minute ahead (clock skew): 30 days after its occurredAt', new Date(at.getTime() + 60_000), at, new Date(at.getTime() + 60_000 + 30 * DAY)],
  ])('%s', (_why, occurredAt, postedAt, expected) => {
    expect(approvesAt(held, occurredAt, postedAt)).toEqual(expected);
  });
});
