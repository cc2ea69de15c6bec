import { Dec } from '../../common/decimal';
import { roundToMinor } from '../settlement/settlement.rules';

/**
 * The operator economics report's arithmetic (docs/rules.md, Operator economics), pure: the service
 * sums in PostgreSQL, this turns the sums into the report. Money in minor units (bigint), points as
 * bigint, rates as exact decimals.
 */

/** One obligation line the operator takes part in, as settlement groups it: (kind, payer, payee), exact money. */
export interface OperatorLine {
  kind: string;
  /** True when the operator receives this line, false when it pays it. */
  operatorReceives: boolean;
  /** Σ points × rate (donations: Σ stored floored values), currency units, exact. */
  exact: Dec;
}

export interface EconomicsSums {
  lines: OperatorLine[];
  /** Net points moved to breakage in the period (expiries less expired points refunds counted back). */
  breakagePoints: bigint;
  /** Σ those points × the issuance price their lot's purchase paid (0 where none was paid), exact. */
  breakageExact: Dec;
  /** Unexpired points members hold at the end of the period (available and pending). */
  outstandingPoints: bigint;
  /** Trailing 365 days before the period end: points redeemed (not returned) and Σ points × the redeeming partner's value. */
  trailingRedeemedPoints: bigint;
  trailingRedeemedExact: Dec;
  /** Highest current redemption value among partners: the liability's rate when nothing was redeemed in the trailing year. */
  fallbackValuePerPoint: Dec;
  /** Trailing 365 days: points expired (net) and points used (redeemed, claimed, donated, net of returns). */
  trailingExpiredPoints: bigint;
  trailingUsedPoints: bigint;
}

export interface Economics {
  issuanceRevenueMinor: bigint;
  redemptionCostMinor: bigint;
  rewardCostMinor: bigint;
  donationCostMinor: bigint;
  breakagePoints: bigint;
  breakageValueMinor: bigint;
  marginMinor: bigint;
  outstandingPoints: bigint;
  liabilityMinor: bigint;
  breakageEstimateMinor: bigint;
  /** The rate the liability is valued at (exact; 6 decimals shown). */
  liabilityValuePerPoint: Dec;
  /** trailing expired / (expired + used), exact; 0 when nothing left members' hands. */
  trailingBreakageRate: Dec;
}

/**
 * Each line is rounded half up once (as a settlement run rounds it), then signed from the
 * operator's side: margin = Σ received − Σ paid = issuanceRevenue − redemptionCost − rewardCost −
 * donationCost, which is the operator's net position in a settlement run of the same period.
 * REDEMPTION and DEBT_RECOVERY lines count as redemption cost (net: a debt recovery the operator
 * receives lowers it). An unknown kind throws (a new kind must be placed in the report).
 */
export function operatorEconomics(s: EconomicsSums, exponent: number): Economics {
  let issuance = 0n;
  let redemption = 0n;
  let reward = 0n;
  let donation = 0n;
  for (const line of s.lines) {
    const amount = roundToMinor(line.exact, exponent);
    const received = line.operatorReceives ? amount : -amount;
    switch (line.kind) {
      case 'ISSUANCE': issuance += received; break;
      case 'REDEMPTION':
      case 'DEBT_RECOVERY': redemption -= received; break;
      case 'REWARD': reward -= received; break;
      case 'DONATION': donation -= received; break;
      default: throw new Error(`operator economics: no place for obligation kind ${line.kind}`);
    }
  }
  const rate = s.trailingRedeemedPoints > 0n ? s.trailingRedeemedExact.div(s.trailingRedeemedPoints.toString()) : s.fallbackValuePerPoint;
  // The exact product, rounded once: outstanding × Σ(points × value) / Σ points.
  const liabilityExact = s.trailingRedeemedPoints > 0n
    ? s.trailingRedeemedExact.times(s.outstandingPoints.toString()).div(s.trailingRedeemedPoints.toString())
    : s.fallbackValuePerPoint.times(s.outstandingPoints.toString());
  const liability = roundToMinor(liabilityExact, exponent);
  const left = s.trailingExpiredPoints + s.trailingUsedPoints;
  const breakageRate = left > 0n && s.trailingExpiredPoints > 0n ? new Dec(s.trailingExpiredPoints.toString()).div(left.toString()) : new Dec(0);
  return {
    issuanceRevenueMinor: issuance,
    redemptionCostMinor: redemption,
    rewardCostMinor: reward,
    donationCostMinor: donation,
    breakagePoints: s.breakagePoints,
    breakageValueMinor: roundToMinor(s.breakageExact, exponent),
    marginMinor: issuance - redemption - reward - donation,
    outstandingPoints: s.outstandingPoints,
    liabilityMinor: liability,
    // On the booked (rounded) liability, rounded half up once.
    breakageEstimateMinor: roundToMinor(new Dec(liability.toString()).times(breakageRate).div(new Dec(10).pow(exponent)), exponent),
    liabilityValuePerPoint: rate,
    trailingBreakageRate: breakageRate,
  };
}
