import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, fail, forbidden, ok, userError } from '../../api/errors';
import { toMoney } from '../../common/decimal';
import { isUuid, uuidv7 } from '../../common/ids';
import { Connection, DEFAULT_PAGE_SIZE, PageArgs, decodeCursor, toConnection } from '../../common/pagination';
import { inTransaction, isUniqueViolation, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { getCoalition } from '../coalition/coalition.service';
import { normalizeEmail, normalizePhone } from '../member/member.rules';
import { PartnerEntity } from '../partner/partner.entity';
import { toCommissionPlan, toPartner, validateCommissionPlan } from '../partner/partner.service';
import { Partner } from '../partner/partner.types';
import { newAffiliateCode } from './affiliate.codes';
import { CommissionArgs, CreateAffiliateInput, UpdateCommissionPlanInput } from './affiliate.inputs';
import { Affiliate, Commission, CommissionTotals } from './affiliate.types';
import { CommissionStatus, effectiveStatus } from './commission.rules';

interface AffiliateRow {
  id: string;
  code: string;
  name: string;
  email: string;
  phone: string | null;
  created_at: Date;
}

function toAffiliate(row: AffiliateRow): Affiliate {
  return { id: row.id, code: row.code, name: row.name, email: row.email, phone: row.phone, createdAt: row.created_at };
}

export async function createAffiliate(ctx: RequestContext, input: CreateAffiliateInput): Promise<Outcome<Affiliate>> {
  const email = normalizeEmail(input.email);
  if (!email) return fail(userError(ErrorCode.INVALID_INPUT, 'email is not a valid e-mail address', ['input', 'email']));
  const phone = input.phone == null ? null : normalizePhone(input.phone);
  if (phone === undefined) return fail(userError(ErrorCode.INVALID_INPUT, 'phone must be a valid number in international format, e.g. +44 7700 900123', ['input', 'phone']));
  const name = input.name.trim();
  if (!name) return fail(userError(ErrorCode.INVALID_INPUT, 'name must not be empty', ['input', 'name']));
  for (let attempt = 0; attempt < 10; attempt++) {
    const row: AffiliateRow = { id: uuidv7(), code: newAffiliateCode(), name, email, phone, created_at: new Date() };
    try {
      await inTransaction(ctx.db, async (q) => {
        await rows(q, 'INSERT INTO affiliate (id, code, name, email, phone, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [row.id, row.code, row.name, row.email, row.phone, row.created_at]);
        await audit(ctx, q, { action: 'affiliate.created', subjectType: 'AFFILIATE', subjectId: row.id, input });
        return ok(true);
      });
      return ok(toAffiliate(row));
    } catch (error) {
      if (!isUniqueViolation(error, 'UQ_affiliate_code')) throw error; // a drawn code already taken: draw again
    }
  }
  throw new Error('could not draw a free affiliate code');
}

export async function listAffiliates(ctx: RequestContext, page: PageArgs): Promise<Connection<Affiliate>> {
  const first = page.first ?? DEFAULT_PAGE_SIZE;
  const params: unknown[] = [first + 1];
  let keyset = '';
  if (page.after) {
    params.push(decodeCursor(page.after, ['uuid'])[0]);
    keyset = 'WHERE id > $2';
  }
  const found = await rows<AffiliateRow>(ctx.db, `SELECT id, code, name, email, phone, created_at FROM affiliate ${keyset} ORDER BY id LIMIT $1`, params);
  return toConnection(found, first, (a) => [a.id], toAffiliate, async () => (await rows<{ n: number }>(ctx.db, 'SELECT count(*)::int AS n FROM affiliate'))[0]!.n);
}

/** An affiliate by id: the operator sees all, an affiliate itself. */
export async function findAffiliate(ctx: RequestContext, id: string): Promise<Affiliate | null> {
  const caller = ctx.caller!;
  if (!isUuid(id) || (caller.role === Role.AFFILIATE && caller.affiliateId !== id)) return null;
  const [row] = await rows<AffiliateRow>(ctx.db, 'SELECT id, code, name, email, phone, created_at FROM affiliate WHERE id = $1', [id]);
  return row ? toAffiliate(row) : null;
}

/** Replaces a partner's commission plan; commissions already made keep the plan they were made under. */
export async function updateCommissionPlan(ctx: RequestContext, input: UpdateCommissionPlanInput): Promise<Outcome<Partner>> {
  const { currencyExponent } = await getCoalition(ctx);
  const plan = input.commissionPlan ? toCommissionPlan(input.commissionPlan) : null;
  const errors = plan ? validateCommissionPlan(plan, currencyExponent, ['input', 'commissionPlan']) : [];
  if (errors.length) return fail(...errors);
  if (!isUuid(input.partnerId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
  return inTransaction(ctx.db, async (q) => {
    const repo = q.manager.getRepository(PartnerEntity);
    const result = await repo.update({ id: input.partnerId }, { commissionPlan: plan });
    if (!result.affected) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
    await audit(ctx, q, { action: 'partner.commissionPlanUpdated', subjectType: 'PARTNER', subjectId: input.partnerId, partnerId: input.partnerId, input });
    return ok(toPartner(await repo.findOneByOrFail({ id: input.partnerId })));
  });
}

/** The SQL of an effective status (APPROVED is PENDING whose hold has ended). */
const STATUS_SQL: Record<CommissionStatus, string> = {
  [CommissionStatus.PAID]: 'c.settlement_run_id IS NOT NULL',
  [CommissionStatus.REVERSED]: "c.status = 'REVERSED'",
  [CommissionStatus.APPROVED]: "c.settlement_run_id IS NULL AND c.status <> 'REVERSED' AND c.approves_at <= now()",
  [CommissionStatus.PENDING]: "c.settlement_run_id IS NULL AND c.status <> 'REVERSED' AND c.approves_at > now()",
};

/**
 * Whose commissions the caller sees, as SQL conditions: an affiliate its own, a partner those it
 * owes, the operator all (optionally one affiliate or partner).
 */
function commissionScope(ctx: RequestContext, args: CommissionArgs, params: unknown[]): string[] {
  const caller = ctx.caller!;
  const conditions: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (caller.role === Role.AFFILIATE) add('c.affiliate_id = ?', caller.affiliateId);
  else if (caller.role === Role.PARTNER) add('c.partner_id = ?', caller.partnerId);
  else if (caller.role !== Role.ADMIN) throw forbidden();
  if (args.affiliateId) add('c.affiliate_id = ?', isUuid(args.affiliateId) ? args.affiliateId : null);
  if (args.partnerId) add('c.partner_id = ?', isUuid(args.partnerId) ? args.partnerId : null);
  if (args.status) conditions.push(STATUS_SQL[args.status]);
  return conditions;
}

interface CommissionRowOut {
  id: string;
  member_id: string;
  member_code: string;
  partner_id: string;
  partner_code: string;
  partner_name: string;
  affiliate_id: string;
  amount_minor: string;
  purchase_amount_minor: string;
  status: string;
  clawback_of: string | null;
  settlement_run_id: string | null;
  occurred_at: Date;
  approves_at: Date;
}

/** Masked: the last three digits of the member code, so an affiliate can tell members apart without identifying them. */
function maskMember(code: string): string {
  return `•••••••••${code.slice(-3)}`;
}

export async function listCommissions(ctx: RequestContext, args: CommissionArgs): Promise<Connection<Commission>> {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  const params: unknown[] = [];
  const conditions = commissionScope(ctx, args, params);
  const countParams = [...params];
  const countWhere = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  if (args.after) {
    const [id, memberId] = decodeCursor(args.after, ['uuid', 'uuid']);
    params.push(id, memberId);
    conditions.push(`(c.id, c.member_id) < ($${params.length - 1}::uuid, $${params.length}::uuid)`);
  }
  params.push(first + 1);
  const coalition = await getCoalition(ctx);
  const money = (minor: string) => toMoney(minor, coalition);
  const found = await rows<CommissionRowOut>(ctx.db, `
    SELECT c.id, c.member_id, m.member_code, c.partner_id, p.code AS partner_code, p.name AS partner_name, c.affiliate_id, c.amount_minor,
      c.purchase_amount_minor, c.status, c.clawback_of, c.settlement_run_id, c.occurred_at, c.approves_at
    FROM commission c JOIN member m ON m.id = c.member_id JOIN partner p ON p.id = c.partner_id
    ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY c.id DESC, c.member_id DESC LIMIT $${params.length}`, params);
  const now = new Date();
  return toConnection(found, first, (c) => [c.id, c.member_id], (c) => ({
    id: c.id, partner: { id: c.partner_id, code: c.partner_code, name: c.partner_name }, affiliateId: c.affiliate_id, amount: money(c.amount_minor),
    status: effectiveStatus(c.status, c.settlement_run_id !== null, c.approves_at, now), occurredAt: c.occurred_at, approvesAt: c.approves_at,
    purchaseAmount: money(c.purchase_amount_minor), clawbackOf: c.clawback_of, settlementRunId: c.settlement_run_id, member: maskMember(c.member_code),
  }), async () => (await rows<{ n: number }>(ctx.db, `SELECT count(*)::int AS n FROM commission c ${countWhere}`, countParams))[0]!.n);
}

/** Commission sums per status for what the caller sees of one affiliate. */
export async function commissionTotals(ctx: RequestContext, affiliateId: string): Promise<CommissionTotals> {
  const params: unknown[] = [];
  const conditions = commissionScope(ctx, { affiliateId }, params);
  const [row] = await rows<Record<'pending' | 'approved' | 'paid' | 'reversed', string>>(ctx.db, `
    SELECT ${(Object.keys(STATUS_SQL) as CommissionStatus[]).map((s) => `COALESCE(sum(c.amount_minor) FILTER (WHERE ${STATUS_SQL[s]}), 0)::text AS ${s.toLowerCase()}`).join(', ')}
    FROM commission c WHERE ${conditions.join(' AND ')}`, params);
  const coalition = await getCoalition(ctx);
  const money = (minor: string) => toMoney(minor, coalition);
  return { pending: money(row!.pending), approved: money(row!.approved), paid: money(row!.paid), reversed: money(row!.reversed) };
}

export async function referredMembers(ctx: RequestContext, affiliateId: string): Promise<number> {
  const [row] = await rows<{ n: number }>(ctx.db, 'SELECT count(*)::int AS n FROM member WHERE affiliate_id = $1', [affiliateId]);
  return row!.n;
}
