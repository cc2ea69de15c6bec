import { Dec } from '../../common/decimal';
import type { CommissionPlan } from '../partner/partner.types';
import { CommissionPlanType } from '../partner/partner.types';

const DAY_MS = 86_400_000;

export enum CommissionStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  PAID = 'PAID',
  REVERSED = 'REVERSED',
}

export interface CommissionCase {
  plan: CommissionPlan;
  purchaseAmountMinor: bigint;
  currencyExponent: number;
  /** Whether this is the member's first purchase at the partner. */
  firstPurchaseAtPartner: boolean;
  attributedAt: Date;
  occurredAt: Date;
}

/**
 * The commission a purchase earns its affiliate under a plan (docs/rules.md, Affiliates and
 * commissions), in minor units; 0 when none: before the attribution or after its window, or a
 * FIXED_FIRST_PURCHASE plan on a later purchase. PERCENT_OF_SALE is rate × amount, half up.
 */
export function commissionFor(c: CommissionCase): bigint {
  // A sale from before the member was brought was not the affiliate's doing.
  if (c.occurredAt.getTime() < c.attributedAt.getTime()) return 0n;
  if (c.plan.durationDays !== null && c.occurredAt.getTime() > c.attributedAt.getTime() + c.plan.durationDays * DAY_MS) return 0n;
  if (c.plan.type === CommissionPlanType.PERCENT_OF_SALE) {
    return BigInt(new Dec(c.plan.rate!).times(c.purchaseAmountMinor.toString()).toDecimalPlaces(0, Dec.ROUND_HALF_UP).toFixed(0));
  }
  if (!c.firstPurchaseAtPartner) return 0n;
  return BigInt(new Dec(c.plan.amount!).times(new Dec(10).pow(c.currencyExponent)).toFixed(0));
}

/**
 * When a commission's hold ends (docs/rules.md, Affiliates): holdDays after the later of the purchase's
 * occurredAt and its posting, so a backdated purchase waits the whole hold from when it was recorded.
 */
export function approvesAt(plan: CommissionPlan, occurredAt: Date, postedAt: Date): Date {
  return new Date(Math.max(occurredAt.getTime(), postedAt.getTime()) + plan.holdDays * DAY_MS);
}

/** What a commission should come to once `refundedMinor` of the purchase is refunded: pro rata, half up. */
export function commissionAfterRefund(originalMinor: bigint, purchaseAmountMinor: bigint, refundedMinor: bigint): bigint {
  if (refundedMinor >= purchaseAmountMinor) return 0n;
  return BigInt(new Dec(originalMinor.toString()).times((purchaseAmountMinor - refundedMinor).toString()).div(purchaseAmountMinor.toString())
    .toDecimalPlaces(0, Dec.ROUND_HALF_UP).toFixed(0));
}

/** The status a reader sees: PAID once settled, REVERSED, else APPROVED from the end of the hold. */
export function effectiveStatus(stored: string, settled: boolean, approvesAtTime: Date, now: Date): CommissionStatus {
  if (stored === CommissionStatus.REVERSED) return CommissionStatus.REVERSED;
  if (settled) return CommissionStatus.PAID;
  return approvesAtTime.getTime() <= now.getTime() ? CommissionStatus.APPROVED : CommissionStatus.PENDING;
}

export interface CommissionState {
  baseMinor: bigint;
  purchaseAmountMinor: bigint;
  /** The first commission's current amount and the clawbacks after it. */
  amountsMinor: bigint[];
  reversed: boolean;
  /** Approved (its hold over) or already paid. */
  approved: boolean;
}

/**
 * What a refund does to a purchase's commission once `refundedMinor` of it is refunded in all:
 * before approval the commission itself is set to its pro-rata share (REVERSED at a full refund);
 * after approval a clawback brings the total to that share. Nothing when there is nothing to change.
 */
export function commissionRefund(c: CommissionState, refundedMinor: bigint):
  | { kind: 'none' } | { kind: 'reduce'; amountMinor: bigint } | { kind: 'reverse' } | { kind: 'clawback'; amountMinor: bigint } {
  if (c.reversed) return { kind: 'none' };
  const target = commissionAfterRefund(c.baseMinor, c.purchaseAmountMinor, refundedMinor);
  if (!c.approved && c.amountsMinor.length === 1) return target === 0n ? { kind: 'reverse' } : { kind: 'reduce', amountMinor: target };
  const current = c.amountsMinor.reduce((sum, a) => sum + a, 0n);
  return target === current ? { kind: 'none' } : { kind: 'clawback', amountMinor: target - current };
}
