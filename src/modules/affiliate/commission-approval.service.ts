import type { DataSource, QueryRunner } from 'typeorm';
import { inTransaction, rows } from '../../db/transaction';
import { loadCoalition } from '../coalition/coalition.loader';
import { recordEvents } from '../webhook/webhook.store';
import { commissionEvent } from './commission.events';

/** Commissions approved in one transaction of the job. */
const APPROVAL_BATCH = 500;

/** The columns a commission event needs, as text where PostgreSQL has bigints. */
const EVENT_COLUMNS = 'c.member_id, c.id, c.partner_id, c.affiliate_id, c.amount_minor::text AS amount_minor, c.status, c.approves_at, c.clawback_of, c.settlement_run_id';

interface ApprovedRow {
  member_id: string;
  id: string;
  partner_id: string;
  affiliate_id: string;
  amount_minor: string;
  status: string;
  approves_at: Date;
  clawback_of: string | null;
  settlement_run_id: string | null;
}

/**
 * The commission approval job (docs/rules.md, Affiliates and commissions; Events and webhooks): every
 * commission still stored PENDING whose hold ended at or before `now` (UTC) becomes APPROVED, with its
 * `commission.approved` event in the same transaction. Readers already see APPROVED from the end of
 * the hold (the status is a matter of time); this makes the change a stored fact that can carry an
 * event. Safe on several instances: each batch locks its commissions and their members with
 * FOR UPDATE SKIP LOCKED, so two jobs never take the same row, and a member in the middle of a posting
 * (a refund deciding between reduction and clawback) is left for the next run. Returns how many
 * commissions it approved.
 */
export async function approveDueCommissions(db: DataSource, now: Date): Promise<number> {
  let currency: { code: string; exponent: number } | undefined;
  let approved = 0;
  for (;;) {
    const outcome = await inTransaction(db, async (q) => {
      const found = await rows<ApprovedRow>(q, `WITH due AS (
          SELECT c.member_id, c.id FROM commission c JOIN member m ON m.id = c.member_id
          WHERE c.status = 'PENDING' AND c.settlement_run_id IS NULL AND c.approves_at <= $1
          ORDER BY c.approves_at LIMIT ${APPROVAL_BATCH} FOR UPDATE OF m, c SKIP LOCKED)
        UPDATE commission c SET status = 'APPROVED' FROM due WHERE c.member_id = due.member_id AND c.id = due.id
        RETURNING ${EVENT_COLUMNS}`, [now]);
      if (found.length) {
        if (!currency) {
          const coalition = await loadCoalition(db);
          currency = { code: coalition.currency, exponent: coalition.currencyExponent };
        }
        await recordApprovals(q, found, currency);
      }
      return { ok: true as const, value: found.length };
    });
    const n = outcome.ok ? outcome.value : 0;
    approved += n;
    if (n < APPROVAL_BATCH) return approved;
  }
}

/**
 * In a settlement close: marks APPROVED (with their events) the commissions the run is about to pay
 * that the job has not reached yet — hold ended before `end` — so that every paid commission was
 * first approved, in that order, for every receiver. Waits for row locks (the close must pay them all).
 */
export async function approveBeforePayment(q: QueryRunner, end: Date, currency: { code: string; exponent: number }): Promise<number> {
  const found = await rows<ApprovedRow>(q, `UPDATE commission c SET status = 'APPROVED'
      WHERE c.status = 'PENDING' AND c.settlement_run_id IS NULL AND c.approves_at < $1 AND c.created_at < $1
      RETURNING ${EVENT_COLUMNS}`, [end]);
  await recordApprovals(q, found, currency);
  return found.length;
}

/** `commission.approved` at the end of each hold (when the approval happened by the rules, whenever the job ran). */
async function recordApprovals(q: QueryRunner, found: ApprovedRow[], currency: { code: string; exponent: number }): Promise<void> {
  await recordEvents(q, found.map((c) => commissionEvent('commission.approved', c, currency, c.approves_at)));
}
