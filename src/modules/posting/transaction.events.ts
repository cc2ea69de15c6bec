import { formatMinorUnits } from '../../common/decimal';
import { encodeTransactionId, uuidv7 } from '../../common/ids';
import type { OutboxRow, TransactionRow } from '../ledger/ledger.store';

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
