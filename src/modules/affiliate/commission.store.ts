import { QueryRunner } from 'typeorm';
import { rows } from '../../db/transaction';
import { COMMISSION_COLUMNS, CommissionRow } from '../ledger/ledger.store';

/** A purchase's commission rows (the first, then any clawbacks), oldest first: what a refund of it changes. */
export async function loadCommissions(q: QueryRunner, memberId: string, purchaseId: string): Promise<CommissionRow[]> {
  return rows<CommissionRow>(q, `SELECT ${COMMISSION_COLUMNS} FROM commission WHERE member_id = $1 AND purchase_id = $2 ORDER BY created_at, id`, [memberId, purchaseId]);
}
