import { QueryRunner } from 'typeorm';
import type { CommissionPlan } from '../partner/partner.types';
import { preparedRows, preparedStatements, rows } from '../../db/transaction';
import { Column, SCALAR_MAX_ROWS, arrayLiteral, inList, param, rowSource } from '../../db/row-source';
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

export type LockedMember = MemberRow & {
  linked: boolean;
  earlier: TransactionRow[];
  /** For a member named in `referrals`: its referrer and whether the referral was rewarded, as the statement's snapshot saw them; else null. */
  referral: { referrerId: string; rewarded: boolean } | null;
  /** The posting terms' version (`terms_version`) the statement saw. */
  terms_version: string;
  /** For a member named in `nearLots`: its open lots that may be past expiry or pending soon after the lock (expiredAndPending). */
  nearLots?: NearLot[];
};

/** Members whose referrers a lock takes with them: unrewarded referrers of `purchases`, rewarded referrers of `refunds` (docs/rules.md, Referrals). */
export interface ReferralLocks {
  purchases: string[];
  refunds: string[];
}

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
 * all in one round trip. With `referrals`, it also reads those members' referrals and locks, in the
 * same id order, the referrers a purchase may reward or a refund cancel (they are in the result
 * too), and every row carries the posting terms' version. With `nearLots` (members and the time
 * the lock was asked for), the same round trip also brings those members' open lots that are past
 * expiry or pending at that time or expire within NEAR_LOTS_WINDOW_MS of it, read after the lock
 * is taken (`nearLots` of each row; expiredAndPending sums them). A same-key transaction committed while
 * this statement waited for a lock is not in its snapshot: its insert then hits the unique
 * constraint and the caller retries (`isIdempotencyRace`), finding it.
 */
export async function lockMembers(q: QueryRunner, memberIds: string[], partnerId: string | null, caller: string, keys: { memberId: string; key: string }[],
  skipLocked = false, referrals: ReferralLocks = { purchases: [], refunds: [] }, nearLots?: { memberIds: string[]; from: Date }): Promise<Map<string, LockedMember>> {
  // The keys are probed once, each with all three columns of the unique index (member, caller, key),
  // and grouped by member: not once per locked member over all the batch's keys (members × keys).
  // A few members and keys go as scalar parameters, so the statement keeps one generic plan (row-source.ts).
  const params: unknown[] = [partnerId];
  const probe = keys.length ? `SELECT x.member_id, json_agg(x) AS earlier
                FROM (SELECT ${TRANSACTION_COLUMNS.split(', ').map((c) => `t.${c.trim()}`).join(', ')}
                      FROM ${rowSource(params, keys, KEY_PROBE, 'k')}
                      JOIN ledger_transaction t ON t.member_id = k.member_id AND t.caller = ${param(params, caller, 'text')} AND t.idempotency_key = k.key) x
                GROUP BY x.member_id` : 'SELECT NULL::uuid AS member_id, NULL::json AS earlier WHERE false';
  const referred = [...new Set([...referrals.purchases, ...referrals.refunds])];
  let withReferrals = '';
  let which: string;
  if (!referred.length) which = inList(params, 'm.id', memberIds, 'uuid');
  else {
    withReferrals = `WITH r AS MATERIALIZED (SELECT id, referred_by_member_id AS referrer_id, referral_rewarded_at IS NOT NULL AS rewarded FROM member
      WHERE ${inList(params, 'id', referred, 'uuid')} AND referred_by_member_id IS NOT NULL)`;
    const lockedWith = [referrals.purchases.length ? `(NOT rewarded AND ${inList(params, 'id', referrals.purchases, 'uuid')})` : '',
      referrals.refunds.length ? `(rewarded AND ${inList(params, 'id', referrals.refunds, 'uuid')})` : ''].filter(Boolean).join(' OR ');
    const ids = memberIds.length && memberIds.length <= SCALAR_MAX_ROWS ? `ARRAY[${memberIds.map((id) => param(params, id, 'uuid')).join(', ')}]`
      : param(params, arrayLiteral(memberIds, 'uuid'), 'uuid[]');
    which = `m.id = ANY(${ids} || ARRAY(SELECT referrer_id FROM r WHERE ${lockedWith}))`;
  }
  type Found = Omit<LockedMember, 'earlier' | 'referral'> & { earlier: Record<string, unknown>[] | null; referrer_id: string | null; rewarded: boolean | null };
  const lock = {
    sql: `${withReferrals}
     SELECT ${MEMBER_STORED_COLUMNS},
            ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM member_partner_link l WHERE l.member_id = m.id AND l.partner_id = $1)) AS linked,
            e.earlier, ${referred.length ? 'r.referrer_id, r.rewarded' : 'NULL::uuid AS referrer_id, NULL::boolean AS rewarded'},
            (SELECT version::text FROM terms_version WHERE id = 1) AS terms_version
     FROM member m
     LEFT JOIN (${probe}) e ON e.member_id = m.id${referred.length ? '\n     LEFT JOIN r ON r.id = m.id' : ''}
     WHERE ${which} ORDER BY m.id FOR UPDATE OF m${skipLocked ? ' SKIP LOCKED' : ''}`, params };
  let found: Found[];
  const lots = new Map<string, NearLot[]>();
  if (nearLots?.memberIds.length) {
    // After the lock, in the same round trip: a statement of its own, so it sees what committed while the lock waited.
    const [locked, near] = await preparedStatements<[Found, { member_id: string; remaining: number; expires_at: Date; available_at: Date | null }]>(q,
      [lock, nearLotsStatement(nearLots.memberIds, nearLots.from)]);
    found = locked;
    for (const id of nearLots.memberIds) lots.set(id, []);
    for (const l of near) lots.get(l.member_id)!.push({ remaining: l.remaining, expiresAt: l.expires_at, availableAt: l.available_at });
  } else found = await preparedRows<Found>(q, lock.sql, lock.params);
  return new Map(found.map(({ referrer_id, rewarded, ...m }) => [m.id, { ...m, earlier: (m.earlier ?? []).map(fromJson),
    referral: referrer_id ? { referrerId: referrer_id, rewarded: rewarded! } : null, nearLots: lots.get(m.id) }]));
}

/**
 * lockMembers' read of the members' near lots (see there) at `from`: rows { member_id, remaining,
 * expires_at, available_at }. Two halves, each bounded by its own index (IDX_lot_open on
 * expires_at, IDX_lot_pending on available_at; the second leaves out the first's rows), not one
 * OR: a prepared statement keeps the plan it made on a connection's early calls, and made while
 * the lot table was small, the OR's plan read a member's every open lot with the OR as a filter
 * (42 buffers a call at 40 lots a member, against 4; its cost grew through the bench's run).
 * Written this way, any plan reads only the lots it returns.
 */
export function nearLotsStatement(memberIds: string[], from: Date): { sql: string; params: unknown[] } {
  const params: unknown[] = [from.toISOString(), `${NEAR_LOTS_WINDOW_MS} milliseconds`];
  const members = inList(params, 'member_id', memberIds, 'uuid');
  return {
    sql: `SELECT member_id, remaining, expires_at, available_at FROM lot
      WHERE ${members} AND remaining > 0 AND expires_at <= $1::timestamptz + $2::interval
      UNION ALL
      SELECT member_id, remaining, expires_at, available_at FROM lot
      WHERE ${members} AND remaining > 0 AND available_at IS NOT NULL AND available_at > $1::timestamptz
        AND expires_at > $1::timestamptz + $2::interval`,
    params,
  };
}

/** How far past `nearLots.from` the lots lockMembers brings reach: a lock that waited longer is followed by loadExpiredPoints. */
export const NEAR_LOTS_WINDOW_MS = 60_000;

/** An open lot of a member that is past expiry, or expires within NEAR_LOTS_WINDOW_MS, or is still pending, at `nearLots.from`. */
export interface NearLot {
  remaining: number;
  expiresAt: Date;
  availableAt: Date | null;
}

/**
 * The points of these lots past expiry at `at`, and those still pending at `at` — what
 * loadExpiredPoints reads, for lots lockMembers brought with `nearLots.from` ≤ `at` ≤ from +
 * NEAR_LOTS_WINDOW_MS (every lot that can count at such an `at` is among them).
 */
export function expiredAndPending(lots: NearLot[], at: Date): { expired: number; pending: number } | undefined {
  let expired = 0;
  let pending = 0;
  for (const l of lots) {
    if (l.expiresAt.getTime() <= at.getTime()) expired += l.remaining;
    else if (l.availableAt && l.availableAt.getTime() > at.getTime()) pending += l.remaining;
  }
  return lots.length ? { expired, pending } : undefined;
}

const KEY_PROBE: Column<{ memberId: string; key: string }>[] = [
  { name: 'member_id', type: 'uuid', value: (k) => k.memberId }, { name: 'key', type: 'text', value: (k) => k.key },
];

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
  const params: unknown[] = [at.toISOString()];
  const found = await preparedRows<{ member_id: string; expired: string | null; pending: string | null }>(q,
    `SELECT member_id, sum(remaining) FILTER (WHERE expires_at <= $1)::text AS expired, sum(remaining) FILTER (WHERE expires_at > $1 AND available_at > $1)::text AS pending
     FROM lot WHERE ${inList(params, 'member_id', memberIds, 'uuid')} AND remaining > 0 AND (expires_at <= $1::timestamptz OR (available_at IS NOT NULL AND available_at > $1::timestamptz))
     GROUP BY member_id`, params);
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

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null | undefined) => d?.toISOString() ?? null;

/** The columns of each table a posting writes: declared once, sent as scalars or arrays (row-source.ts). */
const TRANSACTION_WRITE: Column<TransactionRow>[] = [
  { name: 'member_id', type: 'uuid', value: (t) => t.member_id }, { name: 'id', type: 'uuid', value: (t) => t.id },
  { name: 'type', type: 'text', value: (t) => t.type }, { name: 'partner_id', type: 'uuid', value: (t) => t.partner_id },
  { name: 'caller', type: 'text', value: (t) => t.caller }, { name: 'idempotency_key', type: 'text', value: (t) => t.idempotency_key },
  { name: 'request_hash', type: 'text', value: (t) => t.request_hash }, { name: 'points', type: 'int', value: (t) => t.points },
  { name: 'amount_minor', type: 'bigint', value: (t) => t.amount_minor }, { name: 'reverses_id', type: 'uuid', value: (t) => t.reverses_id },
  { name: 'bonus_action', type: 'text', value: (t) => t.bonus_action }, { name: 'description', type: 'text', value: (t) => t.description },
  { name: 'breakdown', type: 'jsonb', value: (t) => JSON.stringify(t.breakdown) }, { name: 'occurred_at', type: 'timestamptz', value: (t) => iso(t.occurred_at) },
  { name: 'posted_at', type: 'timestamptz', value: (t) => iso(t.posted_at) },
];
type Entry = Changes['entries'][number];
const ENTRY_WRITE: Column<Entry>[] = [
  { name: 'member_id', type: 'uuid', value: (e) => e.memberId }, { name: 'transaction_id', type: 'uuid', value: (e) => e.transactionId },
  { name: 'seq', type: 'smallint', value: (e) => e.seq }, { name: 'account_type', type: 'text', value: (e) => e.accountType },
  { name: 'account_id', type: 'uuid', value: (e) => e.accountId }, { name: 'points', type: 'bigint', value: (e) => e.points },
];
type OwnedLot = { owner: string; lot: LotState };
const LOT_WRITE: Column<OwnedLot>[] = [
  { name: 'member_id', type: 'uuid', value: (l) => l.owner }, { name: 'id', type: 'uuid', value: (l) => l.lot.id },
  { name: 'transaction_id', type: 'uuid', value: (l) => l.lot.transactionId },
  { name: 'issuer_type', type: 'text', value: (l) => (l.lot.issuer.partnerId ? 'PARTNER' : 'OPERATOR') },
  { name: 'issuer_id', type: 'uuid', value: (l) => l.lot.issuer.partnerId }, { name: 'points', type: 'int', value: (l) => l.lot.points },
  { name: 'remaining', type: 'int', value: (l) => l.lot.remaining }, { name: 'expires_at', type: 'timestamptz', value: (l) => iso(l.lot.expiresAt) },
  { name: 'created_at', type: 'timestamptz', value: (l) => iso(l.lot.createdAt) }, { name: 'available_at', type: 'timestamptz', value: (l) => isoOrNull(l.lot.availableAt) },
];
const LOT_UPDATE: Column<OwnedLot>[] = [
  { name: 'member_id', type: 'uuid', value: (l) => l.owner }, { name: 'id', type: 'uuid', value: (l) => l.lot.id },
  { name: 'remaining', type: 'int', value: (l) => l.lot.remaining },
];
type Movement = Changes['movements'][number];
const MOVEMENT_WRITE: Column<Movement>[] = [
  { name: 'member_id', type: 'uuid', value: (m) => m.memberId }, { name: 'transaction_id', type: 'uuid', value: (m) => m.transactionId },
  { name: 'lot_id', type: 'uuid', value: (m) => m.lotId }, { name: 'points', type: 'int', value: (m) => m.points },
];
const OBLIGATION_WRITE: Column<ObligationRow>[] = [
  { name: 'member_id', type: 'uuid', value: (o) => o.memberId }, { name: 'transaction_id', type: 'uuid', value: (o) => o.transactionId },
  { name: 'kind', type: 'text', value: (o) => o.kind }, { name: 'payer_type', type: 'text', value: (o) => o.payerType },
  { name: 'payer_id', type: 'uuid', value: (o) => o.payerId }, { name: 'payee_type', type: 'text', value: (o) => o.payeeType },
  { name: 'payee_id', type: 'uuid', value: (o) => o.payeeId }, { name: 'points', type: 'int', value: (o) => o.points },
  { name: 'rate', type: 'numeric', value: (o) => o.rate }, { name: 'value_minor', type: 'bigint', value: (o) => o.valueMinor?.toString() ?? null },
];
type OwnedDebt = { memberId: string; debt: DebtState };
const DEBT_WRITE: Column<OwnedDebt>[] = [
  { name: 'member_id', type: 'uuid', value: (d) => d.memberId }, { name: 'id', type: 'uuid', value: (d) => d.debt.id },
  { name: 'transaction_id', type: 'uuid', value: (d) => d.debt.transactionId }, { name: 'creditor_partner_id', type: 'uuid', value: (d) => d.debt.creditorPartnerId },
  { name: 'points', type: 'int', value: (d) => d.debt.points }, { name: 'remaining', type: 'int', value: (d) => d.debt.remaining },
  { name: 'created_at', type: 'timestamptz', value: (d) => iso(d.debt.createdAt) },
];
const DEBT_UPDATE: Column<OwnedDebt>[] = [
  { name: 'member_id', type: 'uuid', value: (d) => d.memberId }, { name: 'id', type: 'uuid', value: (d) => d.debt.id },
  { name: 'remaining', type: 'int', value: (d) => d.debt.remaining },
];
const MEMBER_UPDATE: Column<MemberUpdate>[] = [
  { name: 'id', type: 'uuid', value: (m) => m.id }, { name: 'balance', type: 'bigint', value: (m) => m.balance },
  { name: 'debt', type: 'bigint', value: (m) => m.debt }, { name: 'tier', type: 'text', value: (m) => m.tier },
  { name: 'referrals', type: 'int', value: (m) => m.successfulReferrals }, { name: 'rewarded', type: 'timestamptz', value: (m) => isoOrNull(m.referralRewardedAt) },
];
const COMMISSION_WRITE: Column<CommissionRow>[] = [
  { name: 'member_id', type: 'uuid', value: (c) => c.member_id }, { name: 'id', type: 'uuid', value: (c) => c.id },
  { name: 'purchase_id', type: 'uuid', value: (c) => c.purchase_id }, { name: 'partner_id', type: 'uuid', value: (c) => c.partner_id },
  { name: 'affiliate_id', type: 'uuid', value: (c) => c.affiliate_id }, { name: 'plan', type: 'jsonb', value: (c) => JSON.stringify(c.plan) },
  { name: 'purchase_amount_minor', type: 'bigint', value: (c) => c.purchase_amount_minor }, { name: 'base_amount_minor', type: 'bigint', value: (c) => c.base_amount_minor },
  { name: 'amount_minor', type: 'bigint', value: (c) => c.amount_minor }, { name: 'status', type: 'text', value: (c) => c.status },
  { name: 'clawback_of', type: 'uuid', value: (c) => c.clawback_of }, { name: 'occurred_at', type: 'timestamptz', value: (c) => iso(c.occurred_at) },
  { name: 'approves_at', type: 'timestamptz', value: (c) => iso(c.approves_at) }, { name: 'created_at', type: 'timestamptz', value: (c) => iso(c.created_at) },
];
const COMMISSION_UPDATE: Column<CommissionRow>[] = [
  { name: 'member_id', type: 'uuid', value: (c) => c.member_id }, { name: 'id', type: 'uuid', value: (c) => c.id },
  { name: 'amount', type: 'bigint', value: (c) => c.amount_minor }, { name: 'status', type: 'text', value: (c) => c.status },
];
const DONATION_WRITE: Column<DonationRow>[] = [
  { name: 'member_id', type: 'uuid', value: (d) => d.member_id }, { name: 'id', type: 'uuid', value: (d) => d.id },
  { name: 'transaction_id', type: 'uuid', value: (d) => d.transaction_id }, { name: 'cause_id', type: 'uuid', value: (d) => d.cause_id },
  { name: 'points', type: 'int', value: (d) => d.points }, { name: 'value_minor', type: 'bigint', value: (d) => d.value_minor },
  { name: 'matched_points', type: 'int', value: (d) => d.matched_points }, { name: 'matched_value_minor', type: 'bigint', value: (d) => d.matched_value_minor },
  { name: 'receipt_number', type: 'text', value: (d) => d.receipt_number }, { name: 'automatic', type: 'boolean', value: (d) => d.automatic },
  { name: 'created_at', type: 'timestamptz', value: (d) => iso(d.created_at) },
];
type CampaignUpdate = Posting['campaigns'][number];
const CAMPAIGN_UPDATE: Column<CampaignUpdate>[] = [
  { name: 'id', type: 'uuid', value: (c) => c.id }, { name: 'matched', type: 'int', value: (c) => c.matchedPoints },
];
const EVENT_WRITE: Column<OutboxRow>[] = [
  { name: 'member_id', type: 'uuid', value: (e) => e.member_id }, { name: 'id', type: 'uuid', value: (e) => e.id },
  { name: 'type', type: 'text', value: (e) => e.type }, { name: 'occurred_at', type: 'timestamptz', value: (e) => iso(e.occurred_at) },
  // Lists of ids travel as JSON: an array column cannot be unnested as one value a row.
  { name: 'partner_ids', type: 'jsonb', value: (e) => JSON.stringify(e.partner_ids) }, { name: 'affiliate_ids', type: 'jsonb', value: (e) => JSON.stringify(e.affiliate_ids) },
  { name: 'data', type: 'jsonb', value: (e) => e.data }, { name: 'views', type: 'jsonb', value: (e) => e.views },
];
const names = <R>(columns: Column<R>[]) => columns.map((c) => c.name).join(', ');

/**
 * Writes a batch in one statement, a CTE a kind of row. Each table's rows travel as one array a
 * column (unnest) — a batch of a thousand purchases costs one round trip, like a batch of one — or,
 * when there are only a few (a single posting), as scalar parameters, so PostgreSQL keeps one
 * generic plan for the statement instead of planning it on every call (row-source.ts).
 */
export async function writePosting(q: QueryRunner, posting: Posting, postedAt: Date): Promise<void> {
  const params: unknown[] = [];
  const from = <R>(rows: readonly R[], columns: Column<R>[]) => rowSource(params, rows, columns, 'x');
  const parts: string[] = [];
  const { transactions: txs, changes } = posting;
  if (txs.length) parts.push(`t AS (INSERT INTO ledger_transaction (${names(TRANSACTION_WRITE)}) SELECT * FROM ${from(txs, TRANSACTION_WRITE)})`);
  if (changes.entries.length) {
    const source = from(changes.entries, ENTRY_WRITE);
    parts.push(`e AS (INSERT INTO ledger_entry (${names(ENTRY_WRITE)}, posted_at) SELECT *, ${param(params, iso(postedAt), 'timestamptz')} FROM ${source})`);
  }
  const owned = posting.lots.map((lot) => ({ owner: posting.lotOwner.get(lot)!, lot }));
  const newLots = owned.filter((l) => l.lot.isNew);
  if (newLots.length) parts.push(`nl AS (INSERT INTO lot (${names(LOT_WRITE)}) SELECT * FROM ${from(newLots, LOT_WRITE)})`);
  const changedLots = owned.filter((l) => !l.lot.isNew && l.lot.dirty);
  if (changedLots.length) {
    parts.push(`ul AS (UPDATE lot SET remaining = x.remaining FROM ${from(changedLots, LOT_UPDATE)} WHERE lot.member_id = x.member_id AND lot.id = x.id)`);
  }
  const ms = changes.movements.filter((m) => m.points !== 0);
  if (ms.length) parts.push(`lm AS (INSERT INTO lot_movement (${names(MOVEMENT_WRITE)}) SELECT * FROM ${from(ms, MOVEMENT_WRITE)})`);
  if (changes.obligations.length) {
    const source = from(changes.obligations, OBLIGATION_WRITE);
    parts.push(`ob AS (INSERT INTO obligation (id, ${names(OBLIGATION_WRITE)}, posted_at)
      SELECT gen_random_uuid(), *, ${param(params, iso(postedAt), 'timestamptz')} FROM ${source})`);
  }
  const newDebts = posting.debts.filter((d) => d.debt.isNew);
  if (newDebts.length) parts.push(`nd AS (INSERT INTO member_debt (${names(DEBT_WRITE)}) SELECT * FROM ${from(newDebts, DEBT_WRITE)})`);
  const changedDebts = posting.debts.filter((d) => !d.debt.isNew && d.debt.dirty);
  if (changedDebts.length) {
    parts.push(`ud AS (UPDATE member_debt SET remaining = x.remaining FROM ${from(changedDebts, DEBT_UPDATE)}
      WHERE member_debt.member_id = x.member_id AND member_debt.id = x.id)`);
  }
  if (posting.members.length) {
    parts.push(`um AS (UPDATE member SET balance = x.balance, debt = x.debt, tier = x.tier, successful_referrals = x.referrals, referral_rewarded_at = x.rewarded
      FROM ${from(posting.members, MEMBER_UPDATE)} WHERE member.id = x.id)`);
  }
  if (posting.commissions.length) {
    parts.push(`nc AS (INSERT INTO commission (${names(COMMISSION_WRITE)}) SELECT * FROM ${from(posting.commissions, COMMISSION_WRITE)})`);
  }
  if (posting.changedCommissions.length) {
    parts.push(`uc AS (UPDATE commission SET amount_minor = x.amount, status = x.status FROM ${from(posting.changedCommissions, COMMISSION_UPDATE)}
      WHERE commission.member_id = x.member_id AND commission.id = x.id AND commission.settlement_run_id IS NULL)`);
  }
  if (posting.donations.length) parts.push(`nd2 AS (INSERT INTO donation (${names(DONATION_WRITE)}) SELECT * FROM ${from(posting.donations, DONATION_WRITE)})`);
  if (posting.campaigns.length) {
    parts.push(`umc AS (UPDATE matching_campaign SET matched_points = x.matched FROM ${from(posting.campaigns, CAMPAIGN_UPDATE)} WHERE matching_campaign.id = x.id)`);
  }
  const ev = posting.events ?? [];
  if (ev.length) {
    parts.push(`nev AS (INSERT INTO event (${names(EVENT_WRITE)})
      SELECT member_id, id, type, occurred_at, ARRAY(SELECT jsonb_array_elements_text(partner_ids))::uuid[], ARRAY(SELECT jsonb_array_elements_text(affiliate_ids))::uuid[], data, views
      FROM ${from(ev, EVENT_WRITE)} RETURNING member_id, id, occurred_at)`);
    parts.push(`nevp AS (INSERT INTO event_pending (member_id, event_id, occurred_at) SELECT member_id, id, occurred_at FROM nev)`);
  }
  if (!parts.length) return;
  await preparedRows(q, `WITH ${parts.join(',\n')} SELECT 1`, params);
}
