import type { RequestContext } from '../../api/context';
import { Role } from '../../api/auth';
import { ErrorCode, Outcome, fail, forbidden, ok, userError } from '../../api/errors';
import { Dec, MAX_INT32, formatRate, toMoney } from '../../common/decimal';
import { isUuid, uuidv7 } from '../../common/ids';
import { Connection, DEFAULT_PAGE_SIZE, PageArgs, decodeCursor, toConnection } from '../../common/pagination';
import { inTransaction, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { getCoalition } from '../coalition/coalition.service';
import { roundToMinor } from '../settlement/settlement.rules';
import { checkRate } from '../earning/earn-rule';
import { DonationRow } from '../ledger/ledger.store';
import { MEMBER_COLUMNS, MemberRow, toMember } from '../member/member.service';
import { Member } from '../member/member.types';
import { minimumDonationPoints } from './charity.rules';
import { CreateCauseInput, CreateMatchingCampaignInput, SetAutoDonationInput, SetCauseActiveInput } from './charity.inputs';
import { AutoDonation, Cause, Donation, MatchingCampaign } from './charity.types';

interface CauseRow {
  id: string;
  name: string;
  description: string | null;
  goal_points: number | null;
  active: boolean;
  donated: string;
  matched: string;
  donors: number;
  raised: string;
}

/**
 * Every cause with its public progress, aggregated in PostgreSQL from the donations: points
 * donated, points matched (apart), donors, share of the goal, money raised. Nothing of any donor.
 */
export async function listCauses(ctx: RequestContext, onlyId?: string): Promise<Cause[]> {
  const coalition = await getCoalition(ctx);
  const found = await rows<CauseRow>(ctx.db, `
    SELECT c.id, c.name, c.description, c.goal_points, c.active,
      COALESCE(d.donated, 0)::text AS donated, COALESCE(d.matched, 0)::text AS matched, COALESCE(d.donors, 0)::int AS donors,
      COALESCE(o.raised, 0)::text AS raised
    FROM cause c LEFT JOIN (SELECT cause_id, sum(points) AS donated, sum(matched_points) AS matched, count(DISTINCT member_id) AS donors
      FROM donation GROUP BY cause_id) d ON d.cause_id = c.id
    LEFT JOIN (SELECT payee_id, sum(COALESCE(value_minor::numeric / $2, points * rate)) AS raised FROM obligation WHERE payee_type = 'CAUSE' GROUP BY payee_id) o ON o.payee_id = c.id
    WHERE ($1::uuid IS NULL OR c.id = $1) ORDER BY c.name, c.id`, [onlyId ?? null, 10 ** coalition.currencyExponent]);
  return found.map((c) => toCause(c, coalition));
}

/**
 * Raised: Σ the stored floored values of every donation and match to the cause (the receipts and the
 * settlement lines sum the same values); rows from before values were stored count points × rate.
 */
function toCause(c: CauseRow, coalition: { currency: string; currencyExponent: number; donationValuePerPoint: string }): Cause {
  const total = new Dec(c.donated).plus(c.matched);
  return {
    id: c.id, name: c.name, description: c.description, goalPoints: c.goal_points, active: c.active,
    donatedPoints: BigInt(c.donated), matchedPoints: BigInt(c.matched), donors: c.donors,
    progress: c.goal_points ? total.div(c.goal_points).toDecimalPlaces(4, Dec.ROUND_DOWN).toFixed() : null,
    raised: toMoney(roundToMinor(new Dec(c.raised), coalition.currencyExponent), coalition),
    minimumDonationPoints: minimumDonationPoints(coalition.donationValuePerPoint, coalition.currencyExponent),
  };
}

export async function createCause(ctx: RequestContext, input: CreateCauseInput): Promise<Outcome<Cause>> {
  const name = input.name.trim();
  if (!name) return fail(userError(ErrorCode.INVALID_INPUT, 'name must not be empty', ['input', 'name']));
  if (input.goalPoints != null && (input.goalPoints < 1 || input.goalPoints > MAX_INT32)) {
    return fail(userError(ErrorCode.INVALID_INPUT, 'goalPoints must be a positive number of points', ['input', 'goalPoints']));
  }
  const id = uuidv7();
  await inTransaction(ctx.db, async (q) => {
    await rows(q, 'INSERT INTO cause (id, name, description, goal_points) VALUES ($1, $2, $3, $4)', [id, name, input.description?.trim() || null, input.goalPoints ?? null]);
    await audit(ctx, q, { action: 'cause.created', subjectType: 'CAUSE', subjectId: id, input });
    return ok(true);
  });
  return ok((await listCauses(ctx, id))[0]!);
}

export async function setCauseActive(ctx: RequestContext, input: SetCauseActiveInput): Promise<Outcome<Cause>> {
  const notFound = fail(userError(ErrorCode.NOT_FOUND, 'No such cause', ['input', 'causeId']));
  if (!isUuid(input.causeId)) return notFound;
  const updated = await inTransaction(ctx.db, async (q) => {
    const found = await rows(q, 'UPDATE cause SET active = $2 WHERE id = $1 RETURNING id', [input.causeId, input.active]);
    if (found.length) await audit(ctx, q, { action: 'cause.activeSet', subjectType: 'CAUSE', subjectId: input.causeId, input });
    return found.length ? ok(true) : notFound;
  });
  if (!updated.ok) return updated;
  return ok((await listCauses(ctx, input.causeId))[0]!);
}

export async function createMatchingCampaign(ctx: RequestContext, input: CreateMatchingCampaignInput): Promise<Outcome<MatchingCampaign>> {
  const errors = [checkRate(input.ratio, ['input', 'ratio'], new Dec(0), new Dec(100), true)].filter((e) => e !== undefined);
  if (input.capPoints < 1) errors.push(userError(ErrorCode.INVALID_INPUT, 'capPoints must be positive', ['input', 'capPoints']));
  if (input.endsAt.getTime() <= input.startsAt.getTime()) errors.push(userError(ErrorCode.INVALID_INPUT, 'endsAt must be after startsAt', ['input', 'endsAt']));
  if (errors.length) return fail(...errors);
  if (!isUuid(input.partnerId) || !(await ctx.loaders.partner.load(input.partnerId))) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
  const [cause] = isUuid(input.causeId) ? await rows(ctx.db, 'SELECT 1 FROM cause WHERE id = $1', [input.causeId]) : [];
  if (!cause) return fail(userError(ErrorCode.NOT_FOUND, 'No such cause', ['input', 'causeId']));
  const id = uuidv7();
  await inTransaction(ctx.db, async (q) => {
    await rows(q, `INSERT INTO matching_campaign (id, partner_id, cause_id, ratio, cap_points, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, input.partnerId, input.causeId, formatRate(input.ratio), input.capPoints, input.startsAt, input.endsAt]);
    await audit(ctx, q, { action: 'campaign.created', subjectType: 'CAMPAIGN', subjectId: id, partnerId: input.partnerId, input });
    return ok(true);
  });
  return ok((await findCampaigns(ctx, { id }))[0]!);
}

export async function findCampaigns(ctx: RequestContext, where: { id?: string; causeId?: string }): Promise<MatchingCampaign[]> {
  if ((where.id && !isUuid(where.id)) || (where.causeId && !isUuid(where.causeId))) return [];
  // A partner sees its own campaigns; the operator all.
  const partnerId = ctx.caller?.role === Role.PARTNER ? ctx.caller.partnerId : null;
  const found = await rows<{ id: string; partner_id: string; cause_id: string; ratio: string; cap_points: number; matched_points: number; starts_at: Date; ends_at: Date }>(ctx.db,
    `SELECT id, partner_id, cause_id, ratio::text, cap_points, matched_points, starts_at, ends_at FROM matching_campaign
     WHERE ($1::uuid IS NULL OR id = $1) AND ($2::uuid IS NULL OR cause_id = $2) AND ($3::uuid IS NULL OR partner_id = $3)
     ORDER BY starts_at DESC, id`, [where.id ?? null, where.causeId ?? null, partnerId]);
  return found.map((c) => ({ id: c.id, partnerId: c.partner_id, causeId: c.cause_id, ratio: formatRate(c.ratio), capPoints: c.cap_points,
    matchedPoints: c.matched_points, remainingPoints: c.cap_points - c.matched_points, startsAt: c.starts_at, endsAt: c.ends_at }));
}

/** Turns a member's automatic donation on (1–100 % of each later purchase earn, to an active cause) or off (0). */
export async function setAutoDonation(ctx: RequestContext, input: SetAutoDonationInput): Promise<Outcome<Member>> {
  const memberId = (ctx.caller as { memberId: string }).memberId;
  if (!Number.isInteger(input.percent) || input.percent < 0 || input.percent > 100) return fail(userError(ErrorCode.INVALID_INPUT, 'percent must be from 0 to 100', ['input', 'percent']));
  let causeId: string | null = null;
  if (input.percent > 0) {
    if (!input.causeId || !isUuid(input.causeId)) return fail(userError(ErrorCode.INVALID_INPUT, 'An automatic donation needs a cause', ['input', 'causeId']));
    const [cause] = await rows<{ active: boolean }>(ctx.db, 'SELECT active FROM cause WHERE id = $1', [input.causeId]);
    if (!cause) return fail(userError(ErrorCode.NOT_FOUND, 'No such cause', ['input', 'causeId']));
    if (!cause.active) return fail(userError(ErrorCode.INVALID_INPUT, 'This cause no longer takes donations', ['input', 'causeId']));
    causeId = input.causeId;
  }
  return inTransaction(ctx.db, async (q) => {
    // The member row is what every posting locks: a purchase in flight sees the old setting or the new, whole.
    const [row] = await rows<MemberRow>(q, `UPDATE member m SET auto_donation_cause_id = $2, auto_donation_percent = $3 WHERE m.id = $1 RETURNING ${MEMBER_COLUMNS}`,
      [memberId, causeId, input.percent]);
    return row ? ok(toMember(row)) : fail(userError(ErrorCode.NOT_FOUND, 'No such member'));
  });
}

/** The member's automatic donation: for the member itself and the operator. */
export async function autoDonation(ctx: RequestContext, memberId: string): Promise<AutoDonation> {
  if (!(ctx.caller?.role === Role.ADMIN || (ctx.caller?.role === Role.MEMBER && ctx.caller.memberId === memberId))) throw forbidden('A member’s automatic donation is its own');
  const [row] = await rows<{ percent: number; cause_id: string | null; name: string | null }>(ctx.db,
    `SELECT m.auto_donation_percent AS percent, c.id AS cause_id, c.name FROM member m LEFT JOIN cause c ON c.id = m.auto_donation_cause_id WHERE m.id = $1`, [memberId]);
  return { percent: row?.percent ?? 0, cause: row?.cause_id ? { id: row.cause_id, name: row.name! } : null };
}

/** A donation and its receipt as the API shows it (the payload, the member's list, the export). */
export function toDonation(row: DonationRow, causeName: string, coalition: { currency: string; currencyExponent: number }): Donation {
  return {
    id: row.id, points: row.points, value: toMoney(row.value_minor, coalition), cause: { id: row.cause_id, name: causeName },
    matchedPoints: row.matched_points, receiptNumber: row.receipt_number, automatic: row.automatic, createdAt: row.created_at,
  };
}

/** The receipt a donatePoints payload shows. */
export async function donationReceipt(ctx: RequestContext, row: DonationRow): Promise<Donation> {
  const [cause] = await rows<{ name: string }>(ctx.db, 'SELECT name FROM cause WHERE id = $1', [row.cause_id]);
  return toDonation(row, cause?.name ?? row.cause_id, await getCoalition(ctx));
}

/**
 * A member's donations, newest first: for the member itself and the operator. A partner sees none,
 * as it sees none of the member's transactions it did not post.
 */
export async function memberDonations(ctx: RequestContext, memberId: string, page: PageArgs): Promise<Connection<Donation>> {
  const first = page.first ?? DEFAULT_PAGE_SIZE;
  const visible = ctx.caller?.role === Role.ADMIN || (ctx.caller?.role === Role.MEMBER && ctx.caller.memberId === memberId);
  const params: unknown[] = [visible ? memberId : null, first + 1];
  let keyset = '';
  if (page.after) {
    params.push(decodeCursor(page.after, ['uuid'])[0]);
    keyset = 'AND d.id < $3';
  }
  const coalition = await getCoalition(ctx);
  const found = await rows<DonationRow & { cause_name: string }>(ctx.db,
    `SELECT d.*, c.name AS cause_name FROM donation d JOIN cause c ON c.id = d.cause_id WHERE d.member_id = $1::uuid ${keyset} ORDER BY d.id DESC LIMIT $2`, params);
  return toConnection(found, first, (d) => [d.id], (d) => toDonation(d, d.cause_name, coalition), async () => (await rows<{ n: number }>(ctx.db, 'SELECT count(*)::int AS n FROM donation WHERE member_id = $1::uuid', [visible ? memberId : null]))[0]!.n);
}
