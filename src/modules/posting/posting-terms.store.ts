import { DataSource, QueryRunner } from 'typeorm';
import { Dec } from '../../common/decimal';
import { preparedRows, rows } from '../../db/transaction';
import { toCoalition } from '../coalition/coalition.loader';
import { Coalition } from '../coalition/coalition.types';
import type { ClubTerms, PartnerTerms, PostingTerms } from './posting.types';

export type { PartnerTerms };

export async function loadPartnerTerms(q: QueryRunner, ids: string[]): Promise<Map<string, PartnerTerms>> {
  if (!ids.length) return new Map();
  const found = await rows<PartnerTerms>(q, 'SELECT id, redemption_value_per_point, issuance_price_per_point, earn_rule, bonus_limits, commission_plan FROM partner WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(found.map((p) => [p.id, p]));
}

/**
 * What a posting reads before its transaction, in one round trip: the coalition settings, the
 * partners' terms, their promotions overlapping [from, to], the clubs that may count at them
 * (coalition clubs and their own: multipliers, club-only promotions), and which of the members are
 * referred, rewarded or not (their referrers must be locked too: a purchase may reward the referral,
 * a refund cancel it).
 */
export async function loadTerms(db: DataSource | QueryRunner, partnerIds: string[], memberIds: string[] = [],
  window: { from: Date; to: Date } = { from: new Date(), to: new Date() }, affiliateCodes: string[] = []): Promise<PostingTerms> {
  const [row] = await preparedRows<{ coalition: Record<string, unknown>; partners: PartnerTerms[] | null;
    promotions: Record<string, unknown>[] | null; clubs: { id: string; partner_id: string | null; name: string; earn_multiplier: string }[] | null;
    referrals: { id: string; referred_by_member_id: string; rewarded: boolean }[] | null;
    affiliates: { id: string; code: string }[] | null }>(db,
    `SELECT (SELECT row_to_json(c) FROM coalition c WHERE id = 1) AS coalition,
            (SELECT json_agg(p) FROM (SELECT id, redemption_value_per_point::text, issuance_price_per_point::text, earn_rule, bonus_limits, commission_plan FROM partner WHERE id = ANY($1::uuid[])) p) AS partners,
            (SELECT json_agg(x) FROM (SELECT id, partner_id, name, starts_at, ends_at, multiplier::text, bonus_points, categories, tiers, clubs, min_spend::text
              FROM promotion WHERE partner_id = ANY($1::uuid[]) AND ends_at > $3 AND starts_at <= $4) x) AS promotions,
            (SELECT json_agg(k) FROM (SELECT id, partner_id, name, earn_multiplier::text FROM club
              WHERE cardinality($1::uuid[]) > 0 AND (partner_id IS NULL OR partner_id = ANY($1::uuid[]))) k) AS clubs,
            (SELECT json_agg(r) FROM (SELECT id, referred_by_member_id, referral_rewarded_at IS NOT NULL AS rewarded FROM member
              WHERE id = ANY($2::uuid[]) AND referred_by_member_id IS NOT NULL) r) AS referrals,
            (SELECT json_agg(a) FROM (SELECT id, code FROM affiliate WHERE code = ANY($5::text[])) a) AS affiliates`,
    [partnerIds, memberIds, window.from.toISOString(), window.to.toISOString(), affiliateCodes]);
  const c = row!.coalition;
  const coalition = toCoalition({ name: c.name as string, currency: c.currency as string, currencyExponent: c.currency_exponent as number,
    donationValuePerPoint: String(c.donation_value_per_point), tiers: c.tiers as Coalition['tiers'], referral: c.referral as Coalition['referral'],
    maxBackdateDays: c.max_backdate_days as number, expiryReminderDays: c.expiry_reminder_days as number, settlementModel: c.settlement_model as Coalition['settlementModel'] });
  const trim = (v: unknown) => (v === null ? null : new Dec(v as string).toFixed());
  return {
    coalition,
    partners: new Map((row!.partners ?? []).map((p) => [p.id, p])),
    promotions: (row!.promotions ?? []).map((p) => ({
      id: p.id as string, partnerId: p.partner_id as string, name: p.name as string, startsAt: new Date(p.starts_at as string), endsAt: new Date(p.ends_at as string),
      multiplier: trim(p.multiplier), bonusPoints: p.bonus_points as number | null, categories: p.categories as string[], tiers: p.tiers as string[], minSpend: trim(p.min_spend),
      clubs: (p.clubs as string[] | null) ?? [],
    })),
    clubs: new Map((row!.clubs ?? []).map((c): [string, ClubTerms] => [c.id, { id: c.id, partnerId: c.partner_id, name: c.name, earnMultiplier: new Dec(c.earn_multiplier).toFixed() }])),
    referrers: new Map((row!.referrals ?? []).filter((r) => !r.rewarded).map((r) => [r.id, r.referred_by_member_id])),
    rewardedReferrers: new Map((row!.referrals ?? []).filter((r) => r.rewarded).map((r) => [r.id, r.referred_by_member_id])),
    affiliates: new Map((row!.affiliates ?? []).map((a) => [a.code, a.id])),
  };
}
