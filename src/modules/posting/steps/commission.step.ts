import { uuidv7 } from '../../../common/ids';
import { approvesAt, commissionFor, commissionRefund, CommissionStatus } from '../../affiliate/commission.rules';
import { TransactionType } from '../../ledger/ledger.types';
import type { PostingStep } from '../posting-step';

/**
 * Affiliate commissions (docs/rules.md, Affiliates and commissions). On a purchase: for the affiliate
 * named on it, else the member's sticky one, commissionFor under the partner's plan now, as a
 * PENDING row (bigint minor units) that approves after the plan's hold. On a refund of
 * `refundedMinor` in all: the commission's pro-rata share — before approval by changing it
 * (REVERSED at a full refund), after approval or payment by a negative clawback row. Needs: visit
 * counts for FIXED_FIRST_PURCHASE plans. Never fails; writes nothing on a quote.
 */
export const commissionStep: PostingStep = {
  name: 'commission',
  need(r, needs, view) {
    if (r.kind === TransactionType.PURCHASE && view.terms.partners.get(r.partnerId!)?.commission_plan?.type === 'FIXED_FIRST_PURCHASE') needs.counts(r.memberId, r.partnerId!);
  },
  purchased(s, { request: r, member, partner, row, firstVisit }) {
    const plan = partner.commission_plan;
    const affiliateId = r.affiliateId ?? member.row.affiliate_id;
    if (!plan || !affiliateId || s.options.dryRun) return;
    const attributedAt = r.affiliateId ? r.occurredAt : member.row.affiliate_attributed_at ?? r.occurredAt;
    const amount = commissionFor({ plan, purchaseAmountMinor: r.amountMinor, currencyExponent: s.terms.coalition.currencyExponent,
      firstPurchaseAtPartner: firstVisit, attributedAt, occurredAt: r.occurredAt });
    if (amount === 0n) return;
    s.effects.commissions.push({
      member_id: r.memberId, id: uuidv7(s.now.getTime()), purchase_id: row.id, partner_id: partner.id, affiliate_id: affiliateId, plan,
      purchase_amount_minor: r.amountMinor.toString(), base_amount_minor: amount.toString(), amount_minor: amount.toString(), status: CommissionStatus.PENDING, clawback_of: null,
      occurred_at: r.occurredAt, approves_at: approvesAt(plan, r.occurredAt, s.now), created_at: s.now, settlement_run_id: null,
    });
  },
  refunded(s, { original, refundedMinor }) {
    const [first, ...clawbacks] = original.commissions;
    if (!first) return;
    const change = commissionRefund({
      baseMinor: BigInt(first.base_amount_minor), purchaseAmountMinor: BigInt(first.purchase_amount_minor),
      amountsMinor: [first, ...clawbacks].map((c) => BigInt(c.amount_minor)), reversed: first.status === CommissionStatus.REVERSED,
      approved: first.settlement_run_id !== null || first.approves_at.getTime() <= s.now.getTime(),
    }, refundedMinor);
    // A full refund before approval reverses it, keeping the amount that was reversed.
    if (change.kind === 'reverse') s.effects.changedCommissions.push({ ...first, status: CommissionStatus.REVERSED });
    if (change.kind === 'reduce') s.effects.changedCommissions.push({ ...first, amount_minor: change.amountMinor.toString() });
    if (change.kind === 'clawback') {
      s.effects.commissions.push({ ...first, id: uuidv7(s.now.getTime()), amount_minor: change.amountMinor.toString(), status: CommissionStatus.PENDING,
        clawback_of: first.id, approves_at: s.now, created_at: s.now, settlement_run_id: null });
    }
  },
};
