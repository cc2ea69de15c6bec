import { formatMinorUnits } from '../../common/decimal';
import { encodeTransactionId } from '../../common/ids';
import type { TransactionRow } from './ledger.store';
import { BonusAction, Transaction, TransactionType } from './ledger.types';

/** A stored transaction as the API shows it: ids encoded with the member, money in the currency's units. */
export function toTransaction(row: TransactionRow, currency: { code: string; exponent: number }): Transaction {
  return {
    id: encodeTransactionId(row.member_id, row.id),
    type: row.type as TransactionType,
    points: row.points,
    memberId: row.member_id,
    partnerId: row.partner_id,
    amount: row.amount_minor === null ? null : { amount: formatMinorUnits(BigInt(row.amount_minor), currency.exponent), currency: currency.code },
    reversesId: row.reverses_id ? encodeTransactionId(row.member_id, row.reverses_id) : null,
    bonusAction: row.bonus_action as BonusAction | null,
    description: row.description,
    breakdown: row.breakdown,
    occurredAt: row.occurred_at,
    postedAt: row.posted_at,
  };
}
