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
 * partners' terms, their promotions that may still count (ending after the coalition's backdating
 * limit, a day of margin: the earn step picks those running at each purchase's occurredAt), the
 * clubs that may count at them (coalition clubs and their own: multipliers, club-only promotions),
 * the affiliates of the given codes, and the terms' version (`terms_version`, bumped by every change
 * to those rows). Referred members and their referrers are not terms: the posting's lock statement
 * reads them (the runner fills `referrers` / `rewardedReferrers`).
 */
export async function loadTerms(db: DataSource | QueryRunner, partnerIds: string[], affiliateCodes: string[] = []): Promise<PostingTerms> {
  const [row] = await preparedRows<{ coalition: Record<string, unknown>; partners: PartnerTerms[] | null;
    promotions: Record<string, unknown>[] | null; clubs: { id: string; partner_id: string | null; name: string; earn_multiplier: string }[] | null;
    affiliates: { id: string; code: string }[] | null; version: string }>(db,
    `SELECT (SELECT row_to_json(c) FROM coalition c WHERE id = 1) AS coalition,
            (SELECT json_agg(p) FROM (SELECT id, redemption_value_per_point::text, issuance_price_per_point::text, earn_rule, bonus_limits, commission_plan FROM partner WHERE id = ANY($1::uuid[])) p) AS partners,
            (SELECT json_agg(x) FROM (SELECT id, partner_id, name, starts_at, ends_at, multiplier::text, bonus_points, categories, tiers, clubs, min_spend::text
              FROM promotion WHERE partner_id = ANY($1::uuid[])
                AND ends_at > now() - make_interval(days => (SELECT max_backdate_days + 1 FROM coalition WHERE id = 1))) x) AS promotions,
            (SELECT json_agg(k) FROM (SELECT id, partner_id, name, earn_multiplier::text FROM club
              WHERE cardinality($1::uuid[]) > 0 AND (partner_id IS NULL OR partner_id = ANY($1::uuid[]))) k) AS clubs,
            (SELECT json_agg(a) FROM (SELECT id, code FROM affiliate WHERE code = ANY($2::text[])) a) AS affiliates,
            (SELECT version::text FROM terms_version WHERE id = 1) AS version`,
    [partnerIds, affiliateCodes]);
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
    referrers: new Map(),
    rewardedReferrers: new Map(),
    affiliates: new Map((row!.affiliates ?? []).map((a) => [a.code, a.id])),
    version: row!.version,
  };
}

/** Terms kept between postings, per data source, by partners and affiliate codes; at most this many sets (the least recently used goes). */
const KEPT_TERMS_MAX = 256;
const keptTerms = new WeakMap<DataSource, Map<string, PostingTerms>>();

/**
 * The terms for these partners and codes as loadTerms reads them, kept from an earlier posting when
 * there is one (`kept: true`): the caller must then have the posting's lock statement confirm the
 * version (RunOptions.termsVersion) and, when it differs, forget them (forgetTerms) and post again on
 * fresh terms. What is kept is never changed: the runner works on its own copy.
 */
export async function keptOrLoadedTerms(db: DataSource, partnerIds: string[], affiliateCodes: string[] = []): Promise<{ terms: PostingTerms; kept: boolean }> {
  const key = termsKey(partnerIds, affiliateCodes);
  const all = keptTerms.get(db);
  const kept = all?.get(key);
  if (kept) {
    // Least recently used goes first when the map is full: a hit moves to the end.
    all!.delete(key);
    all!.set(key, kept);
    return { terms: kept, kept: true };
  }
  return { terms: await loadAndKeep(db, partnerIds, affiliateCodes), kept: false };
}

/** Loads the terms afresh and keeps them for the next posting (replacing what was kept). */
export async function loadAndKeep(db: DataSource, partnerIds: string[], affiliateCodes: string[] = []): Promise<PostingTerms> {
  const terms = await loadTerms(db, partnerIds, affiliateCodes);
  // Without a version (its row missing) nothing could tell these terms stale: they are not kept.
  if (terms.version == null) return terms;
  let kept = keptTerms.get(db);
  if (!kept) keptTerms.set(db, (kept = new Map()));
  if (kept.size >= KEPT_TERMS_MAX) kept.delete(kept.keys().next().value!);
  kept.set(termsKey(partnerIds, affiliateCodes), terms);
  return terms;
}

function termsKey(partnerIds: string[], affiliateCodes: string[]): string {
  return `${[...partnerIds].sort().join(',')}|${[...affiliateCodes].sort().join(',')}`;
}
