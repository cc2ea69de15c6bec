import { QueryRunner } from 'typeorm';
import type { CommissionPlan } from '../partner/partner.types';
import { preparedRows, rows } from '../../db/transaction';
import { MEMBER_STORED_COLUMNS, MemberRow } from '../member/member.row';
import { BreakdownLine } from './ledger.types';
import { Changes, DebtState, LotState, ObligationRow } from './ledger.rules';

/**
 * The ledger's SQL: loading one batch's state under the member locks, and writing everything a
 * batch posted in one statement. Every table here is keyed by member first.
 */

export interface TransactionRow {
  member_id: string;
  id: string;
  type: string;
  partner_id: string | null;
  caller: string;
  idempotency_key: string;
  request_hash: string;
  points: number;
  amount_minor: string | null;
  reverses_id: string | null;
  bonus_action: string | null;
  description: string | null;
  breakdown: BreakdownLine[];
  occurred_at: Date;
  posted_at: Date;
}

export const TRANSACTION_COLUMNS = 'member_id, id, type, partner_id, caller, idempotency_key, request_hash, points, amount_minor, reverses_id, bonus_action, description, breakdown, occurred_at, posted_at';

export type LockedMember = MemberRow & { linked: boolean; earlier: TransactionRow[] };

/** A transaction row as json_agg returns it: timestamps as strings, bigints as numbers. */
function fromJson(row: Record<string, unknown>): TransactionRow {
  return {
    ...(row as unknown as TransactionRow),
    amount_minor: row.amount_minor === null ? null : String(row.amount_minor),
    occurred_at: new Date(row.occurred_at as string),
    posted_at: new Date(row.posted_at as string),
  };
}

/**
 * Locks the members (in id order, so concurrent batches cannot deadlock), says which the partner
 * is linked to, and brings the caller's earlier transactions under the given idempotency keys,
 * all in one round trip. A same-key transaction committed while this statement waited for a lock
 * is not in its snapshot: its insert then hits the unique constraint and the caller retries
 * (`isIdempotencyRace`), finding it.
 */
export async function lockMembers(q: QueryRunner, memberIds: string[], partnerId: string | null, caller: string, keys: { memberId: string; key: string }[],
  skipLocked = false): Promise<Map<string, LockedMember>> {
  // The keys are probed once, each with all three columns of the unique index (member, caller, key),
  // and grouped by member: not once per locked member over all the batch's keys (members × keys).
  const found = await preparedRows<Omit<LockedMember, 'earlier'> & { earlier: Record<string, unknown>[] | null }>(q,
    `SELECT ${MEMBER_STORED_COLUMNS},
            ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM member_partner_link l WHERE l.member_id = m.id AND l.partner_id = $2)) AS linked,
            e.earlier
     FROM member m
     LEFT JOIN (SELECT x.member_id, json_agg(x) AS earlier
                FROM (SELECT ${TRANSACTION_COLUMNS.split(', ').map((c) => `t.${c.trim()}`).join(', ')}
                      FROM unnest($4::uuid[], $5::text[]) AS k(m, key)
                      JOIN ledger_transaction t ON t.member_id = k.m AND t.caller = $3 AND t.idempotency_key = k.key) x
                GROUP BY x.member_id) e ON e.member_id = m.id
     WHERE m.id = ANY($1::uuid[]) ORDER BY m.id FOR UPDATE OF m${skipLocked ? ' SKIP LOCKED' : ''}`,
    [memberIds, partnerId, caller, keys.map((k) => k.memberId), keys.map((k) => k.key)]);
  return new Map(found.map((m) => [m.id, { ...m, earlier: (m.earlier ?? []).map(fromJson) }]));
}

export const IDEMPOTENCY_CONSTRAINT = 'UQ_ledger_transaction_idempotency';

/** The caller's transactions under these (member, key) pairs, read now. */
export async function findByKeys(q: QueryRunner, caller: string, pairs: { memberId: string; key: string }[]): Promise<Map<string, TransactionRow>> {
  const found = await rows<TransactionRow>(q,
    `SELECT ${TRANSACTION_COLUMNS} FROM ledger_transaction
     WHERE (member_id, caller, idempotency_key) IN (SELECT m, $1, k FROM unnest($2::uuid[], $3::text[]) AS x(m, k))`,
    [caller, pairs.map((p) => p.memberId), pairs.map((p) => p.key)]);
  return new Map(found.map((t) => [`${t.member_id}|${t.idempotency_key}`, t]));
}

export async function findTransaction(q: QueryRunner, memberId: string, id: string): Promise<TransactionRow | undefined> {
  const [found] = await rows<TransactionRow>(q, `SELECT ${TRANSACTION_COLUMNS} FROM ledger_transaction WHERE member_id = $1 AND id = $2`, [memberId, id]);
  return found;
}

/** What earlier reversals of a transaction already refunded and took back. */
export async function reversalTotals(q: QueryRunner, memberId: string, id: string): Promise<{ count: number; refundedMinor: bigint; points: number }> {
  const [totals] = await rows<{ count: number; refunded: string; points: string }>(q,
    `SELECT count(*)::int AS count, COALESCE(sum(amount_minor), 0)::text AS refunded, COALESCE(sum(points), 0)::text AS points
     FROM ledger_transaction WHERE member_id = $1 AND reverses_id = $2`, [memberId, id]);
  return { count: totals!.count, refundedMinor: BigInt(totals!.refunded), points: Number(totals!.points) };
}

interface LotDbRow {
  member_id: string;
  id: string;
  transaction_id: string;
  issuer_id: string | null;
  points: number;
  remaining: number;
  expires_at: Date;
  available_at: Date | null;
  created_at: Date;
}

/** Open lots of these members, plus the lots named in `alsoIds` even when empty. */
export async function loadLots(q: QueryRunner, memberIds: string[], alsoIds: string[] = []): Promise<Map<string, LotState[]>> {
  const found = await rows<LotDbRow>(q,
    `SELECT member_id, id, transaction_id, issuer_id, points, remaining, expires_at, available_at, created_at FROM lot
     WHERE member_id = ANY($1::uuid[]) AND (remaining > 0 OR id = ANY($2::uuid[]))`, [memberIds, alsoIds]);
  const byMember = new Map<string, LotState[]>();
  for (const r of found) {
    const list = byMember.get(r.member_id) ?? [];
    list.push({ id: r.id, transactionId: r.transaction_id, issuer: { partnerId: r.issuer_id }, points: r.points, remaining: r.remaining,
      expiresAt: r.expires_at, createdAt: r.created_at, availableAt: r.available_at, isNew: false, dirty: false });
    byMember.set(r.member_id, list);
  }
  return byMember;
}

/**
 * A transaction's own lot (the one its credit created), with the points of it the expiry job moved to
 * breakage, net of those given back by refunds since (EXPIRY movements on it, sign flipped), when
 * its points become available (null: at creation), and the issuance price per point the transaction
 * paid the operator for it (its ISSUANCE obligation; null when it paid none: operator-issued, or
 * posted under BILATERAL).
 */
export async function loadOwnLot(q: QueryRunner, memberId: string, transactionId: string)
  : Promise<{ id: string; swept: number; availableAt: Date | null; issuanceRate: string | null } | undefined> {
  const [found] = await rows<{ id: string; swept: number; availableAt: Date | null; issuance_rate: string | null }>(q,
    `SELECT l.id, l.available_at AS "availableAt", COALESCE(-(SELECT sum(mv.points) FROM lot_movement mv JOIN ledger_transaction t ON t.member_id = mv.member_id AND t.id = mv.transaction_id
       WHERE mv.member_id = l.member_id AND mv.lot_id = l.id AND t.type = 'EXPIRY'), 0)::int AS swept,
       (SELECT o.rate::text FROM obligation o WHERE o.member_id = l.member_id AND o.transaction_id = l.transaction_id AND o.kind = 'ISSUANCE' AND o.points > 0
        LIMIT 1) AS issuance_rate
     FROM lot l WHERE l.member_id = $1 AND l.transaction_id = $2`, [memberId, transactionId]);
  return found && { id: found.id, swept: found.swept, availableAt: found.availableAt, issuanceRate: found.issuance_rate };
}

/**
 * Points of these members' lots past expiry at `at` that the expiry job has not moved yet, and of
 * their lots still pending at `at` (docs/rules.md, Lots): part of the stored balance, not of what
 * the member can spend. One index range per member and kind (IDX_lot_open, IDX_lot_pending), both
 * normally empty; members with neither are absent.
 */
export async function loadExpiredPoints(q: QueryRunner, memberIds: string[], at: Date): Promise<Map<string, { expired: number; pending: number }>> {
  const found = await rows<{ member_id: string; expired: string | null; pending: string | null }>(q,
    `SELECT member_id, sum(remaining) FILTER (WHERE expires_at <= $2)::text AS expired, sum(remaining) FILTER (WHERE expires_at > $2 AND available_at > $2)::text AS pending
     FROM lot WHERE member_id = ANY($1::uuid[]) AND remaining > 0 AND (expires_at <= $2 OR (available_at IS NOT NULL AND available_at > $2)) GROUP BY member_id`,
    [memberIds, at.toISOString()]);
  return new Map(found.map((r) => [r.member_id, { expired: Number(r.expired ?? 0), pending: Number(r.pending ?? 0) }]));
}

export async function loadOpenDebts(q: QueryRunner, memberIds: string[]): Promise<Map<string, DebtState[]>> {
  const byMember = new Map<string, DebtState[]>();
  if (!memberIds.length) return byMember;
  const found = await rows<{ member_id: string; id: string; transaction_id: string; creditor_partner_id: string | null; points: number; remaining: number; created_at: Date }>(q,
    `SELECT member_id, id, transaction_id, creditor_partner_id, points, remaining, created_at FROM member_debt
     WHERE member_id = ANY($1::uuid[]) AND remaining > 0`, [memberIds]);
  for (const r of found) {
    const list = byMember.get(r.member_id) ?? [];
    list.push({ id: r.id, transactionId: r.transaction_id, creditorPartnerId: r.creditor_partner_id, points: r.points, remaining: r.remaining,
      createdAt: r.created_at, isNew: false, dirty: false });
    byMember.set(r.member_id, list);
  }
  return byMember;
}

/** The lot movements and obligations a transaction made (to reverse a redemption). */
export async function loadConsumption(q: QueryRunner, memberId: string, transactionId: string): Promise<{ movements: { lotId: string; points: number }[]; obligations: ObligationRow[] }> {
  const movements = await rows<{ lot_id: string; points: number }>(q,
    'SELECT lot_id, points FROM lot_movement WHERE member_id = $1 AND transaction_id = $2 ORDER BY lot_id', [memberId, transactionId]);
  const obligations = await rows<{ kind: string; payer_type: string; payer_id: string | null; payee_type: string; payee_id: string | null; points: number; rate: string }>(q,
    'SELECT kind, payer_type, payer_id, payee_type, payee_id, points, rate FROM obligation WHERE member_id = $1 AND transaction_id = $2', [memberId, transactionId]);
  return {
    movements: movements.map((m) => ({ lotId: m.lot_id, points: m.points })),
    obligations: obligations.map((o) => ({ memberId, transactionId, kind: o.kind, payerType: o.payer_type, payerId: o.payer_id, payeeType: o.payee_type,
      payeeId: o.payee_id, points: o.points, rate: o.rate }) as ObligationRow),
  };
}

/** A commission row as the posting path reads and writes it. */
export interface CommissionRow {
  member_id: string;
  id: string;
  purchase_id: string;
  partner_id: string;
  affiliate_id: string;
  plan: CommissionPlan;
  purchase_amount_minor: string;
  /** The commission as first computed: refunds reduce it pro rata from this. */
  base_amount_minor: string;
  amount_minor: string;
  status: string;
  clawback_of: string | null;
  occurred_at: Date;
  approves_at: Date;
  created_at: Date;
  settlement_run_id: string | null;
}

export const COMMISSION_COLUMNS = `member_id, id, purchase_id, partner_id, affiliate_id, plan, purchase_amount_minor, base_amount_minor, amount_minor, status, clawback_of,
  occurred_at, approves_at, created_at, settlement_run_id`;

/** Everything one batch posts. */
export interface Posting {
  transactions: TransactionRow[];
  changes: Changes;
  lots: LotState[];
  lotOwner: Map<LotState, string>;
  debts: { memberId: string; debt: DebtState }[];
  members: MemberUpdate[];
  commissions: CommissionRow[];
  /** Existing commission rows whose amount or status changed (a refund before approval). */
  changedCommissions: CommissionRow[];
  donations: DonationRow[];
  /** Matching campaigns whose matched points grew. */
  campaigns: { id: string; matchedPoints: number }[];
  /** Outbox events of the batch (webhooks), written in the same statement as the rest. */
  events?: OutboxRow[];
}

/**
 * An outbox event as the posting writes it (table `event`, keyed by member first, and its
 * `event_pending` mark): `data` is the operator's payload, `views` one payload per other receiver
 * (`partner:<id>`, `affiliate:<id>`), both JSON text.
 */
export interface OutboxRow {
  member_id: string;
  id: string;
  type: string;
  occurred_at: Date;
  partner_ids: string[];
  affiliate_ids: string[];
  data: string;
  views: string;
}

export interface DonationRow {
  member_id: string;
  id: string;
  transaction_id: string;
  cause_id: string;
  points: number;
  value_minor: string;
  matched_points: number;
  matched_value_minor: string;
  receipt_number: string;
  automatic: boolean;
  created_at: Date;
}

export interface CampaignRow {
  id: string;
  partner_id: string;
  cause_id: string;
  ratio: string;
  cap_points: number;
  matched_points: number;
}

export interface MemberUpdate {
  id: string;
  balance: number;
  debt: number;
  tier: string | null;
  successfulReferrals: number;
  referralRewardedAt: Date | null;
}

/**
 * Writes a batch in one statement: each table's rows travel as arrays (unnest), so a batch of a
 * thousand purchases costs one round trip, like a batch of one.
 */
export async function writePosting(q: QueryRunner, posting: Posting, postedAt: Date): Promise<void> {
  const params: unknown[] = [];
  const arrays = (...columns: unknown[][]) => columns.map((c) => { params.push(c); return `$${params.length}`; });
  const parts: string[] = [];
  const { transactions: txs, changes } = posting;
  if (txs.length) {
    const p = arrays(txs.map((t) => t.member_id), txs.map((t) => t.id), txs.map((t) => t.type), txs.map((t) => t.partner_id), txs.map((t) => t.caller),
      txs.map((t) => t.idempotency_key), txs.map((t) => t.request_hash), txs.map((t) => t.points), txs.map((t) => t.amount_minor),
      txs.map((t) => t.reverses_id), txs.map((t) => t.bonus_action), txs.map((t) => t.description), txs.map((t) => JSON.stringify(t.breakdown)),
      txs.map((t) => t.occurred_at.toISOString()), txs.map((t) => t.posted_at.toISOString()));
    parts.push(`t AS (INSERT INTO ledger_transaction (${TRANSACTION_COLUMNS})
      SELECT a, b, c, d, e, f, g, h, i, j, k, l, m::jsonb, n, o FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::text[], ${p[3]}::uuid[], ${p[4]}::text[],
        ${p[5]}::text[], ${p[6]}::text[], ${p[7]}::int[], ${p[8]}::bigint[], ${p[9]}::uuid[], ${p[10]}::text[], ${p[11]}::text[], ${p[12]}::text[],
        ${p[13]}::timestamptz[], ${p[14]}::timestamptz[]) AS x(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o))`);
  }
  const es = changes.entries;
  if (es.length) {
    const p = arrays(es.map((e) => e.memberId), es.map((e) => e.transactionId), es.map((e) => e.seq), es.map((e) => e.accountType), es.map((e) => e.accountId), es.map((e) => e.points));
    params.push(postedAt.toISOString());
    parts.push(`e AS (INSERT INTO ledger_entry (member_id, transaction_id, seq, account_type, account_id, points, posted_at)
      SELECT *, $${params.length}::timestamptz FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::smallint[], ${p[3]}::text[], ${p[4]}::uuid[], ${p[5]}::bigint[]))`);
  }
  const newLots = posting.lots.filter((l) => l.isNew);
  if (newLots.length) {
    const p = arrays(newLots.map((l) => posting.lotOwner.get(l)), newLots.map((l) => l.id), newLots.map((l) => l.transactionId),
      newLots.map((l) => (l.issuer.partnerId ? 'PARTNER' : 'OPERATOR')), newLots.map((l) => l.issuer.partnerId), newLots.map((l) => l.points),
      newLots.map((l) => l.remaining), newLots.map((l) => l.expiresAt.toISOString()), newLots.map((l) => l.createdAt.toISOString()),
      newLots.map((l) => l.availableAt?.toISOString() ?? null));
    parts.push(`nl AS (INSERT INTO lot (member_id, id, transaction_id, issuer_type, issuer_id, points, remaining, expires_at, created_at, available_at)
      SELECT * FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::uuid[], ${p[3]}::text[], ${p[4]}::uuid[], ${p[5]}::int[], ${p[6]}::int[],
        ${p[7]}::timestamptz[], ${p[8]}::timestamptz[], ${p[9]}::timestamptz[]))`);
  }
  const changedLots = posting.lots.filter((l) => !l.isNew && l.dirty);
  if (changedLots.length) {
    const p = arrays(changedLots.map((l) => posting.lotOwner.get(l)), changedLots.map((l) => l.id), changedLots.map((l) => l.remaining));
    parts.push(`ul AS (UPDATE lot SET remaining = v.remaining FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::int[]) AS v(member_id, id, remaining)
      WHERE lot.member_id = v.member_id AND lot.id = v.id)`);
  }
  const ms = changes.movements.filter((m) => m.points !== 0);
  if (ms.length) {
    const p = arrays(ms.map((m) => m.memberId), ms.map((m) => m.transactionId), ms.map((m) => m.lotId), ms.map((m) => m.points));
    parts.push(`lm AS (INSERT INTO lot_movement (member_id, transaction_id, lot_id, points)
      SELECT * FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::uuid[], ${p[3]}::int[]))`);
  }
  const os = changes.obligations;
  if (os.length) {
    const p = arrays(os.map((o) => o.memberId), os.map((o) => o.transactionId), os.map((o) => o.kind), os.map((o) => o.payerType), os.map((o) => o.payerId),
      os.map((o) => o.payeeType), os.map((o) => o.payeeId), os.map((o) => o.points), os.map((o) => o.rate), os.map((o) => o.valueMinor?.toString() ?? null));
    params.push(postedAt.toISOString());
    parts.push(`ob AS (INSERT INTO obligation (member_id, id, transaction_id, kind, payer_type, payer_id, payee_type, payee_id, points, rate, value_minor, posted_at)
      SELECT a, gen_random_uuid(), b, c, d, e, f, g, h, i, j, $${params.length}::timestamptz FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::text[],
        ${p[3]}::text[], ${p[4]}::uuid[], ${p[5]}::text[], ${p[6]}::uuid[], ${p[7]}::int[], ${p[8]}::numeric[], ${p[9]}::bigint[]) AS x(a, b, c, d, e, f, g, h, i, j))`);
  }
  const newDebts = posting.debts.filter((d) => d.debt.isNew);
  if (newDebts.length) {
    const p = arrays(newDebts.map((d) => d.memberId), newDebts.map((d) => d.debt.id), newDebts.map((d) => d.debt.transactionId),
      newDebts.map((d) => d.debt.creditorPartnerId), newDebts.map((d) => d.debt.points), newDebts.map((d) => d.debt.remaining),
      newDebts.map((d) => d.debt.createdAt.toISOString()));
    parts.push(`nd AS (INSERT INTO member_debt (member_id, id, transaction_id, creditor_partner_id, points, remaining, created_at)
      SELECT * FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::uuid[], ${p[3]}::uuid[], ${p[4]}::int[], ${p[5]}::int[], ${p[6]}::timestamptz[]))`);
  }
  const changedDebts = posting.debts.filter((d) => !d.debt.isNew && d.debt.dirty);
  if (changedDebts.length) {
    const p = arrays(changedDebts.map((d) => d.memberId), changedDebts.map((d) => d.debt.id), changedDebts.map((d) => d.debt.remaining));
    parts.push(`ud AS (UPDATE member_debt SET remaining = v.remaining FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::int[]) AS v(member_id, id, remaining)
      WHERE member_debt.member_id = v.member_id AND member_debt.id = v.id)`);
  }
  const members = posting.members;
  if (members.length) {
    const p = arrays(members.map((m) => m.id), members.map((m) => m.balance), members.map((m) => m.debt), members.map((m) => m.tier),
      members.map((m) => m.successfulReferrals), members.map((m) => m.referralRewardedAt?.toISOString() ?? null));
    parts.push(`um AS (UPDATE member SET balance = v.balance, debt = v.debt, tier = v.tier, successful_referrals = v.referrals, referral_rewarded_at = v.rewarded
      FROM unnest(${p[0]}::uuid[], ${p[1]}::bigint[], ${p[2]}::bigint[], ${p[3]}::text[], ${p[4]}::int[], ${p[5]}::timestamptz[]) AS v(id, balance, debt, tier, referrals, rewarded)
      WHERE member.id = v.id)`);
  }
  const cs = posting.commissions;
  if (cs.length) {
    const p = arrays(cs.map((c) => c.member_id), cs.map((c) => c.id), cs.map((c) => c.purchase_id), cs.map((c) => c.partner_id), cs.map((c) => c.affiliate_id),
      cs.map((c) => JSON.stringify(c.plan)), cs.map((c) => c.purchase_amount_minor), cs.map((c) => c.base_amount_minor), cs.map((c) => c.amount_minor),
      cs.map((c) => c.status), cs.map((c) => c.clawback_of), cs.map((c) => c.occurred_at.toISOString()), cs.map((c) => c.approves_at.toISOString()),
      cs.map((c) => c.created_at.toISOString()));
    parts.push(`nc AS (INSERT INTO commission (member_id, id, purchase_id, partner_id, affiliate_id, plan, purchase_amount_minor, base_amount_minor, amount_minor,
        status, clawback_of, occurred_at, approves_at, created_at)
      SELECT a, b, c, d, e, f::jsonb, g, g2, h, i, j, k, l, m FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::uuid[], ${p[3]}::uuid[], ${p[4]}::uuid[],
        ${p[5]}::text[], ${p[6]}::bigint[], ${p[7]}::bigint[], ${p[8]}::bigint[], ${p[9]}::text[], ${p[10]}::uuid[], ${p[11]}::timestamptz[], ${p[12]}::timestamptz[],
        ${p[13]}::timestamptz[]) AS x(a, b, c, d, e, f, g, g2, h, i, j, k, l, m))`);
  }
  const uc = posting.changedCommissions;
  if (uc.length) {
    const p = arrays(uc.map((c) => c.member_id), uc.map((c) => c.id), uc.map((c) => c.amount_minor), uc.map((c) => c.status));
    parts.push(`uc AS (UPDATE commission SET amount_minor = v.amount, status = v.status
      FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::bigint[], ${p[3]}::text[]) AS v(member_id, id, amount, status)
      WHERE commission.member_id = v.member_id AND commission.id = v.id AND commission.settlement_run_id IS NULL)`);
  }
  const ds = posting.donations;
  if (ds.length) {
    const p = arrays(ds.map((d) => d.member_id), ds.map((d) => d.id), ds.map((d) => d.transaction_id), ds.map((d) => d.cause_id), ds.map((d) => d.points),
      ds.map((d) => d.value_minor), ds.map((d) => d.matched_points), ds.map((d) => d.matched_value_minor), ds.map((d) => d.receipt_number),
      ds.map((d) => d.automatic), ds.map((d) => d.created_at.toISOString()));
    parts.push(`nd2 AS (INSERT INTO donation (member_id, id, transaction_id, cause_id, points, value_minor, matched_points, matched_value_minor, receipt_number,
        automatic, created_at)
      SELECT * FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::uuid[], ${p[3]}::uuid[], ${p[4]}::int[], ${p[5]}::bigint[], ${p[6]}::int[],
        ${p[7]}::bigint[], ${p[8]}::text[], ${p[9]}::boolean[], ${p[10]}::timestamptz[]))`);
  }
  const mc = posting.campaigns;
  if (mc.length) {
    const p = arrays(mc.map((c) => c.id), mc.map((c) => c.matchedPoints));
    parts.push(`umc AS (UPDATE matching_campaign SET matched_points = v.matched FROM unnest(${p[0]}::uuid[], ${p[1]}::int[]) AS v(id, matched)
      WHERE matching_campaign.id = v.id)`);
  }
  const ev = posting.events ?? [];
  if (ev.length) {
    const p = arrays(ev.map((e) => e.member_id), ev.map((e) => e.id), ev.map((e) => e.type), ev.map((e) => e.occurred_at.toISOString()),
      ev.map((e) => JSON.stringify(e.partner_ids)), ev.map((e) => JSON.stringify(e.affiliate_ids)), ev.map((e) => e.data), ev.map((e) => e.views));
    parts.push(`nev AS (INSERT INTO event (member_id, id, type, occurred_at, partner_ids, affiliate_ids, data, views)
      SELECT m, i, t, o, ARRAY(SELECT jsonb_array_elements_text(pa))::uuid[], ARRAY(SELECT jsonb_array_elements_text(af))::uuid[], d, v
      FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::text[], ${p[3]}::timestamptz[], ${p[4]}::jsonb[], ${p[5]}::jsonb[], ${p[6]}::jsonb[], ${p[7]}::jsonb[])
        AS x(m, i, t, o, pa, af, d, v) RETURNING member_id, id, occurred_at)`);
    parts.push(`nevp AS (INSERT INTO event_pending (member_id, event_id, occurred_at) SELECT member_id, id, occurred_at FROM nev)`);
  }
  if (!parts.length) return;
  await preparedRows(q, `WITH ${parts.join(',\n')} SELECT 1`, params);
}
