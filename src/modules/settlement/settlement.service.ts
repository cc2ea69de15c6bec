import { QueryRunner } from 'typeorm';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, fail, forbidden, ok, userError } from '../../api/errors';
import { Dec, EARLIEST_INSTANT, formatMinorUnits, toMoney } from '../../common/decimal';
import { isUuid, uuidv7 } from '../../common/ids';
import { Connection, DEFAULT_PAGE_SIZE, PageArgs, decodeCursor, toConnection } from '../../common/pagination';
import { inTransaction, isUniqueViolation, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { settlementClosedEvent } from './settlement.events';
import { recordEvents } from '../webhook/webhook.store';
import { approveBeforePayment } from '../affiliate/commission-approval.service';
import { commissionEvent } from '../affiliate/commission.events';
import { getCoalition } from '../coalition/coalition.service';
import { CloseSettlementPeriodInput } from './settlement.inputs';
import { LineTotal, PartyKey, SettledLine, netPositions, partyKey, settleLines, settleTransfers, statementCsv } from './settlement.rules';
import {
  NetPosition, NetTransfer, OPERATOR_PARTY_ID, Party, PartyType, SettlementLine, SettlementLineKind, SettlementRun,
} from './settlement.types';

/** Serializes closes, so two operators closing at once cannot both pass the overlap check. */
const CLOSE_LOCK = 'coalition-hub:settlement-close';

/** A commission the run marked PAID, as the commission source returns it (json: timestamps as strings). */
interface PaidCommission {
  member_id: string;
  id: string;
  partner_id: string;
  affiliate_id: string;
  amount_minor: string;
  status: string;
  approves_at: string;
  clawback_of: string | null;
  settlement_run_id: string | null;
}

/**
 * Where settlement lines come from. Each source yields (kind, payer, payee, points, exact money in
 * currency units; for donations and matches the sum of their stored floored values) for a run, and runs as a statement of its own: a plain SELECT keeps PostgreSQL's parallel aggregation (a data-modifying
 * statement would lose it). Points-based obligations (redemption, debt recovery, donation, match)
 * are summed by posting time; commissions are paid when approved and unsettled, and the same
 * statement marks them PAID by this run, so nothing is summed that is not marked, or marked and
 * not summed. New sources plug in here; the netting does not change.
 */
const LINE_SOURCES: { sql: string; params: (run: { start: Date; end: Date; id: string; exponent: number }) => unknown[] }[] = [
  {
    // DONATION and MATCH rows carry their floored value (value_minor): the line is their sum, exactly.
    sql: `SELECT kind, payer_type, payer_id, payee_type, payee_id, sum(points)::text AS points,
        sum(COALESCE(value_minor::numeric / $3, points * rate))::text AS exact
      FROM obligation WHERE posted_at >= $1 AND posted_at < $2 GROUP BY kind, payer_type, payer_id, payee_type, payee_id`,
    params: (run) => [run.start, run.end, 10 ** run.exponent],
  },
  {
    sql: `WITH paid AS (UPDATE commission SET settlement_run_id = $2, status = 'PAID'
        WHERE settlement_run_id IS NULL AND status <> 'REVERSED' AND approves_at < $1 AND created_at < $1
        RETURNING member_id, id, partner_id, affiliate_id, amount_minor, status, approves_at, clawback_of, settlement_run_id)
      SELECT 'COMMISSION' AS kind, 'PARTNER' AS payer_type, partner_id AS payer_id, 'AFFILIATE' AS payee_type, affiliate_id AS payee_id,
        '0' AS points, (sum(amount_minor)::numeric / $3)::text AS exact,
        json_agg(json_build_object('member_id', member_id, 'id', id, 'partner_id', partner_id, 'affiliate_id', affiliate_id, 'amount_minor', amount_minor::text,
          'status', status, 'approves_at', approves_at, 'clawback_of', clawback_of, 'settlement_run_id', settlement_run_id) ORDER BY member_id, id) AS paid
      FROM paid GROUP BY partner_id, affiliate_id`,
    params: (run) => [run.end, run.id, 10 ** run.exponent],
  },
];

interface RunRow {
  id: string;
  period_start: Date;
  period_end: Date;
  closed_at: Date;
  currency: string;
  currency_exponent: number;
}

function toRun(row: RunRow): SettlementRun {
  return { id: row.id, periodStart: row.period_start, periodEnd: row.period_end, closedAt: row.closed_at, currency: row.currency, currencyExponent: row.currency_exponent };
}

const RUN_COLUMNS = 'id, period_start, period_end, closed_at, currency, currency_exponent';

/**
 * Closes [periodStart, periodEnd) (docs/rules.md, Redemption and cross-redemption settlement): lines
 * per (payer, payee, kind) summed in PostgreSQL (the ledger never comes into Node), one half-up
 * rounding a line, positions from the rounded lines, transfers that settle them. The same period
 * again returns the same run; an overlapping one is PERIOD_OVERLAPS; a period whose end (plus the
 * grace for postings still in flight) has not passed is PERIOD_NOT_ENDED.
 */
export async function closeSettlementPeriod(ctx: RequestContext, input: CloseSettlementPeriodInput): Promise<Outcome<SettlementRun>> {
  const { periodStart: start, periodEnd: end } = input;
  if (end.getTime() <= start.getTime()) return fail(userError(ErrorCode.INVALID_INPUT, 'periodEnd must be after periodStart', ['input', 'periodEnd']));
  if (!(start.getTime() >= EARLIEST_INSTANT.getTime())) return fail(userError(ErrorCode.INVALID_INPUT, `periodStart must be after ${EARLIEST_INSTANT.toISOString()}`, ['input', 'periodStart']));
  const closable = Date.now() - ctx.config.settlementGraceSeconds * 1000;
  if (end.getTime() > closable) {
    return fail(userError(ErrorCode.PERIOD_NOT_ENDED, `The period ends at ${end.toISOString()}; it can be closed ${ctx.config.settlementGraceSeconds} s after that`, ['input', 'periodEnd']));
  }
  const coalition = await getCoalition(ctx);
  return inTransaction(ctx.db, async (q) => {
    await rows(q, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [CLOSE_LOCK]);
    const settled = await waitForPostingsBefore(q, end);
    if (!settled) return fail(userError(ErrorCode.PERIOD_NOT_ENDED, 'Postings that began before the period end are still open; try again shortly', ['input', 'periodEnd']));
    const [same] = await rows<RunRow>(q, `SELECT ${RUN_COLUMNS} FROM settlement_run WHERE period_start = $1 AND period_end = $2`, [start, end]);
    if (same) return ok(toRun(same));
    const [overlap] = await rows<RunRow>(q, `SELECT ${RUN_COLUMNS} FROM settlement_run WHERE period_start < $2 AND period_end > $1 ORDER BY period_start LIMIT 1`, [start, end]);
    if (overlap) {
      return fail(userError(ErrorCode.PERIOD_OVERLAPS, `The period overlaps the closed run ${overlap.id} [${overlap.period_start.toISOString()}, ${overlap.period_end.toISOString()})`, ['input']));
    }
    const runId = uuidv7();
    const currency = { code: coalition.currency, exponent: coalition.currencyExponent };
    // Commissions this run pays whose approval the job has not stored yet are approved first (events in that order).
    await approveBeforePayment(q, end, currency);
    const totals: { kind: string; payer_type: string; payer_id: string | null; payee_type: string; payee_id: string | null; points: string; exact: string;
      paid?: PaidCommission[] | null }[] = [];
    for (const source of LINE_SOURCES) {
      totals.push(...await rows<typeof totals[number]>(q, source.sql, source.params({ start, end, id: runId, exponent: coalition.currencyExponent })));
    }
    const order = (t: typeof totals[number]) => [t.kind, t.payer_type, t.payer_id ?? '', t.payee_type, t.payee_id ?? ''].join('|');
    totals.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
    const lines = settleLines(totals.map((t): LineTotal => ({
      kind: t.kind, payer: { type: t.payer_type, id: t.payer_id }, payee: { type: t.payee_type, id: t.payee_id }, points: BigInt(t.points), exact: new Dec(t.exact),
    })), coalition.currencyExponent).filter((l) => l.points !== 0n || l.amountMinor !== 0n);
    const positions = netPositions(lines);
    const transfers = settleTransfers(positions);
    const run: RunRow = { id: runId, period_start: start, period_end: end, closed_at: new Date(), currency: coalition.currency, currency_exponent: coalition.currencyExponent };
    await rows(q, `INSERT INTO settlement_run (${RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      [run.id, run.period_start, run.period_end, run.closed_at, run.currency, run.currency_exponent]);
    const seq = (list: unknown[]) => list.map((_, i) => i + 1);
    await rows(q, `INSERT INTO settlement_line (run_id, seq, kind, payer_type, payer_id, payee_type, payee_id, points, amount_minor)
      SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::uuid[], $8::bigint[], $9::bigint[])`,
    [run.id, seq(lines), lines.map((l) => l.kind), lines.map((l) => l.payer.type), lines.map((l) => l.payer.id), lines.map((l) => l.payee.type),
      lines.map((l) => l.payee.id), lines.map((l) => l.points.toString()), lines.map((l) => l.amountMinor.toString())]);
    await rows(q, `INSERT INTO settlement_position (run_id, seq, party_type, party_id, amount_minor) SELECT $1, * FROM unnest($2::int[], $3::text[], $4::uuid[], $5::bigint[])`,
      [run.id, seq(positions), positions.map((p) => p.party.type), positions.map((p) => p.party.id), positions.map((p) => p.amountMinor.toString())]);
    await rows(q, `INSERT INTO settlement_transfer (run_id, seq, from_type, from_id, to_type, to_id, amount_minor)
      SELECT $1, * FROM unnest($2::int[], $3::text[], $4::uuid[], $5::text[], $6::uuid[], $7::bigint[])`,
    [run.id, seq(transfers), transfers.map((t) => t.from.type), transfers.map((t) => t.from.id), transfers.map((t) => t.to.type), transfers.map((t) => t.to.id),
      transfers.map((t) => t.amountMinor.toString())]);
    await audit(ctx, q, { action: 'settlement.closed', subjectType: 'SETTLEMENT_RUN', subjectId: run.id, input });
    const paid = totals.flatMap((t) => t.paid ?? []).map((c) => commissionEvent('commission.paid', { ...c, approves_at: new Date(c.approves_at) }, currency, run.closed_at));
    await recordEvents(q, [...paid, settlementClosedEvent(run, positions, transfers.length)]);
    return ok(toRun(run));
  }, (error) => isUniqueViolation(error, 'UQ_settlement_run_period'));
}

/**
 * Waits (up to 30 s) until no transaction that began before `end` and has written is still open:
 * a posting stamps its time before it commits, and a closed run never takes it later. The grace
 * period makes this wait short; this makes it exact.
 *
 * It runs inside the close's transaction, and PostgreSQL keeps one snapshot of its statistics
 * views (pg_stat_activity included) for the rest of a transaction once it is first read: every
 * poll clears that snapshot first, or it would see the first look's postings open forever.
 */
async function waitForPostingsBefore(q: QueryRunner, end: Date): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await rows(q, 'SELECT pg_stat_clear_snapshot()');
    const [open] = await rows<{ n: number }>(q, `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND datname = current_database() AND xact_start < $1 AND backend_xid IS NOT NULL`, [end]);
    if (open!.n === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function findRun(ctx: RequestContext, id: string): Promise<SettlementRun | null> {
  if (!isUuid(id)) return null;
  const [row] = await rows<RunRow>(ctx.db, `SELECT ${RUN_COLUMNS} FROM settlement_run WHERE id = $1`, [id]);
  return row ? toRun(row) : null;
}

/** Closed runs, newest period first. */
export async function listRuns(ctx: RequestContext, page: PageArgs): Promise<Connection<SettlementRun>> {
  const first = page.first ?? DEFAULT_PAGE_SIZE;
  const params: unknown[] = [first + 1];
  let keyset = '';
  if (page.after) {
    const [start, id] = decodeCursor(page.after, ['timestamp', 'uuid']);
    params.push(start, id);
    keyset = 'WHERE (period_start, id) < ($2::timestamptz, $3::uuid)';
  }
  const found = await rows<RunRow & { start_key: string }>(ctx.db,
    `SELECT ${RUN_COLUMNS}, to_char(period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start_key FROM settlement_run ${keyset}
     ORDER BY period_start DESC, id DESC LIMIT $1`, params);
  return toConnection(found, first, (r) => [r.start_key, r.id], toRun, async () => {
    const [count] = await rows<{ n: number }>(ctx.db, 'SELECT count(*)::int AS n FROM settlement_run');
    return count!.n;
  });
}

/** The party whose share of a run the caller sees: a partner only its own; the operator all (null). */
function runScope(ctx: RequestContext): PartyKey | null {
  const caller = ctx.caller!;
  if (caller.role === Role.ADMIN) return null;
  if (caller.role === Role.PARTNER) return { type: PartyType.PARTNER, id: caller.partnerId };
  if (caller.role === Role.AFFILIATE) return { type: PartyType.AFFILIATE, id: caller.affiliateId };
  throw forbidden('Settlement runs are for the operator, partners and affiliates');
}

interface RunDetail {
  lines: SettledLine[];
  positions: { party: PartyKey; amountMinor: bigint }[];
  transfers: { from: PartyKey; to: PartyKey; amountMinor: bigint }[];
}

const details = new WeakMap<RequestContext, Map<string, Promise<RunDetail>>>();

/** A run's stored lines, positions and transfers, read once a request. */
function runDetail(ctx: RequestContext, runId: string): Promise<RunDetail> {
  let cache = details.get(ctx);
  if (!cache) details.set(ctx, (cache = new Map()));
  let detail = cache.get(runId);
  if (!detail) {
    detail = (async () => {
      const lines = await rows<{ kind: string; payer_type: string; payer_id: string | null; payee_type: string; payee_id: string | null; points: string; amount_minor: string }>(ctx.db,
        'SELECT kind, payer_type, payer_id, payee_type, payee_id, points, amount_minor FROM settlement_line WHERE run_id = $1 ORDER BY seq', [runId]);
      const positions = await rows<{ party_type: string; party_id: string | null; amount_minor: string }>(ctx.db,
        'SELECT party_type, party_id, amount_minor FROM settlement_position WHERE run_id = $1 ORDER BY seq', [runId]);
      const transfers = await rows<{ from_type: string; from_id: string | null; to_type: string; to_id: string | null; amount_minor: string }>(ctx.db,
        'SELECT from_type, from_id, to_type, to_id, amount_minor FROM settlement_transfer WHERE run_id = $1 ORDER BY seq', [runId]);
      return {
        lines: lines.map((l) => ({ kind: l.kind, payer: { type: l.payer_type, id: l.payer_id }, payee: { type: l.payee_type, id: l.payee_id },
          points: BigInt(l.points), exact: new Dec(0), amountMinor: BigInt(l.amount_minor) })),
        positions: positions.map((p) => ({ party: { type: p.party_type, id: p.party_id }, amountMinor: BigInt(p.amount_minor) })),
        transfers: transfers.map((t) => ({ from: { type: t.from_type, id: t.from_id }, to: { type: t.to_type, id: t.to_id }, amountMinor: BigInt(t.amount_minor) })),
      };
    })();
    cache.set(runId, detail);
  }
  return detail;
}

async function partyOf(ctx: RequestContext, key: PartyKey): Promise<Party> {
  if (key.type === PartyType.OPERATOR) return { type: PartyType.OPERATOR, id: OPERATOR_PARTY_ID, name: (await getCoalition(ctx)).name };
  if (key.type === PartyType.PARTNER) {
    const partner = await ctx.loaders.partner.load(key.id!);
    return { type: PartyType.PARTNER, id: key.id!, name: partner?.name ?? key.id! };
  }
  const table = key.type === PartyType.CAUSE ? 'cause' : 'affiliate';
  const [row] = await rows<{ name: string }>(ctx.db, `SELECT name FROM ${table} WHERE id = $1`, [key.id]);
  return { type: key.type as PartyType, id: key.id!, name: row?.name ?? key.id! };
}

const involves = (scope: PartyKey | null, ...parties: PartyKey[]) => scope === null || parties.some((p) => partyKey(p) === partyKey(scope));

export async function runLines(ctx: RequestContext, run: SettlementRun): Promise<SettlementLine[]> {
  const scope = runScope(ctx);
  const money = (minor: bigint) => toMoney(minor, run);
  const { lines } = await runDetail(ctx, run.id);
  return Promise.all(lines.filter((l) => involves(scope, l.payer, l.payee)).map(async (l) => ({
    payer: await partyOf(ctx, l.payer), payee: await partyOf(ctx, l.payee), kind: l.kind as SettlementLineKind, points: l.points, amount: money(l.amountMinor),
  })));
}

export async function runPositions(ctx: RequestContext, run: SettlementRun): Promise<NetPosition[]> {
  const scope = runScope(ctx);
  const { positions } = await runDetail(ctx, run.id);
  return Promise.all(positions.filter((p) => involves(scope, p.party)).map(async (p) => ({
    party: await partyOf(ctx, p.party), amount: toMoney(p.amountMinor, run),
  })));
}

export async function runTransfers(ctx: RequestContext, run: SettlementRun): Promise<NetTransfer[]> {
  const scope = runScope(ctx);
  const { transfers } = await runDetail(ctx, run.id);
  return Promise.all(transfers.filter((t) => involves(scope, t.from, t.to)).map(async (t) => ({
    from: await partyOf(ctx, t.from), to: await partyOf(ctx, t.to), amount: toMoney(t.amountMinor, run),
  })));
}

/** One party's statement of a run as CSV; a partner or an affiliate may ask for its own only. */
export async function runStatementCsv(ctx: RequestContext, run: SettlementRun, partyId: string): Promise<string> {
  const scope = runScope(ctx);
  const { lines, positions } = await runDetail(ctx, run.id);
  const party = partyId === OPERATOR_PARTY_ID ? { type: PartyType.OPERATOR, id: null }
    : positions.find((p) => p.party.id === partyId)?.party ?? { type: scope?.type ?? PartyType.PARTNER, id: partyId };
  if (scope && partyKey(scope) !== partyKey(party)) throw forbidden('A partner or an affiliate may download its own statement only');
  const names = new Map<string, string>();
  for (const l of lines) for (const p of [l.payer, l.payee]) names.set(partyKey(p), (await partyOf(ctx, p)).name);
  return statementCsv(party, (p) => names.get(partyKey(p)) ?? p.id ?? '', lines, run, (minor) => formatMinorUnits(minor, run.currencyExponent), run.currency);
}
