import { DataSource, QueryRunner } from 'typeorm';
import { preparedRows, rows } from '../../db/transaction';
import { TIER_WINDOW_DAYS } from './tier.rules';

/**
 * What the earn rules need of a member's past, read from the ledger itself after the member is
 * locked (so nothing a concurrent posting committed is missed): purchases at a partner (first
 * purchase, punch card), points earned at a partner on a UTC day (day cap), purchase points in the
 * trailing tier window, whether the member ever purchased (referral), and recent action bonuses.
 */
export interface HistoryQuery {
  /** (member, partner) pairs whose purchase count is needed. */
  counts: { memberId: string; partnerId: string }[];
  /** (member, partner, UTC day start) triples whose earned points are needed. */
  days: { memberId: string; partnerId: string; day: Date }[];
  /** Members whose tier qualification is needed. */
  qualifying: string[];
  /** Members for whom it matters whether they ever purchased. */
  purchased: string[];
  /** (member, partner, action, since) whose bonus count is needed. */
  bonuses: { memberId: string; partnerId: string; action: string; since: Date }[];
  asOf: Date;
}

export interface History {
  purchases(memberId: string, partnerId: string): number;
  dayPoints(memberId: string, partnerId: string, day: Date): number;
  qualifyingPoints(memberId: string): number;
  hasPurchased(memberId: string): boolean;
  bonusCount(memberId: string, partnerId: string, action: string): number;
}

export function isEmpty(query: HistoryQuery): boolean {
  return !query.counts.length && !query.days.length && !query.qualifying.length && !query.purchased.length && !query.bonuses.length;
}

/**
 * Purchase points in the tier window, net of refunds: the SQL both the posting and the expiry job use.
 * A refund counts with its purchase: one of a purchase already outside the window takes nothing off.
 */
export const QUALIFYING_POINTS_SQL = (member: string, asOf: string) => `COALESCE((SELECT sum(t.points) FROM ledger_transaction t
  LEFT JOIN ledger_transaction o ON o.member_id = t.member_id AND o.id = t.reverses_id
  WHERE t.member_id = ${member} AND t.posted_at <= ${asOf}
    AND ((t.type = 'PURCHASE' AND t.posted_at > ${asOf} - interval '${TIER_WINDOW_DAYS} days')
      OR (t.type = 'REVERSAL' AND o.type = 'PURCHASE' AND o.posted_at > ${asOf} - interval '${TIER_WINDOW_DAYS} days'))), 0)::int`;

export async function loadHistory(q: QueryRunner, query: HistoryQuery): Promise<History> {
  const [row] = await preparedRows<{ counts: { m: string; p: string; n: number }[] | null; days: { m: string; p: string; d: string; n: number }[] | null;
    qualifying: { m: string; n: number }[] | null; purchased: string[] | null; bonuses: { m: string; p: string; a: string; n: number }[] | null }>(q,
    `SELECT
      (SELECT json_agg(json_build_object('m', x.m, 'p', x.p, 'n', (SELECT count(*) FROM ledger_transaction t
          WHERE t.member_id = x.m AND t.partner_id = x.p AND t.type = 'PURCHASE'))) FROM unnest($1::uuid[], $2::uuid[]) AS x(m, p)) AS counts,
      (SELECT json_agg(json_build_object('m', x.m, 'p', x.p, 'd', x.d, 'n', (SELECT COALESCE(sum(t.points), 0) FROM ledger_transaction t
          WHERE t.member_id = x.m AND t.partner_id = x.p AND t.type = 'PURCHASE' AND t.occurred_at >= x.d AND t.occurred_at < x.d + interval '1 day')))
        FROM unnest($3::uuid[], $4::uuid[], $5::timestamptz[]) AS x(m, p, d)) AS days,
      (SELECT json_agg(json_build_object('m', x.m, 'n', ${QUALIFYING_POINTS_SQL('x.m', '$8::timestamptz')})) FROM unnest($6::uuid[]) AS x(m)) AS qualifying,
      (SELECT json_agg(x.m) FROM unnest($7::uuid[]) AS x(m) WHERE EXISTS (SELECT 1 FROM ledger_transaction t WHERE t.member_id = x.m AND t.type = 'PURCHASE')) AS purchased,
      (SELECT json_agg(json_build_object('m', x.m, 'p', x.p, 'a', x.a, 'n', (SELECT count(*) FROM ledger_transaction t
          WHERE t.member_id = x.m AND t.partner_id = x.p AND t.type = 'BONUS' AND t.bonus_action = x.a AND t.posted_at > x.s
            AND NOT EXISTS (SELECT 1 FROM ledger_transaction r WHERE r.member_id = t.member_id AND r.reverses_id = t.id))))
        FROM unnest($9::uuid[], $10::uuid[], $11::text[], $12::timestamptz[]) AS x(m, p, a, s)) AS bonuses`,
    [query.counts.map((c) => c.memberId), query.counts.map((c) => c.partnerId),
      query.days.map((d) => d.memberId), query.days.map((d) => d.partnerId), query.days.map((d) => d.day.toISOString()),
      query.qualifying, query.purchased, query.asOf.toISOString(),
      query.bonuses.map((b) => b.memberId), query.bonuses.map((b) => b.partnerId), query.bonuses.map((b) => b.action), query.bonuses.map((b) => b.since.toISOString())]);
  const counts = new Map((row!.counts ?? []).map((c) => [`${c.m}|${c.p}`, Number(c.n)]));
  const days = new Map((row!.days ?? []).map((d) => [`${d.m}|${d.p}|${new Date(d.d).toISOString()}`, Number(d.n)]));
  const qualifying = new Map((row!.qualifying ?? []).map((x) => [x.m, Number(x.n)]));
  const purchased = new Set(row!.purchased ?? []);
  const bonuses = new Map((row!.bonuses ?? []).map((b) => [`${b.m}|${b.p}|${b.a}`, Number(b.n)]));
  return {
    purchases: (m, p) => counts.get(`${m}|${p}`) ?? 0,
    dayPoints: (m, p, d) => days.get(`${m}|${p}|${d.toISOString()}`) ?? 0,
    qualifyingPoints: (m) => qualifying.get(m) ?? 0,
    hasPurchased: (m) => purchased.has(m),
    bonusCount: (m, p, a) => bonuses.get(`${m}|${p}|${a}`) ?? 0,
  };
}

export const NO_HISTORY_ROWS: History = {
  purchases: () => 0, dayPoints: () => 0, qualifyingPoints: () => 0, hasPurchased: () => false, bonusCount: () => 0,
};

/** The start of the UTC day of an instant. */
export function utcDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/** Tier qualification of many members now, in one query (DataLoader batch function). */
export async function loadQualifyingPoints(db: DataSource, memberIds: readonly string[]): Promise<number[]> {
  const found = await rows<{ m: string; n: number }>(db,
    `SELECT x.m, ${QUALIFYING_POINTS_SQL('x.m', 'now()')} AS n FROM unnest($1::uuid[]) AS x(m)`, [memberIds]);
  const byId = new Map(found.map((r) => [r.m, r.n]));
  return memberIds.map((id) => byId.get(id) ?? 0);
}
