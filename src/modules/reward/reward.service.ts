import { QueryRunner } from 'typeorm';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, UserError, badRequest, fail, forbidden, ok, userError } from '../../api/errors';
import { clock } from '../../common/clock';
import { MAX_INT32, formatMinorUnits, toMoney } from '../../common/decimal';
import { isUuid, uuidv7 } from '../../common/ids';
import { Connection, DEFAULT_PAGE_SIZE, decodeCursor, toConnection } from '../../common/pagination';
import { inTransaction, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { getCoalition } from '../coalition/coalition.service';
import { findMember } from '../member/member.service';
import { Member } from '../member/member.types';
import { actingPartner } from '../partner/acting-partner';
import { ClubRow, activeClubIds, loadClubs, partnerRef, toClub } from './club.service';
import { CreateRewardInput, RewardsArgs, UpdateRewardInput } from './reward.inputs';
import { parseMoneyMinor } from './reward.money';
import { MemberStanding, RewardTerms, chooseNextReward, defaultValueMinor, refusal, valuePerPoint } from './reward.rules';
import { NextReward, Reward, RewardKind } from './reward.types';

const MAX_VALIDITY_DAYS = 3650;
/** The most rewards a member's eligibility is worked out over at once (a catalog, not a ledger). */
const MAX_CATALOG = 1000;

interface RewardRow {
  id: string;
  partner_id: string | null;
  name: string;
  description: string | null;
  kind: RewardKind;
  club_id: string | null;
  points_price: number;
  cash_price_minor: string | null;
  value_minor: string;
  value_is_default: boolean;
  stock: number | null;
  claimed: number;
  per_member_limit: number | null;
  tiers: string[];
  clubs: string[];
  starts_at: Date | null;
  ends_at: Date | null;
  active: boolean;
  voucher_validity_days: number;
  created_at: Date;
}

const REWARD_COLUMNS = `r.id, r.partner_id, r.name, r.description, r.kind, r.club_id, r.points_price, r.cash_price_minor::text AS cash_price_minor,
  r.value_minor::text AS value_minor, r.value_is_default, r.stock, r.claimed, r.per_member_limit, r.tiers, r.clubs::text[] AS clubs,
  r.starts_at, r.ends_at, r.active, r.voucher_validity_days, r.created_at`;

function terms(row: RewardRow): RewardTerms & { id: string } {
  return {
    id: row.id, active: row.active, startsAt: row.starts_at, endsAt: row.ends_at, tiers: row.tiers, clubs: row.clubs, stock: row.stock,
    claimed: row.claimed, perMemberLimit: row.per_member_limit, pointsPrice: row.points_price,
  };
}

/** Rewards as the API shows them, with their partners and clubs loaded in one query. */
async function toRewards(ctx: RequestContext, found: RewardRow[]): Promise<Reward[]> {
  const coalition = await getCoalition(ctx);
  const clubs = await loadClubs(ctx, found.flatMap((r) => [...r.clubs, ...(r.club_id ? [r.club_id] : [])]));
  const club = (id: string) => clubs.get(id);
  return Promise.all(found.map(async (r) => ({
    id: r.id, partner: await partnerRef(ctx, r.partner_id), name: r.name, description: r.description, kind: r.kind,
    club: r.club_id && club(r.club_id) ? await toClub(ctx, club(r.club_id)!) : null,
    pointsPrice: r.points_price, cashPrice: r.cash_price_minor === null ? null : toMoney(r.cash_price_minor, coalition),
    value: toMoney(r.value_minor, coalition), stock: r.stock, claimed: r.claimed, perMemberLimit: r.per_member_limit, tiers: r.tiers,
    clubs: await Promise.all(r.clubs.map(club).filter((c): c is ClubRow => c !== undefined).map((c) => toClub(ctx, c))),
    startsAt: r.starts_at, endsAt: r.ends_at, active: r.active, voucherValidityDays: r.voucher_validity_days, createdAt: r.created_at,
  })));
}

/**
 * Which rewards the caller sees, as SQL on alias r: the operator all; a partner its own (others do
 * not exist for it); a member the active ones in their window. Anyone else is FORBIDDEN.
 */
function visibleRewards(ctx: RequestContext, params: unknown[]): string {
  const caller = ctx.caller;
  switch (caller?.role) {
    case Role.ADMIN:
      return 'TRUE';
    case Role.PARTNER:
      params.push(caller.partnerId);
      return `r.partner_id = $${params.length}`;
    case Role.MEMBER:
      params.push(clock.now());
      return `r.active AND (r.starts_at IS NULL OR r.starts_at <= $${params.length}) AND (r.ends_at IS NULL OR r.ends_at > $${params.length})`;
    default:
      throw forbidden('The catalog is for the operator, partners and members');
  }
}

/** The member's standing toward each reward (tier, clubs, points, debt, its claims of each). */
async function standings(ctx: RequestContext, member: Member, rewardIds: string[]): Promise<(rewardId: string) => MemberStanding> {
  const clubIds = await activeClubIds(ctx, member.id, clock.now());
  const claims = rewardIds.length ? await rows<{ reward_id: string; n: number }>(ctx.db, `
    SELECT reward_id, count(*)::int AS n FROM (
      SELECT reward_id FROM voucher WHERE member_id = $1 AND reward_id = ANY($2::uuid[]) AND state IN ('ISSUED', 'REDEEMED')
      UNION ALL SELECT reward_id FROM club_membership WHERE member_id = $1 AND reward_id = ANY($2::uuid[]) AND source = 'POINTS') c
    GROUP BY reward_id`, [member.id, rewardIds]) : [];
  const byReward = new Map(claims.map((c) => [c.reward_id, c.n]));
  return (rewardId) => ({ tierName: member.tierName, clubIds, balance: member.balance, debt: member.debt, claimedByMember: byReward.get(rewardId) ?? 0 });
}

/** The calling member (a member's own view). */
async function callingMember(ctx: RequestContext): Promise<Member> {
  const caller = ctx.caller;
  if (caller?.role !== Role.MEMBER) throw badRequest('eligibleOnly is a member’s view of the catalog');
  const member = await findMember(ctx, caller.memberId);
  if (!member) throw forbidden('No such member');
  return member;
}

/**
 * The catalog page by page, oldest first (keyset on id): what the caller sees (visibleRewards),
 * optionally of one partner. eligibleOnly (members only): just what the member can claim now —
 * worked out with reward.rules over at most the first 1,000 visible rewards, then paged.
 */
export async function listRewards(ctx: RequestContext, args: RewardsArgs): Promise<Connection<Reward>> {
  const params: unknown[] = [];
  const conditions = [visibleRewards(ctx, params)];
  if (args.partnerId != null) {
    if (!isUuid(args.partnerId)) conditions.push('FALSE');
    else {
      params.push(args.partnerId);
      conditions.push(`r.partner_id = $${params.length}`);
    }
  }
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  const after = args.after ? decodeCursor(args.after, ['uuid'])[0]! : null;
  if (args.eligibleOnly) {
    const member = await callingMember(ctx);
    const all = await rows<RewardRow>(ctx.db, `SELECT ${REWARD_COLUMNS} FROM reward r WHERE ${conditions.join(' AND ')} ORDER BY r.id LIMIT ${MAX_CATALOG}`, params);
    const standingOf = await standings(ctx, member, all.map((r) => r.id));
    const now = clock.now();
    const eligible = all.filter((r) => refusal(terms(r), standingOf(r.id), now) === null);
    const page = eligible.filter((r) => after === null || r.id > after).slice(0, first + 1);
    const nodes = new Map((await toRewards(ctx, page)).map((r) => [r.id, r]));
    return toConnection(page, first, (r) => [r.id], (r) => nodes.get(r.id)!, async () => eligible.length);
  }
  const pageParams = [...params];
  const page = [...conditions];
  if (after !== null) {
    pageParams.push(after);
    page.push(`r.id > $${pageParams.length}`);
  }
  pageParams.push(first + 1);
  const found = await rows<RewardRow>(ctx.db, `SELECT ${REWARD_COLUMNS} FROM reward r WHERE ${page.join(' AND ')} ORDER BY r.id LIMIT $${pageParams.length}`, pageParams);
  const nodes = new Map((await toRewards(ctx, found)).map((r) => [r.id, r]));
  return toConnection(found, first, (r) => [r.id], (r) => nodes.get(r.id)!,
    async () => (await rows<{ n: number }>(ctx.db, `SELECT count(*)::int AS n FROM reward r WHERE ${conditions.join(' AND ')}`, params))[0]!.n);
}

/** One reward, if the caller sees it (visibleRewards); null otherwise. */
export async function findReward(ctx: RequestContext, id: string): Promise<Reward | null> {
  if (!isUuid(id)) return null;
  const params: unknown[] = [id];
  const filter = visibleRewards(ctx, params);
  const found = await rows<RewardRow>(ctx.db, `SELECT ${REWARD_COLUMNS} FROM reward r WHERE r.id = $1 AND ${filter}`, params);
  return found.length ? (await toRewards(ctx, found))[0]! : null;
}

/**
 * Rewards by id, whoever may see them otherwise: for ids reached through something the caller
 * holds (its voucher, a voucher of its own reward). One query.
 */
export async function rewardsByIds(ctx: RequestContext, ids: string[]): Promise<Map<string, Reward>> {
  const valid = [...new Set(ids.filter(isUuid))];
  if (!valid.length) return new Map();
  const found = await rows<RewardRow>(ctx.db, `SELECT ${REWARD_COLUMNS} FROM reward r WHERE r.id = ANY($1::uuid[])`, [valid]);
  return new Map((await toRewards(ctx, found)).map((r) => [r.id, r]));
}

/**
 * The member's next reward (Member.nextReward): the cheapest active reward in its window the member
 * is eligible for but cannot yet afford, with the points still needed (reward.rules chooseNextReward),
 * among the rewards the caller may see (visibleRewards: a partner its own only, so another partner's
 * catalog and the club memberships it hinges on stay hidden).
 */
export async function nextReward(ctx: RequestContext, member: Member): Promise<NextReward | null> {
  const now = clock.now();
  const params: unknown[] = [now, member.balance];
  const candidates = await rows<RewardRow>(ctx.db, `SELECT ${REWARD_COLUMNS} FROM reward r
    WHERE r.active AND (r.starts_at IS NULL OR r.starts_at <= $1) AND (r.ends_at IS NULL OR r.ends_at > $1) AND r.points_price > $2
      AND ${visibleRewards(ctx, params)}
    ORDER BY r.points_price, r.id LIMIT ${MAX_CATALOG}`, params);
  const standingOf = await standings(ctx, member, candidates.map((r) => r.id));
  const next = chooseNextReward(candidates.map((r) => ({ ...terms(r), row: r })), (r) => standingOf(r.id), now);
  if (!next) return null;
  return { reward: (await toRewards(ctx, [next.reward.row]))[0]!, pointsNeeded: next.pointsNeeded };
}

/** A reward as it will be stored: the input merged over the current row (update) or the defaults (create). */
interface Draft {
  partnerId: string | null;
  name: string;
  description: string | null;
  kind: RewardKind;
  clubId: string | null;
  pointsPrice: number;
  cashPrice: string | null;
  /** Null: the default (pointsPrice × the partner's redemption value). */
  value: string | null;
  stock: number | null;
  claimed: number;
  perMemberLimit: number | null;
  tiers: string[];
  clubs: string[];
  startsAt: Date | null;
  endsAt: Date | null;
  active: boolean;
  voucherValidityDays: number;
  /**
   * Whether the value must not exceed pointsPrice × the partner's redemption value per point: a
   * partner setting its own reward's value or price. Only the operator may price a partner's reward
   * above what a redemption of the same points would pay (docs/rules.md, Rewards: the value cap).
   */
  capValue: boolean;
}

interface Checked {
  cashPriceMinor: bigint | null;
  valueMinor: bigint;
  valueIsDefault: boolean;
}

function count(value: number | null, field: string, min: number, max = MAX_INT32): UserError | undefined {
  if (value === null || (Number.isInteger(value) && value >= min && value <= max)) return undefined;
  return userError(ErrorCode.INVALID_INPUT, `${field} must be a whole number from ${min} to ${max}`, ['input', field]);
}

/**
 * Every problem with a reward as it would be stored, or its money in minor units. The clubs it is
 * restricted to must be coalition clubs or its partner's own; a MEMBERSHIP reward joins a club of
 * its own partner (an operator reward: a coalition club); a VOUCHER reward names no club. value
 * defaults to pointsPrice × the partner's redemptionValuePerPoint (half up); an operator reward must
 * state it. value / pointsPrice must come out exact to 6 decimals (the rate settlement pays at).
 */
async function checkDraft(ctx: RequestContext, d: Draft): Promise<Outcome<Checked>> {
  const coalition = await getCoalition(ctx);
  const exponent = coalition.currencyExponent;
  const errors: (UserError | undefined)[] = [];
  if (!d.name.trim()) errors.push(userError(ErrorCode.INVALID_INPUT, 'name must not be empty', ['input', 'name']));
  errors.push(count(d.pointsPrice, 'pointsPrice', 1), count(d.stock, 'stock', 0), count(d.perMemberLimit, 'perMemberLimit', 1),
    count(d.voucherValidityDays, 'voucherValidityDays', 1, MAX_VALIDITY_DAYS));
  if (d.stock !== null && d.stock >= 0 && d.stock < d.claimed) errors.push(userError(ErrorCode.INVALID_INPUT, `stock may not be below the ${d.claimed} already claimed`, ['input', 'stock']));
  if (d.startsAt && d.endsAt && d.endsAt.getTime() <= d.startsAt.getTime()) errors.push(userError(ErrorCode.INVALID_INPUT, 'endsAt must be after startsAt', ['input', 'endsAt']));
  const tierNames = coalition.tiers.map((t) => t.name);
  d.tiers.forEach((t, i) => {
    if (!tierNames.includes(t)) errors.push(userError(ErrorCode.INVALID_INPUT, `${t} is not a tier of the coalition`, ['input', 'tiers', String(i)]));
  });
  const clubs = await loadClubs(ctx, [...d.clubs, ...(d.clubId ? [d.clubId] : [])]);
  d.clubs.forEach((id, i) => {
    const c = clubs.get(id);
    if (!c || (c.partner_id !== null && c.partner_id !== d.partnerId)) errors.push(userError(ErrorCode.NOT_FOUND, 'No such club (a coalition club or the reward partner’s own)', ['input', 'clubs', String(i)]));
  });
  if (d.kind === RewardKind.MEMBERSHIP) {
    const c = d.clubId ? clubs.get(d.clubId) : undefined;
    if (!d.clubId) errors.push(userError(ErrorCode.INVALID_INPUT, 'A MEMBERSHIP reward names the club it joins', ['input', 'clubId']));
    else if (!c || c.partner_id !== d.partnerId) errors.push(userError(ErrorCode.NOT_FOUND, 'No such club of the reward’s partner', ['input', 'clubId']));
  } else if (d.clubId) errors.push(userError(ErrorCode.INVALID_INPUT, 'Only a MEMBERSHIP reward joins a club', ['input', 'clubId']));
  let cashPriceMinor: bigint | null = null;
  if (d.cashPrice !== null) {
    const cash = parseMoneyMinor(d.cashPrice, exponent, ['input', 'cashPrice']);
    if (cash.ok) cashPriceMinor = cash.value;
    else errors.push(...cash.errors);
  }
  let valueMinor: bigint | null = null;
  if (d.value !== null) {
    const value = parseMoneyMinor(d.value, exponent, ['input', 'value']);
    if (value.ok) valueMinor = value.value;
    else errors.push(...value.errors);
  } else if (d.partnerId === null) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'An operator reward states its value (there is no redemption value to derive it from)', ['input', 'value']));
  } else {
    const partner = await ctx.loaders.partner.load(d.partnerId);
    if (partner && Number.isInteger(d.pointsPrice) && d.pointsPrice > 0) valueMinor = defaultValueMinor(d.pointsPrice, partner.redemptionValuePerPoint, exponent);
  }
  const exact = valueMinor === null || !Number.isInteger(d.pointsPrice) || d.pointsPrice <= 0 || valuePerPoint(valueMinor, d.pointsPrice, exponent) !== undefined;
  if (!exact) {
    errors.push(userError(ErrorCode.INVALID_INPUT,
      `value ${formatMinorUnits(valueMinor!, exponent)} over ${d.pointsPrice} points is not exact to 6 decimals a point; choose a value or price that divides`, ['input', 'value']));
  } else if (d.capValue && d.value !== null && d.partnerId !== null && valueMinor !== null && Number.isInteger(d.pointsPrice) && d.pointsPrice > 0) {
    // Every point a claim consumes from another issuer's lot is owed at value / pointsPrice: a partner
    // may not bill issuers more a point than a redemption at its till would.
    const partner = await ctx.loaders.partner.load(d.partnerId);
    const cap = partner ? defaultValueMinor(d.pointsPrice, partner.redemptionValuePerPoint, exponent) : 0n;
    if (valueMinor > cap) {
      errors.push(userError(ErrorCode.INVALID_INPUT, `value may not exceed ${formatMinorUnits(cap, exponent)} (pointsPrice × your redemptionValuePerPoint); `
        + 'the operator may set a higher value', ['input', 'value']));
    }
  }
  const found = errors.filter((e): e is UserError => e !== undefined);
  if (found.length) return fail(...found);
  return ok({ cashPriceMinor, valueMinor: valueMinor!, valueIsDefault: d.value === null });
}

async function store(q: QueryRunner, id: string, d: Draft, c: Checked, insert: boolean): Promise<void> {
  const values = [id, d.partnerId, d.name.trim(), d.description?.trim() || null, d.kind, d.clubId, d.pointsPrice, c.cashPriceMinor?.toString() ?? null,
    c.valueMinor.toString(), c.valueIsDefault, d.stock, d.perMemberLimit, [...new Set(d.tiers)], [...new Set(d.clubs)], d.startsAt, d.endsAt, d.active, d.voucherValidityDays];
  if (insert) {
    await rows(q, `INSERT INTO reward (id, partner_id, name, description, kind, club_id, points_price, cash_price_minor, value_minor, value_is_default,
      stock, per_member_limit, tiers, clubs, starts_at, ends_at, active, voucher_validity_days)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, values);
  } else {
    await rows(q, `UPDATE reward SET partner_id = $2, name = $3, description = $4, kind = $5, club_id = $6, points_price = $7, cash_price_minor = $8,
      value_minor = $9, value_is_default = $10, stock = $11, per_member_limit = $12, tiers = $13, clubs = $14, starts_at = $15, ends_at = $16,
      active = $17, voucher_validity_days = $18 WHERE id = $1`, values);
  }
}

/**
 * Adds a reward to the catalog: a partner its own; the operator an operator reward (no partnerId)
 * or a partner's (partnerId). Validation problems are userErrors (checkDraft). Audited.
 */
export async function createReward(ctx: RequestContext, input: CreateRewardInput): Promise<Outcome<Reward>> {
  const acting = await actingPartner(ctx, input.partnerId, true);
  if (!acting.ok) return acting;
  const draft: Draft = {
    partnerId: acting.value, name: input.name, description: input.description ?? null, kind: input.kind ?? RewardKind.VOUCHER, clubId: input.clubId ?? null,
    pointsPrice: input.pointsPrice, cashPrice: input.cashPrice ?? null, value: input.value ?? null, stock: input.stock ?? null, claimed: 0,
    perMemberLimit: input.perMemberLimit ?? null, tiers: input.tiers ?? [], clubs: input.clubs ?? [], startsAt: input.startsAt ?? null,
    endsAt: input.endsAt ?? null, active: true, voucherValidityDays: input.voucherValidityDays ?? 30, capValue: ctx.caller!.role === Role.PARTNER,
  };
  const checked = await checkDraft(ctx, draft);
  if (!checked.ok) return checked;
  const id = uuidv7();
  await inTransaction(ctx.db, async (q) => {
    await store(q, id, draft, checked.value, true);
    await audit(ctx, q, { action: 'reward.created', subjectType: 'REWARD', subjectId: id, partnerId: draft.partnerId, input });
    return ok(true);
  });
  return ok((await findReward(ctx, id))!);
}

/**
 * Changes a reward (a partner its own, the operator any; others NOT_FOUND). Fields left out stay;
 * nullable ones set to null are cleared (value: back to the default, which also follows a new
 * pointsPrice while it is the default); non-nullable ones set to null stay. The row is locked, so a
 * claim in flight sees the reward before or after, whole. Audited.
 */
export async function updateReward(ctx: RequestContext, input: UpdateRewardInput): Promise<Outcome<Reward>> {
  const notFound = fail(userError(ErrorCode.NOT_FOUND, 'No such reward', ['input', 'rewardId']));
  if (!isUuid(input.rewardId)) return notFound;
  const caller = ctx.caller!;
  const outcome = await inTransaction(ctx.db, async (q) => {
    const [row] = await rows<RewardRow>(q, `SELECT ${REWARD_COLUMNS} FROM reward r WHERE r.id = $1 AND ($2::uuid IS NULL OR r.partner_id = $2) FOR UPDATE`,
      [input.rewardId, caller.role === Role.PARTNER ? caller.partnerId : null]);
    if (!row) return notFound;
    if (input.partnerId != null && input.partnerId !== row.partner_id) {
      return fail(userError(ErrorCode.INVALID_INPUT, 'A reward’s partner never changes', ['input', 'partnerId']));
    }
    const pick = <T>(given: T | null | undefined, current: T): T => (given === undefined || given === null ? current : given);
    const clear = <T>(given: T | null | undefined, current: T | null): T | null => (given === undefined ? current : given);
    const pointsPrice = pick(input.pointsPrice, row.points_price);
    const keepValue = row.value_is_default ? null : formatMinorUnits(BigInt(row.value_minor), (await getCoalition(ctx)).currencyExponent);
    const draft: Draft = {
      partnerId: row.partner_id, name: pick(input.name, row.name), description: clear(input.description, row.description),
      kind: pick(input.kind, row.kind), clubId: clear(input.clubId, row.club_id), pointsPrice,
      cashPrice: input.cashPrice === undefined ? (row.cash_price_minor === null ? null : formatMinorUnits(BigInt(row.cash_price_minor), (await getCoalition(ctx)).currencyExponent)) : input.cashPrice,
      value: input.value === undefined ? keepValue : input.value, stock: clear(input.stock, row.stock), claimed: row.claimed,
      perMemberLimit: clear(input.perMemberLimit, row.per_member_limit), tiers: pick(input.tiers, row.tiers), clubs: pick(input.clubs, row.clubs),
      startsAt: clear(input.startsAt, row.starts_at), endsAt: clear(input.endsAt, row.ends_at), active: pick(input.active, row.active),
      voucherValidityDays: pick(input.voucherValidityDays, row.voucher_validity_days),
      capValue: caller.role === Role.PARTNER && (input.value != null || (input.pointsPrice != null && input.pointsPrice !== row.points_price)),
    };
    const checked = await checkDraft(ctx, draft);
    if (!checked.ok) return checked;
    // A default value stays as it was unless the price changed or the value was reset to the default.
    if (row.value_is_default && input.value === undefined && pointsPrice === row.points_price) checked.value.valueMinor = BigInt(row.value_minor);
    await store(q, row.id, draft, checked.value, false);
    await audit(ctx, q, { action: 'reward.updated', subjectType: 'REWARD', subjectId: row.id, partnerId: row.partner_id, input });
    return ok(true);
  });
  if (!outcome.ok) return outcome;
  return ok((await findReward(ctx, input.rewardId))!);
}
