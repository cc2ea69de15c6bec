import type { RequestContext } from '../../api/context';
import { Dec, toMoney } from '../../common/decimal';
import { rows } from '../../db/transaction';
import { getCoalition } from '../coalition/coalition.service';
import { operatorEconomics } from './operator-economics.rules';
import { OperatorEconomics } from './report.types';

const YEAR_MS = 365 * 86_400_000;

/**
 * The operator's economics for [periodStart, periodEnd) of posting time (docs/rules.md, Operator
 * economics), in either settlement model: its obligation lines of the period (as a settlement run
 * of that period groups and rounds them), breakage in the period with the issuance price it was
 * bought at, and the liability at the period's end (at `now` when the end is in the future) valued
 * at the trailing 365 days' volume-weighted redemption value, with the trailing breakage rate
 * applied to it. All sums in PostgreSQL, one read-only snapshot; the arithmetic is
 * operator-economics.rules.ts.
 */
export async function getOperatorEconomics(ctx: RequestContext, start: Date, end: Date): Promise<OperatorEconomics> {
  const coalition = await getCoalition(ctx);
  const now = new Date();
  const asOf = end.getTime() < now.getTime() ? end : now;
  const since = new Date(asOf.getTime() - YEAR_MS);
  const [row] = await rows<{
    lines: { kind: string; receives: boolean; exact: string }[] | null; breakage_points: string; breakage_exact: string; outstanding: string;
    redeemed_points: string; redeemed_exact: string; fallback: string; expired_points: string; used_points: string;
  }>(ctx.db, `
    WITH line AS (
      SELECT kind, payee_type = 'OPERATOR' AS receives, sum(COALESCE(value_minor::numeric / $5, points * rate))::text AS exact
      FROM obligation WHERE posted_at >= $1 AND posted_at < $2 AND (payer_type = 'OPERATOR' OR payee_type = 'OPERATOR')
      GROUP BY kind, payer_type, payer_id, payee_type, payee_id),
    breakage AS (
      SELECT COALESCE(-sum(mv.points), 0)::text AS points, COALESCE(-sum(mv.points * COALESCE(i.rate, 0)), 0)::text AS exact
      FROM ledger_transaction t
      JOIN lot_movement mv ON mv.member_id = t.member_id AND mv.transaction_id = t.id
      JOIN lot l ON l.member_id = mv.member_id AND l.id = mv.lot_id
      LEFT JOIN LATERAL (SELECT o.rate FROM obligation o WHERE o.member_id = l.member_id AND o.transaction_id = l.transaction_id
        AND o.kind = 'ISSUANCE' AND o.points > 0 LIMIT 1) i ON true
      WHERE t.type = 'EXPIRY' AND t.posted_at >= $1 AND t.posted_at < $2),
    redeemed AS (
      SELECT COALESCE(-sum(t.points), 0)::text AS points, COALESCE(-sum(t.points * COALESCE(r.rate, p.redemption_value_per_point)), 0)::text AS exact
      FROM ledger_transaction t JOIN partner p ON p.id = t.partner_id
      LEFT JOIN LATERAL (SELECT max(o.rate) AS rate FROM obligation o WHERE o.member_id = t.member_id AND o.transaction_id = t.id AND o.kind = 'REDEMPTION') r ON true
      WHERE t.type = 'REDEMPTION' AND t.posted_at >= $3 AND t.posted_at < $4
        AND NOT EXISTS (SELECT 1 FROM ledger_transaction x WHERE x.member_id = t.member_id AND x.reverses_id = t.id)),
    left_members AS (
      SELECT COALESCE(sum(CASE WHEN t.type = 'EXPIRY' THEN -t.points ELSE 0 END), 0)::text AS expired,
        COALESCE(sum(CASE WHEN t.type IN ('REDEMPTION', 'REWARD', 'DONATION') OR o.type IN ('REDEMPTION', 'REWARD') THEN -t.points ELSE 0 END), 0)::text AS used
      FROM ledger_transaction t LEFT JOIN ledger_transaction o ON t.type = 'REVERSAL' AND o.member_id = t.member_id AND o.id = t.reverses_id
      WHERE t.type IN ('EXPIRY', 'REDEMPTION', 'REWARD', 'DONATION', 'REVERSAL') AND t.posted_at >= $3 AND t.posted_at < $4)
    SELECT (SELECT json_agg(line) FROM line) AS lines,
      (SELECT points FROM breakage) AS breakage_points, (SELECT exact FROM breakage) AS breakage_exact,
      (CASE WHEN $6::boolean
        THEN (SELECT COALESCE(sum(remaining), 0) FROM lot WHERE remaining > 0 AND expires_at > $4)
        ELSE (SELECT COALESCE(sum(l.points + COALESCE((SELECT sum(mv.points) FROM lot_movement mv JOIN ledger_transaction t
                ON t.member_id = mv.member_id AND t.id = mv.transaction_id WHERE mv.member_id = l.member_id AND mv.lot_id = l.id AND t.posted_at < $4), 0)), 0)
              FROM lot l WHERE l.created_at < $4 AND l.expires_at > $4) END)::text AS outstanding,
      (SELECT points FROM redeemed) AS redeemed_points, (SELECT exact FROM redeemed) AS redeemed_exact,
      (SELECT COALESCE(max(redemption_value_per_point), 0)::text FROM partner) AS fallback,
      (SELECT expired FROM left_members) AS expired_points, (SELECT used FROM left_members) AS used_points`,
  [start, end, since, asOf, 10 ** coalition.currencyExponent, asOf === now]);
  const r = row!;
  const e = operatorEconomics({
    lines: (r.lines ?? []).map((l) => ({ kind: l.kind, operatorReceives: l.receives, exact: new Dec(l.exact) })),
    breakagePoints: BigInt(r.breakage_points), breakageExact: new Dec(r.breakage_exact), outstandingPoints: BigInt(r.outstanding),
    trailingRedeemedPoints: BigInt(r.redeemed_points), trailingRedeemedExact: new Dec(r.redeemed_exact), fallbackValuePerPoint: new Dec(r.fallback),
    trailingExpiredPoints: BigInt(r.expired_points), trailingUsedPoints: BigInt(r.used_points),
  }, coalition.currencyExponent);
  const money = (minor: bigint) => toMoney(minor, coalition);
  return {
    periodStart: start, periodEnd: end, settlementModel: coalition.settlementModel, liabilityAsOf: asOf,
    issuanceRevenue: money(e.issuanceRevenueMinor), redemptionCost: money(e.redemptionCostMinor), rewardCost: money(e.rewardCostMinor),
    donationCost: money(e.donationCostMinor), breakagePoints: e.breakagePoints, breakageValue: money(e.breakageValueMinor), margin: money(e.marginMinor),
    outstandingPoints: e.outstandingPoints, liability: money(e.liabilityMinor), breakageEstimate: money(e.breakageEstimateMinor),
    liabilityValuePerPoint: e.liabilityValuePerPoint.toDecimalPlaces(6, Dec.ROUND_HALF_UP).toFixed(),
    trailingBreakageRate: e.trailingBreakageRate.toDecimalPlaces(6, Dec.ROUND_HALF_UP).toFixed(),
  };
}
