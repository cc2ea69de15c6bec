import { formatMinorUnits } from '../../common/decimal';
import { encodeTransactionId, uuidv7 } from '../../common/ids';
import type { CommissionRow, DonationRow, OutboxRow, TransactionRow } from '../ledger/ledger.store';
import { tierChangedEvent } from '../earning/tier.events';

/**
 * `transaction.posted` for each transaction a posting writes (every type: purchase, redemption,
 * bonus, referral, reversal, donation, expiry), in the posting's own write. The operator receives
 * all; the partner a transaction is for receives its own with the same payload (its member, its
 * amounts; nothing of other partners); transactions of no partner (referral bonuses, automatic
 * donations, expiry) go to the operator only. Money as decimal strings in the coalition currency.
 */
export function transactionPostedEvents(written: TransactionRow[], currency: { code: string; exponent: number }): OutboxRow[] {
  return written.map((t) => {
    const data = {
      transactionId: encodeTransactionId(t.member_id, t.id), memberId: t.member_id, type: t.type, points: t.points, partnerId: t.partner_id,
      amount: t.amount_minor === null ? null : { amount: formatMinorUnits(BigInt(t.amount_minor), currency.exponent), currency: currency.code },
      reversesId: t.reverses_id ? encodeTransactionId(t.member_id, t.reverses_id) : null,
      occurredAt: t.occurred_at.toISOString(), postedAt: t.posted_at.toISOString(),
    };
    return {
      member_id: t.member_id, id: uuidv7(t.posted_at.getTime()), type: 'transaction.posted', occurred_at: t.posted_at,
      partner_ids: t.partner_id ? [t.partner_id] : [], affiliate_ids: [], data: JSON.stringify(data),
      views: JSON.stringify(t.partner_id ? { [`partner:${t.partner_id}`]: data } : {}),
    };
  });
}

/**
 * The other events a posting writes with its rows: `donation.made` (the operator only: a member's
 * donations are private to it and the operator), `commission.created` / `commission.reversed` (the
 * commission's partner, with the member's id, and its affiliate, with no member identifier at all),
 * and `tier.changed` (the operator, and every partner linked to the member — the partner whose
 * posting changed it among them — each with the same payload: the member's id and the two tiers).
 */
export function postingEffectEvents(effects: {
  now: Date;
  commissions: CommissionRow[];
  changedCommissions: CommissionRow[];
  donations: DonationRow[];
  /** `partnerIds`: the partners linked to the member. */
  tierChanges: { memberId: string; from: string | null; to: string | null; partnerIds: string[] }[];
  actingPartnerId: string | null;
}, currency: { code: string; exponent: number }): OutboxRow[] {
  const money = (minor: string) => ({ amount: formatMinorUnits(BigInt(minor), currency.exponent), currency: currency.code });
  const event = (memberId: string, type: string, partnerIds: string[], affiliateIds: string[], data: object, views: Record<string, object>): OutboxRow => ({
    member_id: memberId, id: uuidv7(effects.now.getTime()), type, occurred_at: effects.now, partner_ids: partnerIds, affiliate_ids: affiliateIds,
    data: JSON.stringify(data), views: JSON.stringify(views),
  });
  const out: OutboxRow[] = [];
  for (const d of effects.donations) {
    out.push(event(d.member_id, 'donation.made', [], [], { donationId: d.id, memberId: d.member_id, causeId: d.cause_id, points: d.points,
      value: money(d.value_minor), receiptNumber: d.receipt_number, automatic: d.automatic }, {}));
  }
  const commission = (c: CommissionRow, type: string) => {
    const common = { commissionId: c.id, amount: money(c.amount_minor), status: c.status, approvesAt: c.approves_at.toISOString(), clawbackOf: c.clawback_of,
      settlementRunId: c.settlement_run_id };
    out.push(event(c.member_id, type, [c.partner_id], [c.affiliate_id], { ...common, memberId: c.member_id, partnerId: c.partner_id, affiliateId: c.affiliate_id }, {
      [`partner:${c.partner_id}`]: { ...common, memberId: c.member_id, affiliateId: c.affiliate_id },
      [`affiliate:${c.affiliate_id}`]: { ...common, partnerId: c.partner_id },
    }));
  };
  for (const c of effects.commissions) commission(c, 'commission.created');
  for (const c of effects.changedCommissions) if (c.status === 'REVERSED') commission(c, 'commission.reversed');
  for (const t of effects.tierChanges) {
    const e = tierChangedEvent(t.memberId, t.from, t.to, [...new Set([...t.partnerIds, ...(effects.actingPartnerId ? [effects.actingPartnerId] : [])])], effects.now);
    out.push(event(t.memberId, e.type, e.partnerIds, [], e.data, e.views));
  }
  return out;
}
