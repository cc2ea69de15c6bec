import { Dec } from '../../common/decimal';
import { EconomicsSums, operatorEconomics } from './operator-economics.rules';

const base: EconomicsSums = {
  lines: [], breakagePoints: 0n, breakageExact: new Dec(0), outstandingPoints: 0n, trailingRedeemedPoints: 0n, trailingRedeemedExact: new Dec(0),
  fallbackValuePerPoint: new Dec('0.01'), trailingExpiredPoints: 0n, trailingUsedPoints: 0n,
};
const line = (kind: string, operatorReceives: boolean, exact: string) => ({ kind, operatorReceives, exact: new Dec(exact) });

describe('operator economics (docs/rules.md, Operator economics)', () => {
  it('rounds each line half up once and nets them into the margin (the worked example)', () => {
    const e = operatorEconomics({ ...base, lines: [line('ISSUANCE', true, '2.4'), line('ISSUANCE', true, '0.9'), line('REDEMPTION', false, '2'),
      line('DONATION', false, '0.2')], outstandingPoints: 30n, trailingRedeemedPoints: 250n, trailingRedeemedExact: new Dec('2') }, 2);
    expect(e).toMatchObject({ issuanceRevenueMinor: 330n, redemptionCostMinor: 200n, rewardCostMinor: 0n, donationCostMinor: 20n, marginMinor: 110n,
      liabilityMinor: 24n, breakageEstimateMinor: 0n });
    expect(e.liabilityValuePerPoint.toFixed()).toBe('0.008');
  });

  it.each([
    ['a line of 0.005 rounds up to 0.01', [line('ISSUANCE', true, '0.005')], 1n],
    ['two lines of 0.004 are 0.00 each, not 0.01 together', [line('ISSUANCE', true, '0.004'), line('ISSUANCE', true, '0.004')], 0n],
    ['a debt recovery the operator receives lowers the redemption cost', [line('DEBT_RECOVERY', true, '0.7')], 70n],
    ['a returned redemption (negative line) gives back cost', [line('REDEMPTION', false, '-0.5')], 50n],
  ])('%s', (_what, lines, margin) => {
    expect(operatorEconomics({ ...base, lines }, 2).marginMinor).toBe(margin);
  });

  it('values the liability at the volume-weighted value, and estimates breakage at the trailing rate', () => {
    // 100 points at 0.01 and 300 at 0.008: (1 + 2.4) / 400 = 0.0085; 1000 outstanding → 8.50; 100 expired of 500 left → 20 % → 1.70.
    const e = operatorEconomics({ ...base, outstandingPoints: 1000n, trailingRedeemedPoints: 400n, trailingRedeemedExact: new Dec('3.4'),
      trailingExpiredPoints: 100n, trailingUsedPoints: 400n }, 2);
    expect([e.liabilityMinor, e.trailingBreakageRate.toFixed(), e.breakageEstimateMinor]).toEqual([850n, '0.2', 170n]);
  });

  it('falls back to the highest current redemption value when nothing was redeemed', () => {
    expect(operatorEconomics({ ...base, outstandingPoints: 333n }, 2).liabilityMinor).toBe(333n);
  });

  it('refuses a kind it has no place for', () => {
    expect(() => operatorEconomics({ ...base, lines: [line('MATCH', false, '1')] }, 2)).toThrow(/MATCH/);
  });
});
