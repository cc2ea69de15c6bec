import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, UserError, fail, ok, userError } from '../../api/errors';
import { Dec, MAX_INT32, formatRate, parseDecimal } from '../../common/decimal';
import { isUuid, uuidv7 } from '../../common/ids';
import { inTransaction, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { getCoalition } from '../coalition/coalition.service';
import { PartnerEntity } from '../partner/partner.entity';
import { toPartner } from '../partner/partner.service';
import { partnerListScope } from '../partner/partner-scope';
import { Partner } from '../partner/partner.types';
import { categoryKey, checkRate } from './earn-rule';
import { CreatePromotionInput, SetBonusLimitsInput } from './earning.inputs';
import { Promotion } from './earning.types';
import { PromotionEntity } from './promotion.entity';
import { loadClubs } from '../reward/club.service';

const MAX_BONUS_POINTS = 1_000_000_000;

export function toPromotion(row: PromotionEntity): Promotion {
  return {
    id: row.id, partnerId: row.partnerId, name: row.name, startsAt: row.startsAt, endsAt: row.endsAt,
    multiplier: row.multiplier === null ? null : formatRate(row.multiplier), bonusPoints: row.bonusPoints,
    categories: row.categories, tiers: row.tiers, clubs: row.clubs ?? [], minSpend: row.minSpend === null ? null : formatRate(row.minSpend),
  };
}

/** Every problem with a promotion; empty when it is valid. */
function validatePromotion(input: CreatePromotionInput, tierNames: string[], exponent: number): UserError[] {
  const errors: (UserError | undefined)[] = [];
  const path = ['input'];
  if (input.endsAt.getTime() <= input.startsAt.getTime()) errors.push(userError(ErrorCode.INVALID_INPUT, 'endsAt must be after startsAt', [...path, 'endsAt']));
  if (input.multiplier == null && input.bonusPoints == null) errors.push(userError(ErrorCode.INVALID_INPUT, 'A promotion needs a multiplier, bonus points or both', path));
  // A promotion never lowers what a purchase earns: a multiplier below 1 is a mistake.
  if (input.multiplier != null) errors.push(checkRate(input.multiplier, [...path, 'multiplier'], new Dec(1), new Dec(1000)));
  if (input.bonusPoints != null && (input.bonusPoints < 1 || input.bonusPoints > MAX_BONUS_POINTS)) {
    errors.push(userError(ErrorCode.INVALID_INPUT, `bonusPoints must be from 1 to ${MAX_BONUS_POINTS}`, [...path, 'bonusPoints']));
  }
  (input.categories ?? []).forEach((c, i) => {
    if (!c.trim()) errors.push(userError(ErrorCode.INVALID_INPUT, 'a category must not be empty', [...path, 'categories', String(i)]));
  });
  (input.tiers ?? []).forEach((t, i) => {
    if (!tierNames.includes(t)) errors.push(userError(ErrorCode.INVALID_INPUT, `${t} is not a tier of the coalition`, [...path, 'tiers', String(i)]));
  });
  if (input.minSpend != null) {
    const minSpend = parseDecimal(input.minSpend);
    if (!minSpend || minSpend.isNegative() || minSpend.decimalPlaces() > exponent) {
      errors.push(userError(ErrorCode.INVALID_INPUT, `minSpend must be a non-negative amount with at most ${exponent} decimal places`, [...path, 'minSpend']));
    }
  }
  return errors.filter((e): e is UserError => e !== undefined);
}

/** Categories trimmed, as given, once each by categoryKey ("Fuel" and "fuel" are one): the first spelling is kept. */
function uniqueCategories(categories: string[]): string[] {
  const byKey = new Map<string, string>();
  for (const c of categories) if (!byKey.has(categoryKey(c))) byKey.set(categoryKey(c), c.trim());
  return [...byKey.values()];
}

export async function createPromotion(ctx: RequestContext, input: CreatePromotionInput): Promise<Outcome<Promotion>> {
  const coalition = await getCoalition(ctx);
  const errors = validatePromotion(input, coalition.tiers.map((t) => t.name), coalition.currencyExponent);
  if (errors.length) return fail(...errors);
  if (!isUuid(input.partnerId) || !(await ctx.loaders.partner.load(input.partnerId))) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
  const clubErrors = await checkPromotionClubs(ctx, input.clubs ?? [], input.partnerId);
  if (clubErrors.length) return fail(...clubErrors);
  return inTransaction(ctx.db, async (q) => {
    const repo = q.manager.getRepository(PromotionEntity);
    const entity = repo.create({
      id: uuidv7(), partnerId: input.partnerId, name: input.name.trim(), startsAt: input.startsAt, endsAt: input.endsAt,
      multiplier: input.multiplier == null ? null : formatRate(input.multiplier), bonusPoints: input.bonusPoints ?? null,
      categories: uniqueCategories(input.categories ?? []), tiers: [...new Set(input.tiers ?? [])], clubs: [...new Set(input.clubs ?? [])],
      minSpend: input.minSpend == null ? null : new Dec(input.minSpend).toFixed(), createdAt: new Date(),
    });
    await repo.insert(entity);
    await audit(ctx, q, { action: 'promotion.created', subjectType: 'PROMOTION', subjectId: entity.id, partnerId: input.partnerId, input });
    return ok(toPromotion(entity));
  });
}

/** A promotion may be restricted to coalition clubs and the partner's own; any other id is NOT_FOUND. */
async function checkPromotionClubs(ctx: RequestContext, clubs: string[], partnerId: string): Promise<UserError[]> {
  const found = await loadClubs(ctx, clubs);
  return clubs.flatMap((id, i) => {
    const club = found.get(id);
    return club && (club.partner_id === null || club.partner_id === partnerId) ? [] : [userError(ErrorCode.NOT_FOUND, 'No such club', ['input', 'clubs', String(i)])];
  });
}

/** A partner's promotions, newest first: the operator's and that partner's view. */
export async function listPromotions(ctx: RequestContext, partnerId: string): Promise<Promotion[]> {
  const scope = partnerListScope(ctx);
  if (scope !== null && scope !== partnerId) return [];
  const found = await ctx.db.getRepository(PromotionEntity).find({ where: { partnerId }, order: { startsAt: 'DESC' }, take: 500 });
  return found.map(toPromotion);
}

/** Replaces a partner's action-bonus limits. */
export async function setBonusLimits(ctx: RequestContext, input: SetBonusLimitsInput): Promise<Outcome<Partner>> {
  const errors: UserError[] = [];
  const seen = new Set<string>();
  input.limits.forEach((limit, i) => {
    const field = ['input', 'limits', String(i)];
    if (seen.has(limit.action)) errors.push(userError(ErrorCode.INVALID_INPUT, `${limit.action} appears twice`, [...field, 'action']));
    seen.add(limit.action);
    if (limit.maxCount < 1 || limit.maxCount > MAX_INT32) errors.push(userError(ErrorCode.INVALID_INPUT, 'maxCount must be at least 1', [...field, 'maxCount']));
    if (limit.periodDays < 1 || limit.periodDays > 3650) errors.push(userError(ErrorCode.INVALID_INPUT, 'periodDays must be from 1 to 3650', [...field, 'periodDays']));
  });
  if (errors.length) return fail(...errors);
  if (!isUuid(input.partnerId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
  return inTransaction(ctx.db, async (q) => {
    const repo = q.manager.getRepository(PartnerEntity);
    const result = await repo.update({ id: input.partnerId }, { bonusLimits: input.limits.map((l) => ({ action: l.action, maxCount: l.maxCount, periodDays: l.periodDays })) });
    if (!result.affected) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
    await audit(ctx, q, { action: 'bonusLimits.set', subjectType: 'PARTNER', subjectId: input.partnerId, partnerId: input.partnerId, input });
    return ok(toPartner(await repo.findOneByOrFail({ id: input.partnerId })));
  });
}

/**
 * Points of lots that expire within `withinDays` from now. Lots already past expiry are gone (not in
 * the balance) whether or not the expiry job has reached them, so they are not "expiring".
 */
export async function expiringPoints(ctx: RequestContext, memberId: string, withinDays: number): Promise<number> {
  // Summed in 64 bits (one member's lots may together pass 2^31 - 1); the API's Int is then capped.
  const [row] = await rows<{ n: string }>(ctx.db,
    `SELECT COALESCE(sum(remaining), 0)::text AS n FROM lot WHERE member_id = $1 AND remaining > 0 AND expires_at > now() AND expires_at <= now() + make_interval(days => $2)`,
    [memberId, withinDays]);
  return Math.min(Number(row!.n), MAX_INT32);
}

/** The member's next expiry: the earliest expiry time after now of its open lots and the points that expire then. */
export async function nextExpiry(ctx: RequestContext, memberId: string): Promise<{ points: number; expiresAt: Date } | null> {
  const [row] = await rows<{ points: string; expires_at: Date }>(ctx.db,
    `SELECT sum(remaining)::text AS points, expires_at FROM lot WHERE member_id = $1 AND remaining > 0 AND expires_at > now()
     GROUP BY expires_at ORDER BY expires_at LIMIT 1`, [memberId]);
  return row ? { points: Math.min(Number(row.points), MAX_INT32), expiresAt: row.expires_at } : null;
}
