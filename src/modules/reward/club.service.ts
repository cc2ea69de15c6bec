import { createHash } from 'node:crypto';
import { Role, callerLabel } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, UserError, fail, forbidden, ok, userError } from '../../api/errors';
import { clock } from '../../common/clock';
import { Dec, formatRate, toMoney } from '../../common/decimal';
import { isUuid, uuidv7 } from '../../common/ids';
import { inTransaction, isUniqueViolation, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { recordEvents } from '../webhook/webhook.store';
import { getCoalition } from '../coalition/coalition.service';
import { checkRate } from '../earning/earn-rule';
import { findMember } from '../member/member.service';
import { Member } from '../member/member.types';
import { actingPartner } from '../partner/acting-partner';
import { PartnerRef } from '../partner/partner.types';
import { CreateClubInput, GrantClubMembershipInput } from './reward.inputs';
import { parseMoneyMinor } from './reward.money';
import { Club, ClubMembership, MembershipSource } from './reward.types';

const MAX_MEMBERSHIP_DAYS = 36_500;
const DAY_MS = 86_400_000;
const IDEMPOTENCY_CONSTRAINT = 'UQ_club_membership_idempotency';

export interface ClubRow {
  id: string;
  partner_id: string | null;
  name: string;
  description: string | null;
  earn_multiplier: string;
  membership_days: number;
}

const CLUB_COLUMNS = 'c.id, c.partner_id, c.name, c.description, c.earn_multiplier::text AS earn_multiplier, c.membership_days';

/** What anyone who sees a reward or club may know of its partner. */
export async function partnerRef(ctx: RequestContext, partnerId: string | null): Promise<PartnerRef | null> {
  if (!partnerId) return null;
  const p = await ctx.loaders.partner.load(partnerId);
  return p ? { id: p.id, code: p.code, name: p.name } : null;
}

export async function toClub(ctx: RequestContext, row: ClubRow): Promise<Club> {
  return {
    id: row.id, partner: await partnerRef(ctx, row.partner_id), name: row.name, description: row.description,
    earnMultiplier: formatRate(row.earn_multiplier), membershipDays: row.membership_days,
  };
}

/** Clubs by id, in one query (no scope: for ids already reached through a visible reward or membership). */
export async function loadClubs(ctx: RequestContext, ids: string[]): Promise<Map<string, ClubRow>> {
  const valid = [...new Set(ids.filter(isUuid))];
  if (!valid.length) return new Map();
  const found = await rows<ClubRow>(ctx.db, `SELECT ${CLUB_COLUMNS} FROM club c WHERE c.id = ANY($1::uuid[])`, [valid]);
  return new Map(found.map((c) => [c.id, c]));
}

/**
 * The clubs the caller may see, by name: the operator and members every club; a partner the
 * coalition clubs and its own (another partner's clubs do not exist for it). Others: FORBIDDEN.
 */
export async function listClubs(ctx: RequestContext): Promise<Club[]> {
  const caller = ctx.caller;
  if (!caller || caller.role === Role.AFFILIATE) throw forbidden('Clubs are for the operator, partners and members');
  const partnerId = caller.role === Role.PARTNER ? caller.partnerId : null;
  const found = await rows<ClubRow>(ctx.db, `SELECT ${CLUB_COLUMNS} FROM club c WHERE ($1::uuid IS NULL OR c.partner_id IS NULL OR c.partner_id = $1)
    ORDER BY c.name, c.id LIMIT 1000`, [partnerId]);
  return Promise.all(found.map((c) => toClub(ctx, c)));
}

/**
 * Creates a club: a partner its own; the operator a coalition club (no partnerId) or a partner's.
 * earnMultiplier 1 to 1000 (up to 6 decimals), membershipDays 1 to 36,500. Audited.
 */
export async function createClub(ctx: RequestContext, input: CreateClubInput): Promise<Outcome<Club>> {
  const errors: (UserError | undefined)[] = [];
  const name = input.name.trim();
  if (!name) errors.push(userError(ErrorCode.INVALID_INPUT, 'name must not be empty', ['input', 'name']));
  errors.push(checkRate(input.earnMultiplier, ['input', 'earnMultiplier'], new Dec(1), new Dec(1000)));
  if (!Number.isInteger(input.membershipDays) || input.membershipDays < 1 || input.membershipDays > MAX_MEMBERSHIP_DAYS) {
    errors.push(userError(ErrorCode.INVALID_INPUT, `membershipDays must be from 1 to ${MAX_MEMBERSHIP_DAYS}`, ['input', 'membershipDays']));
  }
  const found = errors.filter((e): e is UserError => e !== undefined);
  if (found.length) return fail(...found);
  const acting = await actingPartner(ctx, input.partnerId, true);
  if (!acting.ok) return acting;
  const row: ClubRow = {
    id: uuidv7(), partner_id: acting.value, name, description: input.description?.trim() || null,
    earn_multiplier: formatRate(input.earnMultiplier), membership_days: input.membershipDays,
  };
  await inTransaction(ctx.db, async (q) => {
    await rows(q, 'INSERT INTO club (id, partner_id, name, description, earn_multiplier, membership_days) VALUES ($1, $2, $3, $4, $5, $6)',
      [row.id, row.partner_id, row.name, row.description, row.earn_multiplier, row.membership_days]);
    await audit(ctx, q, { action: 'club.created', subjectType: 'CLUB', subjectId: row.id, partnerId: row.partner_id, input });
    return ok(true);
  });
  return ok(await toClub(ctx, row));
}

interface MembershipRow {
  club_id: string;
  expires_at: Date;
  source: MembershipSource;
  paid_amount_minor: string | null;
}

async function toMembership(ctx: RequestContext, row: MembershipRow, club: ClubRow): Promise<ClubMembership> {
  const coalition = await getCoalition(ctx);
  return {
    club: await toClub(ctx, club), expiresAt: row.expires_at, source: row.source,
    paidAmount: row.paid_amount_minor === null ? null : toMoney(row.paid_amount_minor, coalition),
  };
}

/** The ids of the clubs the member is in at `now` (latest expiry of each club still ahead). */
export async function activeClubIds(ctx: RequestContext, memberId: string, now: Date): Promise<string[]> {
  const found = await rows<{ club_id: string }>(ctx.db,
    'SELECT club_id FROM club_membership WHERE member_id = $1 GROUP BY club_id HAVING max(expires_at) > $2', [memberId, now]);
  return found.map((r) => r.club_id);
}

/**
 * The member's active club memberships (Member.clubs), by club name: per club the period that ends
 * last, while it lies ahead. The operator and the member itself see every club; a partner only the
 * coalition clubs and its own (another partner's club, and what was paid for it, is that partner's
 * business: docs/rules.md, Clubs).
 */
export async function memberClubs(ctx: RequestContext, memberId: string): Promise<ClubMembership[]> {
  const found = await rows<MembershipRow>(ctx.db, `
    SELECT * FROM (SELECT DISTINCT ON (club_id) club_id, expires_at, source, paid_amount_minor::text AS paid_amount_minor
      FROM club_membership WHERE member_id = $1 ORDER BY club_id, expires_at DESC, id DESC) latest
    WHERE expires_at > $2`, [memberId, clock.now()]);
  const clubs = await loadClubs(ctx, found.map((r) => r.club_id));
  const caller = ctx.caller;
  const partnerId = caller?.role === Role.PARTNER ? caller.partnerId : null;
  const seen = (club: ClubRow) => partnerId === null || club.partner_id === null || club.partner_id === partnerId;
  const out = await Promise.all(found.filter((r) => clubs.has(r.club_id) && seen(clubs.get(r.club_id)!)).map((r) => toMembership(ctx, r, clubs.get(r.club_id)!)));
  return out.sort((a, b) => a.club.name.localeCompare(b.club.name) || a.club.id.localeCompare(b.club.id));
}

/**
 * Grants a club membership bought with money (the operator any club; a partner its own clubs, for
 * members linked to it — anything else is NOT_FOUND). No points move; the amount paid is recorded.
 * The new period starts at the later of now and the current expiry, so joining again extends.
 * Idempotent per caller, member and key: the same input returns the first result, a different
 * input is IDEMPOTENCY_KEY_REUSED. Audited (once, not on a replay).
 */
export async function grantClubMembership(ctx: RequestContext, input: GrantClubMembershipInput): Promise<Outcome<{ membership: ClubMembership; member: Member }>> {
  const coalition = await getCoalition(ctx);
  if (!input.idempotencyKey.trim()) return fail(userError(ErrorCode.INVALID_INPUT, 'idempotencyKey must not be blank', ['input', 'idempotencyKey']));
  const paid = parseMoneyMinor(input.paidAmount, coalition.currencyExponent, ['input', 'paidAmount']);
  if (!paid.ok) return paid;
  const caller = ctx.caller!;
  const club = (await loadClubs(ctx, [input.clubId])).get(input.clubId);
  if (!club || (caller.role === Role.PARTNER && club.partner_id !== caller.partnerId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such club', ['input', 'clubId']));
  const member = await findMember(ctx, input.memberId);
  if (!member) return fail(userError(ErrorCode.NOT_FOUND, 'No such member', ['input', 'memberId']));
  const label = callerLabel(caller);
  const requestHash = createHash('sha256').update(JSON.stringify([input.memberId, input.clubId, paid.value.toString()])).digest('hex');
  const outcome = await inTransaction(ctx.db, async (q) => {
    // The member row serializes this member's grants: the later one extends from the earlier one's expiry.
    await rows(q, 'SELECT id FROM member WHERE id = $1 FOR UPDATE', [input.memberId]);
    const [previous] = await rows<MembershipRow & { request_hash: string }>(q,
      `SELECT club_id, expires_at, source, paid_amount_minor::text AS paid_amount_minor, request_hash FROM club_membership
       WHERE member_id = $1 AND caller = $2 AND idempotency_key = $3`, [input.memberId, label, input.idempotencyKey]);
    if (previous) {
      return previous.request_hash === requestHash ? ok(previous)
        : fail(userError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This idempotency key was used with different input', ['input', 'idempotencyKey']));
    }
    const now = clock.now();
    const [current] = await rows<{ expires_at: Date | null }>(q,
      'SELECT max(expires_at) AS expires_at FROM club_membership WHERE member_id = $1 AND club_id = $2', [input.memberId, input.clubId]);
    const startsAt = current?.expires_at && current.expires_at.getTime() > now.getTime() ? current.expires_at : now;
    const expiresAt = new Date(startsAt.getTime() + club.membership_days * DAY_MS);
    const id = uuidv7(now.getTime());
    await rows(q, `INSERT INTO club_membership (member_id, id, club_id, source, paid_amount_minor, caller, idempotency_key, request_hash, starts_at, expires_at)
      VALUES ($1, $2, $3, 'PAID', $4, $5, $6, $7, $8, $9)`,
    [input.memberId, id, input.clubId, paid.value.toString(), label, input.idempotencyKey, requestHash, startsAt, expiresAt]);
    await audit(ctx, q, { action: 'club.membershipGranted', subjectType: 'MEMBER', subjectId: input.memberId, partnerId: club.partner_id, input });
    // club.joined, in the same transaction: the operator, and the partners linked to the member (a partner club: its partner, when linked).
    const links = await rows<{ partner_id: string }>(q, 'SELECT partner_id FROM member_partner_link WHERE member_id = $1', [input.memberId]);
    const receivers = links.map((l) => l.partner_id).filter((p) => club.partner_id === null || p === club.partner_id);
    const data = { memberId: input.memberId, clubId: input.clubId, expiresAt: expiresAt.toISOString(), source: MembershipSource.PAID };
    await recordEvents(q, [{ memberId: input.memberId, type: 'club.joined', occurredAt: now, partnerIds: receivers, affiliateIds: [], data,
      views: Object.fromEntries(receivers.map((p) => [`partner:${p}`, data])) }]);
    return ok<MembershipRow>({ club_id: input.clubId, expires_at: expiresAt, source: MembershipSource.PAID, paid_amount_minor: paid.value.toString() });
  }, (error) => isUniqueViolation(error, IDEMPOTENCY_CONSTRAINT));
  if (!outcome.ok) return outcome;
  return ok({ membership: await toMembership(ctx, outcome.value, club), member: (await findMember(ctx, input.memberId))! });
}
