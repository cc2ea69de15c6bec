import type { Dec } from '../../common/decimal';
import type { Coalition } from '../coalition/coalition.types';
import type { EarnRule, PromotionForEarn, PurchaseLine } from '../earning/earn-rule';
import type { BonusLimit, CommissionPlan } from '../partner/partner.types';
import type { TransactionRow } from '../ledger/ledger.store';
import type { BonusAction } from '../ledger/ledger.types';
import { TransactionType } from '../ledger/ledger.types';

interface RequestBase {
  memberId: string;
  idempotencyKey: string;
  requestHash: string;
  /** The partner the posting is for; null: the operator. */
  partnerId: string | null;
}

/** One posting a caller asked for, checked for shape and ready to be applied under the member lock. */
export type PostingRequest = RequestBase & (
  | { kind: TransactionType.PURCHASE; amount: Dec; amountMinor: bigint; occurredAt: Date; lines: PurchaseLine[] | null; affiliateId: string | null }
  | { kind: TransactionType.BONUS; action: BonusAction; points: number; description: string | null }
  | { kind: TransactionType.REDEMPTION; points: number; description: string | null }
  | { kind: TransactionType.REVERSAL; originalId: string; refundMinor: bigint | null;
      /** A claimed reward returned: the voucher that ends (VOIDED by a caller, EXPIRED by the expiry job); the reward step posts it. */
      voucher?: { id: string; to: 'VOIDED' | 'EXPIRED' } }
  | { kind: TransactionType.REWARD; rewardId: string }
  | { kind: TransactionType.EXPIRY; asOf: Date }
  | { kind: TransactionType.DONATION; causeId: string; points: number }
);

export interface PromotionRow extends PromotionForEarn {
  id: string;
  partnerId: string;
  startsAt: Date;
  endsAt: Date;
}

/** A partner's terms as a posting applies them. */
export interface PartnerTerms {
  id: string;
  redemption_value_per_point: string;
  /** Money per point this partner pays the operator for points it issues in CLEARING (exact decimal string). */
  issuance_price_per_point: string;
  earn_rule: EarnRule;
  bonus_limits: BonusLimit[];
  commission_plan: CommissionPlan | null;
}

/** A club whose multiplier or promotions may count at the batch's partners: a coalition club (partnerId null) or one of theirs. */
export interface ClubTerms {
  id: string;
  partnerId: string | null;
  name: string;
  /** Exact decimal, ≥ 1. */
  earnMultiplier: string;
}

/** What a posting reads before its transaction: settings, partner terms, promotions, clubs, pending referrals. */
export interface PostingTerms {
  coalition: Coalition;
  partners: Map<string, PartnerTerms>;
  promotions: PromotionRow[];
  /** The coalition clubs and the batch's partners' clubs, by id (reference data, like promotions; memberships are read under the lock). */
  clubs: Map<string, ClubTerms>;
  /**
   * Referred members who have not yet made the first purchase that rewards their referrer. Read by
   * the posting's lock statement, which locks the referrers of members who purchase with them: the
   * runner fills these two maps in its own copy of the terms (loadTerms leaves them empty).
   */
  referrers: Map<string, string>;
  /**
   * Referred members whose referral was rewarded, with their referrers: a refund of the rewarding
   * purchase inside its return window cancels the referral, so the referrer is locked with it.
   */
  rewardedReferrers: Map<string, string>;
  /** Affiliate ids by the codes the requests carry. */
  affiliates: Map<string, string>;
  /** The version of these terms (`terms_version`): a posting on kept terms has its lock statement confirm it. */
  version: string;
}

/** The original transaction a reversal needs, with what earlier reversals already took. */
export interface ReversalOriginal {
  row: TransactionRow;
  totals: { count: number; refundedMinor: bigint; points: number };
  consumption?: { movements: { lotId: string; points: number }[]; obligations: import('../ledger/ledger.rules').ObligationRow[] };
  /** For a purchase: its commissions, the first one and any clawbacks. */
  commissions: import('../ledger/ledger.store').CommissionRow[];
  /**
   * For a purchase or bonus: its own lot, the points of it the expiry job moved to breakage (net), when
   * it becomes available (null: at creation), and the issuance price per point it paid the operator
   * (null: it paid none).
   */
  ownLot?: { id: string; swept: number; availableAt: Date | null; issuanceRate: string | null };
  /**
   * For a purchase that rewarded the member's referral and whose points are still pending: the
   * referrer (null when not locked) and the REFERRAL bonuses it earned that are not reversed yet,
   * each with its own lot (docs/rules.md, Referrals: a full refund cancels them).
   */
  referral?: { referrerId: string | null; bonuses: { row: TransactionRow; ownLotId: string | undefined }[] };
}
