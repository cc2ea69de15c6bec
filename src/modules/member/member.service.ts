import { QueryRunner } from 'typeorm';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, UserError, fail, ok, userError } from '../../api/errors';
import { isUuid, newMemberCode, newReferralCode, normalizeMemberCode, normalizeReferralCode, uuidv7 } from '../../common/ids';
import { Connection, DEFAULT_PAGE_SIZE, PageArgs, cursorTimestamp, decodeCursor, toConnection } from '../../common/pagination';
import { inTransaction, preparedRows, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { enrollmentEvent } from './member.events';
import { recordEvents } from '../webhook/webhook.store';
import { invisibleCharacter } from '../../common/text';
import { actingPartner } from '../partner/acting-partner';
import { partnerListScope } from '../partner/partner-scope';
import { normalizeAffiliateCode } from '../affiliate/affiliate.codes';
import { IdentifierKind, SuppliedKind } from './member.entity';
import { EnrollMemberInput } from './member.inputs';
import { ContactIdentity, isPlausibleBirthDate, isSamePerson, normalizeEmail, normalizePhone } from './member.rules';
import { Member } from './member.types';
import { MEMBER_STORED_COLUMNS, MemberRow } from './member.row';

export { MEMBER_STORED_COLUMNS };
export type { MemberRow };

/**
 * Points of the member `m` past expiry now that the expiry job has not moved yet: an index range
 * over its open lots already due (IDX_lot_open), normally empty, so a balance read stays one row.
 */
export const EXPIRED_POINTS_SQL = `COALESCE((SELECT sum(x.remaining) FROM lot x WHERE x.member_id = m.id AND x.remaining > 0 AND x.expires_at <= now()), 0)::text`;

/**
 * Points of the member `m` still pending now (docs/rules.md, Lots): an index range over its open lots
 * that have a return window and whose window has not ended (IDX_lot_pending), normally empty. Judged
 * against the reading instant, so no job has to run for pending points to become available.
 */
export const PENDING_POINTS_SQL = `COALESCE((SELECT sum(x.remaining) FROM lot x WHERE x.member_id = m.id AND x.remaining > 0 AND x.available_at IS NOT NULL AND x.available_at > now()), 0)::text`;

/**
 * The member row for reads: with `expired_points` and `pending_points`, so toMember shows the balance
 * available now and what is pending (docs/rules.md, Available balance).
 */
export const MEMBER_COLUMNS = `${MEMBER_STORED_COLUMNS}, ${EXPIRED_POINTS_SQL} AS expired_points, ${PENDING_POINTS_SQL} AS pending_points`;

export function toMember(row: MemberRow): Member {
  return {
    id: row.id,
    memberCode: row.member_code,
    referralCode: row.referral_code,
    email: row.email,
    phone: row.phone,
    birthDate: row.birth_date,
    // What can be spent now: lots past expiry count for nothing, whether or not the job has run;
    // pending lots count once their window has ended.
    balance: Number(row.balance) - Number(row.expired_points ?? 0) - Number(row.pending_points ?? 0),
    pendingPoints: Number(row.pending_points ?? 0),
    debt: Number(row.debt),
    tierName: row.tier,
    successfulReferrals: row.successful_referrals,
    createdAt: row.created_at,
  };
}

interface Identifier {
  kind: IdentifierKind;
  value: string;
}

/** What a caller gave that is not the identifier it was asked for: an invisible or bidirectional control character. */
function invisibleError(text: string | null | undefined, field: string): UserError | undefined {
  const found = text == null ? undefined : invisibleCharacter(text);
  return found ? userError(ErrorCode.INVALID_INPUT, `${field} contains an invisible or direction-changing character (${found})`, ['input', field]) : undefined;
}

/** The normalized identifiers of an enrollment, or what is wrong with them. */
function enrollmentIdentifiers(input: EnrollMemberInput, partnerId: string | null): Outcome<Identifier[]> {
  const errors: UserError[] = [];
  const identifiers: Identifier[] = [];
  const invisible = (['email', 'phone', 'externalRef', 'referralCode', 'affiliateCode'] as const).flatMap((f) => invisibleError(input[f], f) ?? []);
  if (invisible.length) return fail(...invisible);
  if (input.email != null) {
    const email = normalizeEmail(input.email);
    if (email) identifiers.push({ kind: IdentifierKind.EMAIL, value: email });
    else errors.push(userError(ErrorCode.INVALID_INPUT, 'email is not a valid e-mail address', ['input', 'email']));
  }
  if (input.phone != null) {
    const phone = normalizePhone(input.phone);
    if (phone) identifiers.push({ kind: IdentifierKind.PHONE, value: phone });
    else errors.push(userError(ErrorCode.INVALID_INPUT, 'phone must be a valid number in international format, e.g. +44 7700 900123', ['input', 'phone']));
  }
  if (input.externalRef != null) {
    const ref = input.externalRef.trim();
    if (!ref) errors.push(userError(ErrorCode.INVALID_INPUT, 'externalRef must not be empty', ['input', 'externalRef']));
    else if (!partnerId) errors.push(userError(ErrorCode.INVALID_INPUT, 'externalRef belongs to a partner: name the partner', ['input', 'externalRef']));
    else identifiers.push({ kind: IdentifierKind.EXTERNAL_REF, value: `${partnerId}:${ref}` });
  }
  if (input.birthDate != null && !isPlausibleBirthDate(input.birthDate)) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'birthDate must be a real date in the past', ['input', 'birthDate']));
  }
  if (!errors.length && identifiers.length === 0) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'Give at least one of email, phone or externalRef', ['input']));
  }
  return errors.length ? fail(...errors) : ok(identifiers);
}

/** Inserts a generated code identifier, drawing again on the rare collision. */
async function claimGeneratedCode(q: QueryRunner, kind: IdentifierKind, memberId: string, generate: () => string): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const code = generate();
    const inserted = await rows(q, `INSERT INTO member_identifier (kind, value, member_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`, [kind, code, memberId]);
    if (inserted.length) return code;
  }
  throw new Error(`could not draw a free ${kind}`);
}

export interface EnrollResult {
  member: Member;
  created: boolean;
}

/** The one message for every referral code that cannot be used: it must not tell whose code it is. */
const referralCodeNotValid = () => fail(userError(ErrorCode.INVALID_INPUT, 'referralCode is not valid', ['input', 'referralCode']));

/**
 * Enrolls a member (docs/rules.md, Members and identity): returns the existing member when any
 * identifier matches, otherwise creates one; links the member to the acting partner either way,
 * recording which of the member's identifiers (and birth date) this partner supplied — the ones
 * it will see. Enrolling an existing member never adds or changes its e-mail, phone or birth
 * date: a value the member does not hold is ignored (no error, nothing recorded), so a partner
 * cannot attach its own phone to someone else's account; only the partner's own externalRef is
 * added. A referral code is ignored for an existing member; for a new one, a code that is unknown
 * or the new member's own (same mailbox or phone, see isSamePerson) is refused with one neutral
 * message. An affiliate code naming the new member's own affiliate account attributes nothing.
 */
export async function enrollMember(ctx: RequestContext, input: EnrollMemberInput): Promise<Outcome<EnrollResult>> {
  const acting = await actingPartner(ctx, input.partnerId, true);
  if (!acting.ok) return acting;
  const partnerId = acting.value;
  if (partnerId && !(await ctx.loaders.partner.load(partnerId))) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
  const parsed = enrollmentIdentifiers(input, partnerId);
  if (!parsed.ok) return parsed;
  const identifiers = parsed.value;
  const given = (kind: IdentifierKind) => identifiers.find((i) => i.kind === kind)?.value ?? null;
  const contact: ContactIdentity = { email: given(IdentifierKind.EMAIL), phone: given(IdentifierKind.PHONE) };
  let affiliate: { id: string; email: string; phone: string | null } | undefined;
  if (input.affiliateCode != null) {
    const code = normalizeAffiliateCode(input.affiliateCode);
    [affiliate] = code ? await rows<{ id: string; email: string; phone: string | null }>(ctx.db, 'SELECT id, email, phone FROM affiliate WHERE code = $1', [code]) : [];
    if (!affiliate) return fail(userError(ErrorCode.INVALID_INPUT, 'Unknown affiliate code', ['input', 'affiliateCode']));
  }
  const referralCode = input.referralCode == null ? null : normalizeReferralCode(input.referralCode);
  if (input.referralCode != null && !referralCode) return referralCodeNotValid();
  return inTransaction(ctx.db, async (q) => {
    // Concurrent enrollments of the same person queue here instead of racing to create two members.
    const keys = identifiers.map((i) => `${i.kind}:${i.value}`).sort();
    await rows(q, `SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k`, [keys]);
    const matches = await rows<{ kind: IdentifierKind; value: string; member_id: string }>(q,
      `SELECT kind, value, member_id FROM member_identifier i JOIN unnest($1::text[], $2::text[]) AS x(kind, value) USING (kind, value)`,
      [identifiers.map((i) => i.kind), identifiers.map((i) => i.value)]);
    const memberIds = [...new Set(matches.map((m) => m.member_id))];
    if (memberIds.length > 1) {
      return fail(userError(ErrorCode.INVALID_INPUT, 'These identifiers belong to different members', ['input']));
    }
    let memberId = memberIds[0];
    const created = memberId === undefined;
    let supplied: SuppliedKind[];
    if (memberId === undefined) {
      let referrerId: string | null = null;
      if (referralCode) {
        const [referrer] = await rows<{ id: string; email: string | null; phone: string | null }>(q,
          `SELECT m.id, m.email, m.phone FROM member_identifier i JOIN member m ON m.id = i.member_id WHERE i.kind = $1 AND i.value = $2`,
          [IdentifierKind.REFERRAL_CODE, referralCode]);
        if (!referrer || isSamePerson(contact, referrer)) return referralCodeNotValid();
        referrerId = referrer.id;
      }
      // An affiliate is credited with the members it brings, never with itself: attribution is set at creation and sticks.
      const affiliateId = affiliate && !isSamePerson(contact, affiliate) ? affiliate.id : null;
      memberId = uuidv7();
      const memberCode = await claimGeneratedCode(q, IdentifierKind.MEMBER_CODE, memberId, newMemberCode);
      const newReferral = await claimGeneratedCode(q, IdentifierKind.REFERRAL_CODE, memberId, newReferralCode);
      await rows(q, `INSERT INTO member (id, member_code, referral_code, email, phone, birth_date, referred_by_member_id, affiliate_id, affiliate_attributed_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $8::uuid IS NULL THEN NULL ELSE now() END)`,
      [memberId, memberCode, newReferral, contact.email, contact.phone, input.birthDate ?? null, referrerId, affiliateId]);
      supplied = suppliedKinds(contact, input.birthDate ?? null, { ...contact, birth_date: input.birthDate ?? null });
    } else {
      // An existing member keeps its identifiers: the partner is credited only with those it gave that the member holds.
      const [existing] = await rows<{ email: string | null; phone: string | null; birth_date: string | null }>(q,
        'SELECT email, phone, birth_date::text AS birth_date FROM member WHERE id = $1', [memberId]);
      supplied = suppliedKinds(contact, input.birthDate ?? null, existing!);
    }
    const known = new Set(matches.map((m) => `${m.kind}:${m.value}`));
    // A new member gets every identifier; an existing one at most the partner's own reference.
    const fresh = identifiers.filter((i) => !known.has(`${i.kind}:${i.value}`) && (created || i.kind === IdentifierKind.EXTERNAL_REF));
    if (fresh.length) {
      await rows(q, `INSERT INTO member_identifier (kind, value, member_id) SELECT kind, value, $3 FROM unnest($1::text[], $2::text[]) AS x(kind, value)`,
        [fresh.map((i) => i.kind), fresh.map((i) => i.value), memberId]);
    }
    let linked = false;
    if (partnerId) {
      const [link] = await rows<{ inserted: boolean }>(q, `INSERT INTO member_partner_link (member_id, partner_id, external_ref, supplied_identifiers) VALUES ($1, $2, $3, $4::varchar[])
                     ON CONFLICT (member_id, partner_id) DO UPDATE SET external_ref = COALESCE(EXCLUDED.external_ref, member_partner_link.external_ref),
                       supplied_identifiers = ARRAY(SELECT DISTINCT unnest(member_partner_link.supplied_identifiers || EXCLUDED.supplied_identifiers) ORDER BY 1)
                     RETURNING (xmax = 0) AS inserted`,
      [memberId, partnerId, input.externalRef?.trim() || null, supplied]);
      linked = link!.inserted;
    }
    if (!created && fresh.length) await audit(ctx, q, { action: 'member.identifiersAdded', subjectType: 'MEMBER', subjectId: memberId, partnerId, input: { identifiers: fresh } });
    const [row] = await rows<MemberRow>(q, `SELECT ${MEMBER_COLUMNS} FROM member m WHERE m.id = $1`, [memberId]);
    if (created || linked) await recordEvents(q, [enrollmentEvent(created ? 'member.enrolled' : 'member.linked', row!, partnerId, new Date())]);
    return ok({ member: toMember(row!), created });
  });
}

/** The kinds among what a partner gave that the member holds with exactly that value: what the partner supplied. */
function suppliedKinds(given: ContactIdentity, birthDate: string | null, holds: ContactIdentity & { birth_date: string | null }): SuppliedKind[] {
  const kinds: SuppliedKind[] = [];
  if (given.email && given.email === holds.email) kinds.push(SuppliedKind.EMAIL);
  if (given.phone && given.phone === holds.phone) kinds.push(SuppliedKind.PHONE);
  if (birthDate && birthDate === holds.birth_date) kinds.push(SuppliedKind.BIRTH_DATE);
  return kinds;
}

/**
 * The visibility rule, as SQL: the operator sees every member, a partner its linked members,
 * a member itself, an affiliate none (its masked view comes with the affiliate issue).
 */
function visibleMemberFilter(ctx: RequestContext, params: unknown[]): string {
  const caller = ctx.caller!;
  switch (caller.role) {
    case Role.ADMIN:
      return 'TRUE';
    case Role.PARTNER:
      params.push(caller.partnerId);
      return `EXISTS (SELECT 1 FROM member_partner_link l WHERE l.member_id = m.id AND l.partner_id = $${params.length})`;
    case Role.MEMBER:
      params.push(caller.memberId);
      return `m.id = $${params.length}`;
    case Role.AFFILIATE:
      return 'FALSE';
  }
}

export async function findMember(ctx: RequestContext, id: string): Promise<Member | null> {
  if (!isUuid(id)) return null;
  const params: unknown[] = [id];
  const filter = visibleMemberFilter(ctx, params);
  const [row] = await preparedRows<MemberRow>(ctx.db, `SELECT ${MEMBER_COLUMNS} FROM member m WHERE m.id = $1 AND ${filter}`, params);
  return row ? toMember(row) : null;
}

export interface IdentifierQuery {
  email?: string | null;
  phone?: string | null;
  memberCode?: string | null;
}

/** A member by exactly one identifier, normalized as at enrollment. */
export async function findMemberByIdentifier(ctx: RequestContext, query: IdentifierQuery): Promise<Outcome<Member | null>> {
  const given = (['email', 'phone', 'memberCode'] as const).filter((k) => query[k] != null);
  if (given.length !== 1) return fail(userError(ErrorCode.INVALID_INPUT, 'Give exactly one of email, phone or memberCode'));
  const key = given[0]!;
  const raw = query[key]!;
  const invisible = invisibleCharacter(raw);
  if (invisible) return fail(userError(ErrorCode.INVALID_INPUT, `${key} contains an invisible or direction-changing character (${invisible})`, [key]));
  const [kind, value] = key === 'email' ? [IdentifierKind.EMAIL, normalizeEmail(raw)]
    : key === 'phone' ? [IdentifierKind.PHONE, normalizePhone(raw)]
    : [IdentifierKind.MEMBER_CODE, normalizeMemberCode(raw)];
  if (!value) return ok(null);
  const params: unknown[] = [kind, value];
  const filter = visibleMemberFilter(ctx, params);
  const [row] = await rows<MemberRow>(ctx.db,
    `SELECT ${MEMBER_COLUMNS} FROM member_identifier i JOIN member m ON m.id = i.member_id WHERE i.kind = $1 AND i.value = $2 AND ${filter}`, params);
  return ok(row ? toMember(row) : null);
}

/** The members linked to a partner, newest link first. */
export async function listPartnerMembers(ctx: RequestContext, partnerId: string, page: PageArgs): Promise<Connection<Member>> {
  const first = page.first ?? DEFAULT_PAGE_SIZE;
  const params: unknown[] = [partnerId, first + 1, partnerListScope(ctx)];
  let keyset = '';
  if (page.after) {
    const [linkedAt, memberId] = decodeCursor(page.after, ['timestamp', 'uuid']);
    params.push(linkedAt, memberId);
    keyset = 'AND (l.linked_at, l.member_id) < ($4::timestamptz, $5::uuid)';
  }
  const found = await rows<MemberRow & { linked_key: string }>(ctx.db,
    `SELECT ${MEMBER_COLUMNS}, ${cursorTimestamp('l.linked_at')} AS linked_key FROM member_partner_link l JOIN member m ON m.id = l.member_id
     WHERE l.partner_id = $1 AND ($3::uuid IS NULL OR l.partner_id = $3) ${keyset} ORDER BY l.linked_at DESC, l.member_id DESC LIMIT $2`, params);
  return toConnection(found, first, (r) => [r.linked_key, r.id], toMember, async () => {
    const [count] = await rows<{ n: number }>(ctx.db, 'SELECT count(*)::int AS n FROM member_partner_link WHERE partner_id = $1 AND ($2::uuid IS NULL OR partner_id = $2)',
      [partnerId, partnerListScope(ctx)]);
    return count!.n;
  });
}
