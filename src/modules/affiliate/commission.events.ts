import { formatMinorUnits } from '../../common/decimal';
import type { CommissionRow } from '../ledger/ledger.store';
import type { NewEvent } from '../webhook/webhook.store';

/** The commission events written outside a posting: the hold ended (approved) or a settlement run paid it. */
export type CommissionChange = 'commission.approved' | 'commission.paid';

/**
 * `commission.approved` / `commission.paid` for one commission, with the same payload as
 * `commission.created`: the operator sees everything; the partner that owes it sees the member's id
 * and the affiliate; the affiliate sees the partner and never a member identifier (docs/rules.md,
 * Events and webhooks). Money as decimal strings in the coalition currency. `status` is the stored
 * status after the change (APPROVED or PAID); `settlementRunId` names the run that paid it (or null).
 * `at` (UTC) is when the change happened: the end of the hold for an approval, the close for a payment.
 */
export function commissionEvent(type: CommissionChange, c: Pick<CommissionRow, 'member_id' | 'id' | 'partner_id' | 'affiliate_id' | 'amount_minor' | 'status'
  | 'approves_at' | 'clawback_of' | 'settlement_run_id'>, currency: { code: string; exponent: number }, at: Date): NewEvent {
  const common = {
    commissionId: c.id, amount: { amount: formatMinorUnits(BigInt(c.amount_minor), currency.exponent), currency: currency.code }, status: c.status,
    approvesAt: c.approves_at.toISOString(), clawbackOf: c.clawback_of, settlementRunId: c.settlement_run_id,
  };
  return {
    memberId: c.member_id, type, occurredAt: at, partnerIds: [c.partner_id], affiliateIds: [c.affiliate_id],
    data: { ...common, memberId: c.member_id, partnerId: c.partner_id, affiliateId: c.affiliate_id },
    views: {
      [`partner:${c.partner_id}`]: { ...common, memberId: c.member_id, affiliateId: c.affiliate_id },
      [`affiliate:${c.affiliate_id}`]: { ...common, partnerId: c.partner_id },
    },
  };
}
