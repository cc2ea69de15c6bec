import type { RequestContext } from '../../api/context';
import { Dec, toMoney } from '../../common/decimal';
import { rows } from '../../db/transaction';
import { getCoalition } from '../coalition/coalition.service';
import { partnerListScope } from '../partner/partner-scope';
import { roundToMinor } from '../settlement/settlement.rules';
import { OPERATOR_PARTY_ID, PartyType } from '../settlement/settlement.types';
import { Liability, PartnerStats } from './report.types';

/** Active: a purchase, redemption or reward claim at the partner within this many days before the period's end. */
export const ACTIVE_DAYS = 90;

function ratio(numerator: bigint, denominator: bigint): string {
  return denominator === 0n ? '0' : new Dec(numerator.toString()).div(denominator.toString()).toDecimalPlaces(4, Dec.ROUND_HALF_UP).toFixed();
}

/**
 * Figures for each partner in [start, end), all computed in PostgreSQL (GROUP BY over the ledger),
 * scoped inside the query: a partner gets its own row only. Claims of the partner's rewards (REWARD
 * transactions) count like redemptions: in activity, retention, pointsRedeemed (net of returned
 * claims) and the redemption rate; rewardClaims, pointsClaimed, vouchersRedeemed (at its till, in
 * the period) and outstandingVouchers (ISSUED and unexpired, now) show them apart.
 */
export async function partnerStats(ctx: RequestContext, start: Date, end: Date, partnerId?: string): Promise<PartnerStats[]> {
  const scope = partnerListScope(ctx);
  const coalition = await getCoalition(ctx);
  const previousStart = new Date(start.getTime() - (end.getTime() - start.getTime()));
  const found = await rows<{ id: string; code: string; name: string; rate: string; linked: number; active: number; issued: string; reversed: string; redeemed: string;
    expired: string; outstanding: string; donated: string; retained: number; previous: number;
    claims: number; claimed: string; vouchers_redeemed: number; vouchers_outstanding: number }>(ctx.db, `
    SELECT p.id, p.code, p.name, p.redemption_value_per_point::text AS rate,
      (SELECT count(*) FROM member_partner_link l WHERE l.partner_id = p.id AND l.linked_at < $2)::int AS linked,
      (SELECT count(DISTINCT t.member_id) FROM ledger_transaction t WHERE t.partner_id = p.id AND t.type IN ('PURCHASE', 'REDEMPTION', 'REWARD')
        AND t.posted_at >= $2::timestamptz - interval '${ACTIVE_DAYS} days' AND t.posted_at < $2)::int AS active,
      (SELECT COALESCE(sum(t.points), 0) FROM ledger_transaction t WHERE t.partner_id = p.id AND t.type IN ('PURCHASE', 'BONUS')
        AND t.posted_at >= $1 AND t.posted_at < $2)::text AS issued,
      (SELECT COALESCE(-sum(t.points), 0) FROM ledger_transaction t JOIN ledger_transaction o ON o.member_id = t.member_id AND o.id = t.reverses_id
        WHERE t.partner_id = p.id AND t.type = 'REVERSAL' AND o.type IN ('PURCHASE', 'BONUS') AND t.posted_at >= $1 AND t.posted_at < $2)::text AS reversed,
      (SELECT COALESCE(-sum(t.points), 0) FROM ledger_transaction t LEFT JOIN ledger_transaction o ON o.member_id = t.member_id AND o.id = t.reverses_id
        WHERE t.partner_id = p.id AND (t.type IN ('REDEMPTION', 'REWARD') OR (t.type = 'REVERSAL' AND o.type IN ('REDEMPTION', 'REWARD'))) AND t.posted_at >= $1 AND t.posted_at < $2)::text AS redeemed,
      (SELECT count(*) FROM ledger_transaction t WHERE t.partner_id = p.id AND t.type = 'REWARD' AND t.posted_at >= $1 AND t.posted_at < $2)::int AS claims,
      (SELECT COALESCE(-sum(t.points), 0) FROM ledger_transaction t LEFT JOIN ledger_transaction o ON o.member_id = t.member_id AND o.id = t.reverses_id
        WHERE t.partner_id = p.id AND (t.type = 'REWARD' OR (t.type = 'REVERSAL' AND o.type = 'REWARD')) AND t.posted_at >= $1 AND t.posted_at < $2)::text AS claimed,
      (SELECT count(*) FROM voucher v JOIN reward r ON r.id = v.reward_id
        WHERE r.partner_id = p.id AND v.state = 'REDEEMED' AND v.redeemed_at >= $1 AND v.redeemed_at < $2)::int AS vouchers_redeemed,
      (SELECT count(*) FROM voucher v JOIN reward r ON r.id = v.reward_id
        WHERE r.partner_id = p.id AND v.state = 'ISSUED' AND v.expires_at > now())::int AS vouchers_outstanding,
      (SELECT COALESCE(-sum(mv.points), 0) FROM lot_movement mv
        JOIN ledger_transaction t ON t.member_id = mv.member_id AND t.id = mv.transaction_id AND t.type = 'EXPIRY'
        JOIN lot ON lot.member_id = mv.member_id AND lot.id = mv.lot_id
        WHERE lot.issuer_id = p.id AND t.posted_at >= $1 AND t.posted_at < $2)::text AS expired,
      (SELECT COALESCE(sum(lot.remaining), 0) FROM lot WHERE lot.issuer_id = p.id AND lot.remaining > 0 AND lot.expires_at > now())::text AS outstanding,
      (SELECT COALESCE(sum(o.points), 0) FROM obligation o WHERE o.kind = 'DONATION' AND o.payer_id = p.id AND o.posted_at >= $1 AND o.posted_at < $2)::text AS donated,
      (SELECT count(*) FROM (
        SELECT t.member_id FROM ledger_transaction t WHERE t.partner_id = p.id AND t.type IN ('PURCHASE', 'REDEMPTION', 'REWARD') AND t.posted_at >= $1 AND t.posted_at < $2
        INTERSECT
        SELECT t.member_id FROM ledger_transaction t WHERE t.partner_id = p.id AND t.type IN ('PURCHASE', 'REDEMPTION', 'REWARD') AND t.posted_at >= $3 AND t.posted_at < $1) r)::int AS retained,
      (SELECT count(DISTINCT t.member_id) FROM ledger_transaction t WHERE t.partner_id = p.id AND t.type IN ('PURCHASE', 'REDEMPTION', 'REWARD')
        AND t.posted_at >= $3 AND t.posted_at < $1)::int AS previous
    FROM partner p
    WHERE ($4::uuid IS NULL OR p.id = $4) AND ($5::uuid IS NULL OR p.id = $5)
    ORDER BY p.code`, [start, end, previousStart, scope, partnerId ?? null]);
  return found.map((r) => {
    const issued = BigInt(r.issued);
    const outstanding = BigInt(r.outstanding);
    return {
      partner: { id: r.id, code: r.code, name: r.name }, periodStart: start, periodEnd: end,
      membersLinked: r.linked, activeMembers: r.active, pointsIssued: issued, pointsReversed: BigInt(r.reversed), pointsRedeemed: BigInt(r.redeemed),
      pointsExpired: BigInt(r.expired), pointsDonated: BigInt(r.donated), outstandingPoints: outstanding,
      outstandingValue: toMoney(roundToMinor(new Dec(r.rate).times(r.outstanding), coalition.currencyExponent), coalition),
      breakageRate: ratio(BigInt(r.expired), issued), redemptionRate: ratio(BigInt(r.redeemed), issued),
      retainedMembers: r.retained, retention: ratio(BigInt(r.retained), BigInt(r.previous)),
      rewardClaims: r.claims, pointsClaimed: BigInt(r.claimed), vouchersRedeemed: r.vouchers_redeemed, outstandingVouchers: r.vouchers_outstanding,
    };
  });
}

/** Outstanding liability by issuer (the operator's view): unexpired remaining points and their money value. */
export async function liabilities(ctx: RequestContext): Promise<Liability[]> {
  const coalition = await getCoalition(ctx);
  const found = await rows<{ issuer_id: string | null; name: string | null; rate: string | null; points: string }>(ctx.db, `
    SELECT lot.issuer_id, p.name, p.redemption_value_per_point::text AS rate, sum(lot.remaining)::text AS points
    FROM lot LEFT JOIN partner p ON p.id = lot.issuer_id
    WHERE lot.remaining > 0 AND lot.expires_at > now()
    GROUP BY lot.issuer_id, p.name, p.redemption_value_per_point ORDER BY p.name NULLS FIRST`);
  return found.map((r) => {
    const rate = r.rate ?? coalition.donationValuePerPoint;
    const minor = roundToMinor(new Dec(rate).times(r.points), coalition.currencyExponent);
    return {
      issuer: r.issuer_id ? { type: PartyType.PARTNER, id: r.issuer_id, name: r.name ?? r.issuer_id } : { type: PartyType.OPERATOR, id: OPERATOR_PARTY_ID, name: coalition.name },
      points: BigInt(r.points),
      value: toMoney(minor, coalition),
    };
  });
}
