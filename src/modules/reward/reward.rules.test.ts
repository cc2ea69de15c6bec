import {
  CROCKFORD, MemberStanding, RewardTerms, canonicalVoucherCode, checkSymbol, chooseNextReward, defaultValueMinor, formatVoucherCode, newVoucherCode, refusal, valuePerPoint,
} from './reward.rules';

const NOW = new Date('2026-06-01T12:00:00Z');
const reward = (over: Partial<RewardTerms> = {}): RewardTerms => ({
  active: true, startsAt: null, endsAt: null, tiers: [], clubs: [], stock: null, claimed: 0, perMemberLimit: null, pointsPrice: 500, ...over,
});
const member = (over: Partial<MemberStanding> = {}): MemberStanding => ({ tierName: null, clubIds: [], balance: 1000, debt: 0, claimedByMember: 0, ...over });

describe('refusal (eligibility of a claim now)', () => {
  it.each<[string, Partial<RewardTerms>, Partial<MemberStanding>, string | null]>([
    ['an open reward with enough points: claimable', {}, {}, null],
    ['balance exactly the price: claimable', { pointsPrice: 1000 }, {}, null],
    ['inactive: NOT_ELIGIBLE', { active: false }, {}, 'NOT_ELIGIBLE'],
    ['before startsAt: NOT_ELIGIBLE', { startsAt: new Date('2026-06-01T12:00:01Z') }, {}, 'NOT_ELIGIBLE'],
    ['at startsAt: claimable (inclusive)', { startsAt: NOW }, {}, null],
    ['at endsAt: NOT_ELIGIBLE (exclusive)', { endsAt: NOW }, {}, 'NOT_ELIGIBLE'],
    ['tier listed and held: claimable', { tiers: ['Gold'] }, { tierName: 'Gold' }, null],
    ['tier listed, another held: NOT_ELIGIBLE', { tiers: ['Gold'] }, { tierName: 'Silver' }, 'NOT_ELIGIBLE'],
    ['tier listed, none held: NOT_ELIGIBLE', { tiers: ['Gold'] }, {}, 'NOT_ELIGIBLE'],
    ['club listed and a member of it: claimable', { clubs: ['c1', 'c2'] }, { clubIds: ['c2'] }, null],
    ['club listed, member of another: NOT_ELIGIBLE', { clubs: ['c1'] }, { clubIds: ['c3'] }, 'NOT_ELIGIBLE'],
    ['stock 10, 10 claimed: OUT_OF_STOCK', { stock: 10, claimed: 10 }, {}, 'OUT_OF_STOCK'],
    ['stock 10, 9 claimed: claimable', { stock: 10, claimed: 9 }, {}, null],
    ['stock 0: OUT_OF_STOCK', { stock: 0 }, {}, 'OUT_OF_STOCK'],
    ['limit 2, claimed 2: LIMIT_EXCEEDED', { perMemberLimit: 2 }, { claimedByMember: 2 }, 'LIMIT_EXCEEDED'],
    ['limit 2, claimed 1: claimable', { perMemberLimit: 2 }, { claimedByMember: 1 }, null],
    ['in debt: MEMBER_IN_DEBT', {}, { balance: -5, debt: 5 }, 'MEMBER_IN_DEBT'],
    ['499 of 500 points: INSUFFICIENT_POINTS', {}, { balance: 499 }, 'INSUFFICIENT_POINTS'],
    ['window is checked before stock', { active: false, stock: 0 }, {}, 'NOT_ELIGIBLE'],
    ['stock before the member limit', { stock: 1, claimed: 1, perMemberLimit: 1 }, { claimedByMember: 1 }, 'OUT_OF_STOCK'],
    ['debt before points', {}, { balance: -1, debt: 1 }, 'MEMBER_IN_DEBT'],
  ])('%s', (_name, r, m, expected) => {
    expect(refusal(reward(r), member(m), NOW)).toBe(expected);
  });
});

describe('chooseNextReward', () => {
  const r = (id: string, over: Partial<RewardTerms>) => ({ id, ...reward(over) });
  it.each<[string, ReturnType<typeof r>[], MemberStanding, { id: string; pointsNeeded: number } | null]>([
    ['the cheapest one not yet affordable: 1,200 of 2,000 → 800 needed',
      [r('a', { pointsPrice: 5000 }), r('b', { pointsPrice: 2000 }), r('c', { pointsPrice: 1000 })], member({ balance: 1200 }), { id: 'b', pointsNeeded: 800 }],
    ['affordable ones are not "next"', [r('a', { pointsPrice: 100 })], member({ balance: 1200 }), null],
    ['ineligible ones (tier, stock, limit) are skipped',
      [r('a', { pointsPrice: 1500, tiers: ['Gold'] }), r('b', { pointsPrice: 1600, stock: 0 }), r('c', { pointsPrice: 1700, perMemberLimit: 1 }), r('d', { pointsPrice: 3000 })],
      member({ balance: 1200, claimedByMember: 1 }), { id: 'd', pointsNeeded: 1800 }],
    ['in debt: the debt counts against it (balance −50, price 100 → 150)', [r('a', { pointsPrice: 100 })], member({ balance: -50, debt: 50 }), { id: 'a', pointsNeeded: 150 }],
    ['equal prices: the first id', [r('b', { pointsPrice: 2000 }), r('a', { pointsPrice: 2000 })], member({ balance: 0 }), { id: 'a', pointsNeeded: 2000 }],
    ['nothing on offer: null', [], member(), null],
  ])('%s', (_name, rewards, standing, expected) => {
    const next = chooseNextReward(rewards, (x) => ({ ...standing, claimedByMember: x.id === 'c' ? standing.claimedByMember : 0 }), NOW);
    expect(next && { id: next.reward.id, pointsNeeded: next.pointsNeeded }).toEqual(expected);
  });
});

describe('voucher codes', () => {
  it('a new code is 13 Crockford symbols (60 random bits + a check symbol) and shown as XXXX-XXXX-XXXX-X', () => {
    const code = newVoucherCode();
    expect(code).toMatch(new RegExp(`^[${CROCKFORD}]{13}$`));
    expect(formatVoucherCode(code)).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]$/);
    expect(canonicalVoucherCode(formatVoucherCode(code))).toBe(code);
  });

  it('uses all 60 random bits: all-zero and all-one inputs give different, valid codes', () => {
    const zero = newVoucherCode(() => Buffer.alloc(8, 0));
    const ones = newVoucherCode(() => Buffer.alloc(8, 0xff));
    expect(zero.slice(0, 12)).toBe('000000000000');
    expect(ones.slice(0, 12)).toBe('ZZZZZZZZZZZZ');
    expect(canonicalVoucherCode(zero)).toBe(zero);
    expect(canonicalVoucherCode(ones)).toBe(ones);
  });

  it('10,000 codes are all different', () => {
    expect(new Set(Array.from({ length: 10_000 }, () => newVoucherCode())).size).toBe(10_000);
  });

  const code = '7K1M0QX2HB4T' + checkSymbol('7K1M0QX2HB4T');
  it.each<[string, string, string | undefined]>([
    ['grouped as shown', formatVoucherCode(code), code],
    ['lower case, spaces instead of dashes', formatVoucherCode(code).toLowerCase().replace(/-/g, ' '), code],
    ['O read as 0, I and L as 1', code.replace(/0/g, 'O').replace(/1/g, 'I'), code],
    ['a wrong symbol fails the check', '8' + code.slice(1), undefined],
    ['two neighbours swapped fail the check', code[1]! + code[0]! + code.slice(2), undefined],
    ['full-width letters and a Unicode dash (NFKC)', formatVoucherCode(code).replace(/-/g, '\u2013').replace(/K/g, '\uFF2B'), code],
    ['an invisible character is refused', code.slice(0, 4) + '\u200B' + code.slice(4), undefined],
    ['too short', code.slice(0, 12), undefined],
    ['U is not a Crockford symbol', 'U' + code.slice(1), undefined],
    ['empty', '', undefined],
  ])('canonical: %s', (_name, input, expected) => {
    expect(canonicalVoucherCode(input)).toBe(expected);
  });

  it('every single-symbol change of a code is caught by the check symbol', () => {
    for (let i = 0; i < 13; i++) {
      for (const c of CROCKFORD) {
        if (c === code[i]) continue;
        expect(canonicalVoucherCode(code.slice(0, i) + c + code.slice(i + 1))).toBeUndefined();
      }
    }
  });
});

describe('value', () => {
  it.each<[string, number, string, number, bigint]>([
    ['2,000 points × 0.01 = 20.00', 2000, '0.01', 2, 2000n],
    ['333 points × 0.0075 = 2.4975 → 2.50 (half up)', 333, '0.0075', 2, 250n],
    ['333 points × 0.00745 = 2.48085 → 2.48', 333, '0.00745', 2, 248n],
    ['1 point × 0.005 = 0.005 → 0.01 (half up)', 1, '0.005', 2, 1n],
    ['JPY: 150 points × 1.5 = 225', 150, '1.5', 0, 225n],
  ])('default value: %s', (_name, price, rate, exponent, expected) => {
    expect(defaultValueMinor(price, rate, exponent)).toBe(expected);
  });

  it.each<[string, bigint, number, number, string | undefined]>([
    ['20.00 for 2,000 points: 0.01 a point', 2000n, 2000, 2, '0.01'],
    ['15.00 for 2,000 points: 0.0075', 1500n, 2000, 2, '0.0075'],
    ['10.00 for 3 points: not exact within 6 digits', 1000n, 3, 2, undefined],
    ['0.01 for 1,000,000 points: 0.00000001 has 8 digits', 1n, 1_000_000, 2, undefined],
    ['0.00 for 100 points: 0', 0n, 100, 2, '0'],
  ])('value per point: %s', (_name, valueMinor, price, exponent, expected) => {
    expect(valuePerPoint(valueMinor, price, exponent)).toBe(expected);
  });
});
