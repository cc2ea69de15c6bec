import { uuidv7 } from '../../../common/ids';
import { milestoneBonus, qualifiesForReferral, referralCancelledByRefund } from '../../earning/referral.rules';
import { TransactionType } from '../../ledger/ledger.types';
import type { PostingStep } from '../posting-step';

/** The caller recorded on postings the hub makes itself (referral bonuses, expiry). */
export const SYSTEM_CALLER = 'system';

/** The idempotency key of a REFERRAL bonus a purchase paid (`kind`: who got it), unique per member under SYSTEM_CALLER. */
export function referralBonusKey(purchaseId: string, kind: 'referee' | 'referrer' | 'milestone'): string {
  return `referral:${purchaseId}:${kind}`;
}

/**
 * Referrals (docs/rules.md, Referrals): a referred member's first qualifying purchase anywhere
 * (qualifiesForReferral) rewards the referral once — the referee's bonus, the referrer's bonus and
 * any milestone, each a REFERRAL transaction of the hub with a lot of the hub's validity, pending
 * exactly as long as the purchase's own points (same availableAt; the validity counts from it); a
 * bonus that would carry a balance past MAX_INT32 is skipped. Purchases that do not qualify leave the
 * referral open. A refund (full or partial) after which the rewarding purchase no longer qualifies —
 * its net amount below `referral.minimumPurchase`, or no amount or point left — while its points are
 * still pending (referralCancelledByRefund) cancels the referral: each bonus is reversed by the hub
 * (REVERSAL keyed `referral-cancel:<bonus id>`, taken back from the bonus's own pending lot, so no
 * debt and no obligation), the referrer's count goes down and the member may qualify again.
 * Needs: the referrer locked with the batch (the runner locks terms.referrers on purchases,
 * terms.rewardedReferrers on refunds) and, on a refund, original.referral (loaded by the runner).
 * Never fails; nothing on a quote.
 */
export const referralStep: PostingStep = {
  name: 'referral',
  purchased(s, { request: r, member, row, earned, lot }) {
    if (s.options.dryRun || !qualifiesForReferral(s.terms.coalition.referral, r.amount, earned.points)) return;
    const referrerId = s.terms.referrers.get(r.memberId);
    if (!referrerId || member.referralRewardedAt) return;
    const referrer = s.member(referrerId);
    if (!referrer) return;
    member.referralRewardedAt = s.now;
    referrer.successfulReferrals += 1;
    const settings = s.terms.coalition.referral;
    if (!settings) return;
    // Pending exactly as long as the purchase's points (a qualifying purchase earned at least one, so it has a lot).
    const availableAt = lot?.availableAt ?? null;
    const grant = (to: string, points: number, kind: 'referee' | 'referrer' | 'milestone', detail: string) => {
      if (points <= 0 || s.overflows(to, points)) return;
      const tx = s.newTransaction({ memberId: to, idempotencyKey: referralBonusKey(row.id, kind), requestHash: row.id, partnerId: null },
        TransactionType.REFERRAL, SYSTEM_CALLER);
      s.book(to).credit(tx.id, uuidv7(s.now.getTime()), { partnerId: null }, points, s.expiry(null, availableAt), s.now, availableAt);
      s.record({ ...tx, points, description: detail, breakdown: [{ rule: kind.toUpperCase(), points, detail }] });
    };
    grant(r.memberId, settings.refereeBonus, 'referee', 'welcome bonus for joining through a referral');
    grant(referrerId, settings.referrerBonus, 'referrer', `referral bonus: member ${r.memberId} made a first purchase`);
    const milestone = milestoneBonus(settings, referrer.successfulReferrals);
    grant(referrerId, milestone, 'milestone', `milestone bonus: ${referrer.successfulReferrals} successful referrals`);
  },
  refunded(s, { request: r, original, refundedMinor, points }) {
    const referral = original.referral;
    if (s.options.dryRun || !referral) return;
    // What is left of the purchase after this refund: its amount less all refunds, its points less all taken back.
    const netMinor = BigInt(original.row.amount_minor!) - refundedMinor;
    const netPoints = original.row.points + original.totals.points - points;
    if (!referralCancelledByRefund(s.terms.coalition.referral, s.terms.coalition.currencyExponent, netMinor, netPoints,
      original.ownLot?.availableAt ?? null, s.now)) return;
    const member = s.member(r.memberId)!;
    member.referralRewardedAt = null;
    const referrer = referral.referrerId ? s.member(referral.referrerId) : undefined;
    if (referrer) referrer.successfulReferrals = Math.max(0, referrer.successfulReferrals - 1);
    for (const bonus of referral.bonuses) {
      const tx = { ...s.newTransaction({ memberId: bonus.row.member_id, idempotencyKey: `referral-cancel:${bonus.row.id}`, requestHash: bonus.row.id, partnerId: null },
        TransactionType.REVERSAL, SYSTEM_CALLER), reverses_id: bonus.row.id };
      // From the bonus's own lot, still pending: nothing else of the member's is touched unless that lot paid a debt.
      s.book(bonus.row.member_id).takeBack(tx.id, { partnerId: null }, bonus.ownLotId, bonus.row.points, uuidv7(s.now.getTime()), s.now);
      s.record({ ...tx, points: -bonus.row.points, description: `referral cancelled: purchase ${original.row.id} refunded below the referral minimum inside its return window`,
        breakdown: [{ rule: 'REFERRAL_CANCELLED', points: -bonus.row.points, detail: `bonus ${bonus.row.id} taken back` }] });
    }
  },
};
