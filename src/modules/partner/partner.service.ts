import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, UserError, fail, ok, userError } from '../../api/errors';
import { Dec, formatRate } from '../../common/decimal';
import { canonicalCode } from '../../common/codes';
import { isUuid, uuidv7 } from '../../common/ids';
import { invisibleCharacter } from '../../common/text';
import { Connection, DEFAULT_PAGE_SIZE, PageArgs, decodeCursor, toConnection } from '../../common/pagination';
import { inTransaction, isUniqueViolation } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { getCoalition } from '../coalition/coalition.service';
import { DEFAULT_POINTS_VALIDITY_DAYS, EarnRule, checkRate, validateEarnRule } from '../earning/earn-rule';
import { PartnerEntity } from './partner.entity';
import { CommissionPlanInput, CreatePartnerInput, EarnRuleInput, UpdateEarnRuleInput, UpdatePartnerTermsInput } from './partner.inputs';
import { CommissionPlan, CommissionPlanType, Partner } from './partner.types';

export function toPartner(row: PartnerEntity): Partner {
  // Rules stored before pendingDays existed have no return window.
  return { ...row, redemptionValuePerPoint: formatRate(row.redemptionValuePerPoint), issuancePricePerPoint: formatRate(row.issuancePricePerPoint),
    earnRule: { ...row.earnRule, pendingDays: row.earnRule.pendingDays ?? 0 } };
}

/** A partner's money per point (redemption value, issuance price): 0 to 1000 with at most 6 decimal places. */
const MAX_MONEY_PER_POINT = new Dec(1000);

function toEarnRule(input: EarnRuleInput): EarnRule {
  return {
    pointsPerUnit: formatRate(input.pointsPerUnit),
    minSpend: input.minSpend == null ? null : new Dec(input.minSpend).toFixed(),
    categoryMultipliers: (input.categoryMultipliers ?? []).map((c) => ({ category: c.category.trim(), multiplier: formatRate(c.multiplier) })),
    maxPointsPerTransaction: input.maxPointsPerTransaction ?? null,
    maxPointsPerMemberPerDay: input.maxPointsPerMemberPerDay ?? null,
    firstPurchaseBonus: input.firstPurchaseBonus ?? null,
    everyNthVisit: input.everyNthVisit ?? null,
    visitBonus: input.visitBonus ?? null,
    pointsValidityDays: input.pointsValidityDays ?? DEFAULT_POINTS_VALIDITY_DAYS,
    pendingDays: input.pendingDays ?? 0,
  };
}

export function toCommissionPlan(input: CommissionPlanInput): CommissionPlan {
  return {
    type: input.type,
    rate: input.rate == null ? null : formatRate(input.rate),
    amount: input.amount == null ? null : new Dec(input.amount).toFixed(),
    durationDays: input.durationDays ?? null,
    holdDays: input.holdDays,
  };
}

export function validateCommissionPlan(plan: CommissionPlan, exponent: number, path: string[]): UserError[] {
  const errors: (UserError | undefined)[] = [];
  if (plan.type === CommissionPlanType.PERCENT_OF_SALE) {
    if (plan.rate === null) errors.push(userError(ErrorCode.INVALID_INPUT, 'PERCENT_OF_SALE needs a rate', [...path, 'rate']));
    else errors.push(checkRate(plan.rate, [...path, 'rate'], new Dec(0), new Dec(1), true));
  } else if (plan.amount === null || new Dec(plan.amount).lte(0) || new Dec(plan.amount).decimalPlaces() > exponent) {
    errors.push(userError(ErrorCode.INVALID_INPUT, `FIXED_FIRST_PURCHASE needs a positive amount with at most ${exponent} decimal places`, [...path, 'amount']));
  }
  if (plan.durationDays !== null && (plan.durationDays < 1 || plan.durationDays > 3650)) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'durationDays must be from 1 to 3650, or null for lifetime', [...path, 'durationDays']));
  }
  if (plan.holdDays < 0 || plan.holdDays > 365) errors.push(userError(ErrorCode.INVALID_INPUT, 'holdDays must be from 0 to 365', [...path, 'holdDays']));
  return errors.filter((e): e is UserError => e !== undefined);
}

export async function createPartner(ctx: RequestContext, input: CreatePartnerInput): Promise<Outcome<Partner>> {
  const { currencyExponent } = await getCoalition(ctx);
  const earnRule = toEarnRule(input.earnRule);
  const commissionPlan = input.commissionPlan ? toCommissionPlan(input.commissionPlan) : null;
  const errors = [
    ...validateEarnRule(earnRule, currencyExponent, ['input', 'earnRule']),
    ...(commissionPlan ? validateCommissionPlan(commissionPlan, currencyExponent, ['input', 'commissionPlan']) : []),
  ];
  const code = input.code.trim();
  const codeKey = canonicalCode(code);
  const invisible = invisibleCharacter(input.code);
  if (invisible) errors.push(userError(ErrorCode.INVALID_INPUT, `code contains an invisible or direction-changing character (${invisible})`, ['input', 'code']));
  else if (!codeKey || !/^[A-Z0-9]{2,40}$/.test(codeKey) || !/^[A-Za-z0-9]([A-Za-z0-9 -]*[A-Za-z0-9])?$/.test(code)) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'code must be 2 to 40 letters or digits (dashes and spaces allowed between them)', ['input', 'code']));
  }
  const rateError = checkRate(input.redemptionValuePerPoint, ['input', 'redemptionValuePerPoint'], new Dec(0), MAX_MONEY_PER_POINT);
  if (rateError) errors.push(rateError);
  const priceError = input.issuancePricePerPoint == null ? undefined
    : checkRate(input.issuancePricePerPoint, ['input', 'issuancePricePerPoint'], new Dec(0), MAX_MONEY_PER_POINT);
  if (priceError) errors.push(priceError);
  if (errors.length) return fail(...errors);
  const codeTaken = fail(userError(ErrorCode.INVALID_INPUT, `A partner with code ${code} exists already (codes are matched ignoring case, spaces and dashes)`, ['input', 'code']));
  try {
    return await inTransaction(ctx.db, async (q) => {
      const repo = q.manager.getRepository(PartnerEntity);
      if (await repo.existsBy({ codeKey })) return codeTaken;
      const entity = repo.create({
        id: uuidv7(),
        code,
        codeKey,
        name: input.name.trim(),
        redemptionValuePerPoint: formatRate(input.redemptionValuePerPoint),
        // Default: the partner buys its points at what it is paid to redeem them (docs/rules.md, Redemption and settlement).
        issuancePricePerPoint: formatRate(input.issuancePricePerPoint ?? input.redemptionValuePerPoint),
        earnRule,
        commissionPlan,
        createdAt: new Date(),
      });
      await repo.insert(entity);
      await audit(ctx, q, { action: 'partner.created', subjectType: 'PARTNER', subjectId: entity.id, partnerId: entity.id, input });
      return ok(toPartner(entity));
    });
  } catch (error) {
    if (isUniqueViolation(error, 'UQ_partner_code_key') || isUniqueViolation(error, 'UQ_partner_code')) return codeTaken;
    throw error;
  }
}

/** Replaces a partner's earn rule; purchases posted from now on earn under the new one. */
export async function updateEarnRule(ctx: RequestContext, input: UpdateEarnRuleInput): Promise<Outcome<Partner>> {
  const { currencyExponent } = await getCoalition(ctx);
  const earnRule = toEarnRule(input.earnRule);
  const errors = validateEarnRule(earnRule, currencyExponent, ['input', 'earnRule']);
  if (errors.length) return fail(...errors);
  if (!isUuid(input.partnerId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
  return inTransaction(ctx.db, async (q) => {
    const repo = q.manager.getRepository(PartnerEntity);
    const result = await repo.update({ id: input.partnerId }, { earnRule });
    if (!result.affected) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
    await audit(ctx, q, { action: 'partner.earnRuleUpdated', subjectType: 'PARTNER', subjectId: input.partnerId, partnerId: input.partnerId, input });
    return ok(toPartner(await repo.findOneByOrFail({ id: input.partnerId })));
  });
}

/**
 * Changes a partner's redemption value and/or issuance price (money per point, exact decimals 0 to
 * 1000). Like the earn rule, postings from now on apply the new terms; obligations already posted
 * keep the rate they were posted at, and a refund returns the issuance price its purchase paid.
 * Errors: INVALID_INPUT (nothing to change, a bad rate), NOT_FOUND (no such partner). Audited.
 */
export async function updatePartnerTerms(ctx: RequestContext, input: UpdatePartnerTermsInput): Promise<Outcome<Partner>> {
  const errors: UserError[] = [];
  if (input.redemptionValuePerPoint == null && input.issuancePricePerPoint == null) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'Give redemptionValuePerPoint, issuancePricePerPoint or both', ['input']));
  }
  for (const field of ['redemptionValuePerPoint', 'issuancePricePerPoint'] as const) {
    const value = input[field];
    const error = value == null ? undefined : checkRate(value, ['input', field], new Dec(0), MAX_MONEY_PER_POINT);
    if (error) errors.push(error);
  }
  if (errors.length) return fail(...errors);
  if (!isUuid(input.partnerId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
  return inTransaction(ctx.db, async (q) => {
    const repo = q.manager.getRepository(PartnerEntity);
    const result = await repo.update({ id: input.partnerId }, {
      ...(input.redemptionValuePerPoint != null ? { redemptionValuePerPoint: formatRate(input.redemptionValuePerPoint) } : {}),
      ...(input.issuancePricePerPoint != null ? { issuancePricePerPoint: formatRate(input.issuancePricePerPoint) } : {}),
    });
    if (!result.affected) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
    await audit(ctx, q, { action: 'partner.termsUpdated', subjectType: 'PARTNER', subjectId: input.partnerId, partnerId: input.partnerId, input });
    return ok(toPartner(await repo.findOneByOrFail({ id: input.partnerId })));
  });
}

/** A partner by id, if the caller may see it: the operator sees all, a partner only itself. */
export async function findPartner(ctx: RequestContext, id: string): Promise<Partner | null> {
  const caller = ctx.caller;
  if (caller?.role === Role.PARTNER && caller.partnerId !== id) return null;
  const row = await ctx.loaders.partner.load(id);
  return row ? toPartner(row) : null;
}

export async function listPartners(ctx: RequestContext, page: PageArgs): Promise<Connection<Partner>> {
  const first = page.first ?? DEFAULT_PAGE_SIZE;
  const cursor = page.after ? decodeCursor(page.after, ['uuid']) : undefined;
  const qb = ctx.db.getRepository(PartnerEntity).createQueryBuilder('p').orderBy('p.id', 'ASC').limit(first + 1);
  if (cursor) qb.where('p.id > :id', { id: cursor[0] });
  const found = await qb.getMany();
  return toConnection(found, first, (p) => [p.id], toPartner, () => ctx.db.getRepository(PartnerEntity).count());
}
