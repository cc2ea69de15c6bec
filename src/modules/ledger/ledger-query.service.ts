import { DataSource } from 'typeorm';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { Connection, DEFAULT_PAGE_SIZE, PageArgs, decodeCursor, toConnection } from '../../common/pagination';
import { rows } from '../../db/transaction';
import { getCoalition } from '../coalition/coalition.service';
import { TRANSACTION_COLUMNS, TransactionRow } from './ledger.store';
import { toTransaction } from './ledger.view';
import { Transaction } from './ledger.types';
import { partnerListScope } from '../partner/partner-scope';

/**
 * A member's transactions, newest first. The member and the operator see all of them; a partner
 * sees only those it posted, not where else the member shops.
 */
export async function memberTransactions(ctx: RequestContext, memberId: string, page: PageArgs): Promise<Connection<Transaction>> {
  const caller = ctx.caller!;
  const params: unknown[] = [memberId];
  let scope = '';
  if (caller.role === Role.PARTNER) {
    params.push(caller.partnerId);
    scope = `AND partner_id = $${params.length}`;
  }
  return pageOfTransactions(ctx, `member_id = $1 ${scope}`, params, page);
}

/** The transactions a partner posted, across its members, newest first. */
export async function partnerTransactions(ctx: RequestContext, partnerId: string, page: PageArgs): Promise<Connection<Transaction>> {
  return pageOfTransactions(ctx, 'partner_id = $1 AND ($2::uuid IS NULL OR partner_id = $2)', [partnerId, partnerListScope(ctx)], page);
}

async function pageOfTransactions(ctx: RequestContext, where: string, params: unknown[], page: PageArgs): Promise<Connection<Transaction>> {
  const first = page.first ?? DEFAULT_PAGE_SIZE;
  const coalition = await getCoalition(ctx);
  const currency = { code: coalition.currency, exponent: coalition.currencyExponent };
  const listParams = [...params, first + 1];
  let keyset = '';
  if (page.after) {
    const [id, memberId] = decodeCursor(page.after, ['uuid', 'uuid']);
    listParams.push(id, memberId);
    keyset = `AND (id, member_id) < ($${listParams.length - 1}::uuid, $${listParams.length}::uuid)`;
  }
  const found = await rows<TransactionRow>(ctx.db,
    `SELECT ${TRANSACTION_COLUMNS} FROM ledger_transaction WHERE ${where} ${keyset} ORDER BY id DESC, member_id DESC LIMIT $${params.length + 1}`, listParams);
  return toConnection(found, first, (t) => [t.id, t.member_id], (t) => toTransaction(t, currency), async () => {
    const [count] = await rows<{ n: number }>(ctx.db, `SELECT count(*)::int AS n FROM ledger_transaction WHERE ${where}`, params);
    return count!.n;
  });
}

/**
 * The ledger check (docs/rules.md, The ledger): every transaction sums to zero; each member's balance
 * equals its entries and its lots minus its debt; no lot's remaining is negative or above its
 * points; lot movements agree with lots. Each query is one aggregate, not a scan in Node.
 */
export async function checkLedger(ctx: { db: DataSource }): Promise<string[]> {
  const db = ctx.db;
  const violations: string[] = [];
  const unbalanced = await rows<{ member_id: string; transaction_id: string; total: string }>(db,
    `SELECT member_id, transaction_id, sum(points)::text AS total FROM ledger_entry GROUP BY member_id, transaction_id HAVING sum(points) <> 0 LIMIT 100`);
  for (const u of unbalanced) violations.push(`transaction ${u.transaction_id} of member ${u.member_id} sums to ${u.total}, not 0`);
  const withoutEntries = await rows<{ member_id: string; id: string }>(db,
    `SELECT t.member_id, t.id FROM ledger_transaction t WHERE NOT EXISTS (SELECT 1 FROM ledger_entry e WHERE e.member_id = t.member_id AND e.transaction_id = t.id) LIMIT 100`);
  for (const t of withoutEntries) violations.push(`transaction ${t.id} of member ${t.member_id} has no entries`);
  const pointsMismatch = await rows<{ member_id: string; id: string }>(db,
    `SELECT t.member_id, t.id FROM ledger_transaction t JOIN ledger_entry e ON e.member_id = t.member_id AND e.transaction_id = t.id AND e.account_type = 'MEMBER'
     GROUP BY t.member_id, t.id, t.points HAVING sum(e.points) <> t.points LIMIT 100`);
  for (const t of pointsMismatch) violations.push(`transaction ${t.id} of member ${t.member_id}: its points differ from its member entries`);
  const balances = await rows<{ id: string; balance: string; entries: string; lots: string; debt: string; debts: string }>(db,
    `SELECT m.id, m.balance::text, m.debt::text,
            COALESCE(e.total, 0)::text AS entries, COALESCE(l.total, 0)::text AS lots, COALESCE(d.total, 0)::text AS debts
     FROM member m
     LEFT JOIN (SELECT member_id, sum(points) AS total FROM ledger_entry WHERE account_type = 'MEMBER' GROUP BY member_id) e ON e.member_id = m.id
     LEFT JOIN (SELECT member_id, sum(remaining) AS total FROM lot GROUP BY member_id) l ON l.member_id = m.id
     LEFT JOIN (SELECT member_id, sum(remaining) AS total FROM member_debt GROUP BY member_id) d ON d.member_id = m.id
     WHERE m.balance <> COALESCE(e.total, 0) OR m.balance <> COALESCE(l.total, 0) - m.debt OR m.debt <> COALESCE(d.total, 0)
     LIMIT 100`);
  for (const b of balances) {
    violations.push(`member ${b.id}: balance ${b.balance}, entries ${b.entries}, lots ${b.lots} − debt ${b.debt} (open debts ${b.debts})`);
  }
  const lots = await rows<{ member_id: string; id: string; points: number; remaining: number; moved: string }>(db,
    `SELECT l.member_id, l.id, l.points, l.remaining, COALESCE(mv.total, 0)::text AS moved FROM lot l
     LEFT JOIN (SELECT member_id, lot_id, sum(points) AS total FROM lot_movement GROUP BY member_id, lot_id) mv ON mv.member_id = l.member_id AND mv.lot_id = l.id
     WHERE l.remaining < 0 OR l.remaining > l.points OR l.remaining <> l.points + COALESCE(mv.total, 0) LIMIT 100`);
  for (const l of lots) violations.push(`lot ${l.id} of member ${l.member_id}: ${l.remaining} remaining of ${l.points}, movements ${l.moved}`);
  // Settlement runs conserve money: positions sum to zero, equal each party's lines, and the transfers settle them.
  const runs = await rows<{ run_id: string; problem: string }>(db, `
    WITH by_lines AS (
      SELECT run_id, party_type, party_id, sum(amount) AS amount FROM (
        SELECT run_id, payee_type AS party_type, payee_id AS party_id, amount_minor AS amount FROM settlement_line
        UNION ALL SELECT run_id, payer_type, payer_id, -amount_minor FROM settlement_line) x GROUP BY 1, 2, 3),
    by_transfers AS (
      SELECT run_id, party_type, party_id, sum(amount) AS amount FROM (
        SELECT run_id, to_type AS party_type, to_id AS party_id, amount_minor AS amount FROM settlement_transfer
        UNION ALL SELECT run_id, from_type, from_id, -amount_minor FROM settlement_transfer) x GROUP BY 1, 2, 3),
    positions AS (SELECT run_id, party_type, party_id, sum(amount_minor) AS amount FROM settlement_position GROUP BY 1, 2, 3)
    SELECT run_id, 'positions do not sum to zero' AS problem FROM settlement_position GROUP BY run_id HAVING sum(amount_minor) <> 0
    UNION ALL
    SELECT COALESCE(p.run_id, l.run_id), 'a position differs from its lines' FROM positions p
      FULL JOIN by_lines l ON l.run_id = p.run_id AND l.party_type = p.party_type AND l.party_id IS NOT DISTINCT FROM p.party_id
      WHERE COALESCE(p.amount, 0) <> COALESCE(l.amount, 0)
    UNION ALL
    SELECT COALESCE(p.run_id, t.run_id), 'the transfers do not settle a position' FROM positions p
      FULL JOIN by_transfers t ON t.run_id = p.run_id AND t.party_type = p.party_type AND t.party_id IS NOT DISTINCT FROM p.party_id
      WHERE COALESCE(p.amount, 0) <> COALESCE(t.amount, 0)
    LIMIT 100`);
  for (const r of runs) violations.push(`settlement run ${r.run_id}: ${r.problem}`);
  return violations;
}

/** At most this many pending lots are listed (earliest availability first); pendingPoints always counts them all. */
export const MAX_PENDING_LOTS = 500;

/**
 * A member's lots still pending now (docs/rules.md, Lots), earliest availableAt first: what is left
 * of each (points) and when it becomes available (UTC). Read over IDX_lot_pending against the
 * reading instant. The operator and the member itself see every pending lot; a partner only the lots
 * it issued (another partner's pending lot would tell of a purchase there), so for a partner the list
 * may sum to less than pendingPoints, which stays the member's total as balance does.
 */
export async function pendingLots(ctx: RequestContext, memberId: string): Promise<{ points: number; availableAt: Date }[]> {
  const caller = ctx.caller;
  const issuer = caller?.role === Role.PARTNER ? caller.partnerId : null;
  const found = await rows<{ points: number; available_at: Date }>(ctx.db,
    `SELECT remaining AS points, available_at FROM lot WHERE member_id = $1 AND remaining > 0 AND available_at IS NOT NULL AND available_at > now()
       AND ($2::uuid IS NULL OR (issuer_type = 'PARTNER' AND issuer_id = $2))
     ORDER BY available_at, id LIMIT ${MAX_PENDING_LOTS}`, [memberId, issuer]);
  return found.map((r) => ({ points: r.points, availableAt: r.available_at }));
}
