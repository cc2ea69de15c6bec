import { DataSource, QueryRunner } from 'typeorm';
import { preparedRows, rows } from '../../db/transaction';
import { TIER_WINDOW_DAYS } from './tier.rules';

/**
 * What the earn rules need of a member's past, read from the ledger itself after the member is
 * locked (so nothing a concurrent posting committed is missed): visits at a partner (first
 * purchase, punch card), points earned at a partner on a UTC day (day cap), purchase points in the
 * trailing tier window, recent action bonuses, and club membership periods (club multipliers and
 * club-only promotions count the clubs the member is in at a purchase's occurredAt).
 */
export interface HistoryQuery {
  /** (member, partner) pairs whose visit count is needed. */
  counts: { memberId: string; partnerId: string }[];
  /** (member, partner, UTC day start) triples whose earned points are needed. */
  days: { memberId: string; partnerId: string; day: Date }[];
  /** Members whose tier qualification is needed. */
  qualifying: string[];
  /** (member, partner, action, since) whose bonus count is needed. */
  bonuses: { memberId: string; partnerId: string; action: string; since: Date }[];
  /** Members whose club membership periods ending after `since` are needed, in the clubs of `clubIds` only. */
  memberships: { memberId: string; since: Date }[];
  /** The clubs whose memberships matter to the batch (coalition clubs and the purchasing partners'). */
  clubIds: Set<string>;
  asOf: Date;
}

export interface History {
  /** Visits at the partner: purchases that reached minSpend and are not fully refunded. */
  visits(memberId: string, partnerId: string): number;
  /** Those visits that carried a punch-card bonus. */
  visitBonuses(memberId: string, partnerId: string): number;
  dayPoints(memberId: string, partnerId: string, day: Date): number;
  /** Exact up to 2^53; summed as 64-bit integers in SQL. */
  qualifyingPoints(memberId: string): number;
  bonusCount(memberId: string, partnerId: string, action: string): number;
  /** Ids of the clubs (of those asked for) the member is in at `at`: a membership period with startsAt ≤ at < expiresAt. */
  clubsAt(memberId: string, at: Date): string[];
}

export function isEmpty(query: HistoryQuery): boolean {
  return !query.counts.length && !query.days.length && !query.qualifying.length && !query.bonuses.length && !query.memberships.length;
}

/**
 * Whether purchase `t` is a visit (docs/rules.md, Earning): it reached the minSpend of the rule in force
 * when it was posted — the engine records a MIN_SPEND step exactly when it did not — and refunds
 * have not taken back its whole amount.
 */
const VISIT_SQL = (t: string) => `NOT (${t}.breakdown @> '[{"rule": "MIN_SPEND"}]'::jsonb)
  AND COALESCE((SELECT sum(r.amount_minor) FROM ledger_transaction r WHERE r.member_id = ${t}.member_id AND r.reverses_id = ${t}.id), 0) < ${t}.amount_minor`;

/**
 * Purchase points in the tier window, net of refunds: the SQL both the posting and the expiry job use.
 * A refund counts with its purchase: one of a purchase already outside the window takes nothing off.
 */
export const QUALIFYING_POINTS_SQL = (member: string, asOf: string) => `COALESCE((SELECT sum(t.points) FROM ledger_transaction t
  LEFT JOIN ledger_transaction o ON o.member_id = t.member_id AND o.id = t.reverses_id
  WHERE t.member_id = ${member} AND t.posted_at <= ${asOf}
    AND ((t.type = 'PURCHASE' AND t.posted_at > ${asOf} - interval '${TIER_WINDOW_DAYS} days')
      OR (t.type = 'REVERSAL' AND o.type = 'PURCHASE' AND o.posted_at > ${asOf} - interval '${TIER_WINDOW_DAYS} days'))), 0)::bigint`;

export async function loadHistory(q: QueryRunner, query: HistoryQuery): Promise<History> {
  // One row per member, from its earliest purchase time in the batch.
  const since = new Map<string, Date>();
  for (const m of query.memberships) if (!since.has(m.memberId) || m.since < since.get(m.memberId)!) since.set(m.memberId, m.since);
  const [row] = await preparedRows<{ counts: { m: string; p: string; n: number; b: number }[] | null; days: { m: string; p: string; d: string; n: number }[] | null;
    qualifying: { m: string; n: number | string }[] | null; bonuses: { m: string; p: string; a: string; n: number }[] | null;
    memberships: { m: string; c: string; s: string; e: string }[] | null }>(q,
    `SELECT
      (SELECT json_agg(json_build_object('m', x.m, 'p', x.p, 'n', v.n, 'b', v.b)) FROM unnest($1::uuid[], $2::uuid[]) AS x(m, p)
        CROSS JOIN LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE t.breakdown @> '[{"rule": "VISIT_BONUS"}]'::jsonb) AS b FROM ledger_transaction t
          WHERE t.member_id = x.m AND t.partner_id = x.p AND t.type = 'PURCHASE' AND ${VISIT_SQL('t')}) v) AS counts,
      (SELECT json_agg(json_build_object('m', x.m, 'p', x.p, 'd', x.d, 'n', (SELECT COALESCE(sum(t.points), 0) FROM ledger_transaction t
          WHERE t.member_id = x.m AND t.partner_id = x.p AND t.type = 'PURCHASE' AND t.occurred_at >= x.d AND t.occurred_at < x.d + interval '1 day')))
        FROM unnest($3::uuid[], $4::uuid[], $5::timestamptz[]) AS x(m, p, d)) AS days,
      (SELECT json_agg(json_build_object('m', x.m, 'n', ${QUALIFYING_POINTS_SQL('x.m', '$7::timestamptz')})) FROM unnest($6::uuid[]) AS x(m)) AS qualifying,
      (SELECT json_agg(json_build_object('m', x.m, 'p', x.p, 'a', x.a, 'n', (SELECT count(*) FROM ledger_transaction t
          WHERE t.member_id = x.m AND t.partner_id = x.p AND t.type = 'BONUS' AND t.bonus_action = x.a AND t.posted_at > x.s
            AND NOT EXISTS (SELECT 1 FROM ledger_transaction r WHERE r.member_id = t.member_id AND r.reverses_id = t.id))))
        FROM unnest($8::uuid[], $9::uuid[], $10::text[], $11::timestamptz[]) AS x(m, p, a, s)) AS bonuses,
      (SELECT json_agg(json_build_object('m', cm.member_id, 'c', cm.club_id, 's', cm.starts_at, 'e', cm.expires_at))
        FROM unnest($12::uuid[], $13::timestamptz[]) AS x(m, s)
        JOIN club_membership cm ON cm.member_id = x.m AND cm.club_id = ANY($14::uuid[]) AND cm.expires_at > x.s) AS memberships`,
    [query.counts.map((c) => c.memberId), query.counts.map((c) => c.partnerId),
      query.days.map((d) => d.memberId), query.days.map((d) => d.partnerId), query.days.map((d) => d.day.toISOString()),
      query.qualifying, query.asOf.toISOString(),
      query.bonuses.map((b) => b.memberId), query.bonuses.map((b) => b.partnerId), query.bonuses.map((b) => b.action), query.bonuses.map((b) => b.since.toISOString()),
      [...since.keys()], [...since.values()].map((d) => d.toISOString()), [...query.clubIds]]);
  const counts = new Map((row!.counts ?? []).map((c) => [`${c.m}|${c.p}`, { visits: Number(c.n), bonuses: Number(c.b) }]));
  const days = new Map((row!.days ?? []).map((d) => [`${d.m}|${d.p}|${new Date(d.d).toISOString()}`, Number(d.n)]));
  const qualifying = new Map((row!.qualifying ?? []).map((x) => [x.m, Number(x.n)]));
  const bonuses = new Map((row!.bonuses ?? []).map((b) => [`${b.m}|${b.p}|${b.a}`, Number(b.n)]));
  const periods = new Map<string, { club: string; startsAt: number; expiresAt: number }[]>();
  for (const p of row!.memberships ?? []) {
    periods.set(p.m, [...(periods.get(p.m) ?? []), { club: p.c, startsAt: new Date(p.s).getTime(), expiresAt: new Date(p.e).getTime() }]);
  }
  return {
    visits: (m, p) => counts.get(`${m}|${p}`)?.visits ?? 0,
    visitBonuses: (m, p) => counts.get(`${m}|${p}`)?.bonuses ?? 0,
    dayPoints: (m, p, d) => days.get(`${m}|${p}|${d.toISOString()}`) ?? 0,
    qualifyingPoints: (m) => qualifying.get(m) ?? 0,
    bonusCount: (m, p, a) => bonuses.get(`${m}|${p}|${a}`) ?? 0,
    clubsAt: (m, at) => [...new Set((periods.get(m) ?? []).filter((p) => p.startsAt <= at.getTime() && at.getTime() < p.expiresAt).map((p) => p.club))],
  };
}

export const NO_HISTORY_ROWS: History = {
  visits: () => 0, visitBonuses: () => 0, dayPoints: () => 0, qualifyingPoints: () => 0, bonusCount: () => 0, clubsAt: () => [],
};

/** The start of the UTC day of an instant. */
export function utcDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/** Tier qualification of many members now, in one query (DataLoader batch function). */
export async function loadQualifyingPoints(db: DataSource, memberIds: readonly string[]): Promise<number[]> {
  const found = await rows<{ m: string; n: string }>(db,
    `SELECT x.m, ${QUALIFYING_POINTS_SQL('x.m', 'now()')}::text AS n FROM unnest($1::uuid[]) AS x(m)`, [memberIds]);
  const byId = new Map(found.map((r) => [r.m, Number(r.n)]));
  return memberIds.map((id) => byId.get(id) ?? 0);
}
