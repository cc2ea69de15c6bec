import DataLoader from 'dataloader';
import { toDonation } from '../charity/charity.service';
import type { DonationRow } from '../ledger/ledger.store';
import type { DataSource, QueryRunner } from 'typeorm';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { inTransaction, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { erasureEvent } from '../member/member.events';
import { recordEvents } from '../webhook/webhook.store';
import { getCoalition } from '../coalition/coalition.service';
import { toTransaction } from '../ledger/ledger.view';
import { TRANSACTION_COLUMNS, TransactionRow } from '../ledger/ledger.store';
import { IdentifierKind } from '../member/member.entity';
import { MEMBER_COLUMNS, MemberRow, toMember } from '../member/member.service';
import { Member } from '../member/member.types';
import { EraseMemberInput, UpdatePreferencesInput } from './lifecycle.inputs';
import { EffectivePreference, StoredPreference, effectivePreferences, erasedCode, preferenceProblems, subjectMember } from './lifecycle.rules';
import { Channel, ConsentLevel, MAX_EXPORT_TRANSACTIONS, MemberExport } from './lifecycle.types';

interface PreferenceRow {
  member_id: string;
  erased: boolean;
  channel: Channel | null;
  level: ConsentLevel | null;
  updated_at: Date | null;
}

/** The preferences of many members in one query, in the order asked (DataLoader batch function). */
async function loadPreferences(db: DataSource, memberIds: readonly string[]): Promise<EffectivePreference[][]> {
  const found = await rows<PreferenceRow>(db,
    `SELECT m.id AS member_id, m.erased_at IS NOT NULL AS erased, p.channel, p.level, p.updated_at
     FROM member m LEFT JOIN member_preference p ON p.member_id = m.id WHERE m.id = ANY($1::uuid[])`, [memberIds]);
  const byMember = new Map<string, { erased: boolean; stored: StoredPreference[] }>();
  for (const row of found) {
    const member = byMember.get(row.member_id) ?? { erased: row.erased, stored: [] };
    if (row.channel && row.level && row.updated_at) member.stored.push({ channel: row.channel, level: row.level, updatedAt: row.updated_at });
    byMember.set(row.member_id, member);
  }
  return memberIds.map((id) => effectivePreferences(byMember.get(id)?.stored ?? [], byMember.get(id)?.erased ?? false));
}

// One loader a request, kept beside the request context rather than in it: the context's loaders
// belong to the shared plumbing, and this module is the only reader of preferences.
const preferenceLoaders = new WeakMap<RequestContext, DataLoader<string, EffectivePreference[]>>();

function preferenceLoader(ctx: RequestContext): DataLoader<string, EffectivePreference[]> {
  let loader = preferenceLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids: readonly string[]) => loadPreferences(ctx.db, ids));
    preferenceLoaders.set(ctx, loader);
  }
  return loader;
}

/**
 * A member's preferences on every channel. Member objects come only from visibility-checked reads,
 * so whoever holds one may read its preferences (docs/rules.md: readable by linked partners).
 */
export function memberPreferences(ctx: RequestContext, memberId: string): Promise<EffectivePreference[]> {
  return preferenceLoader(ctx).load(memberId);
}

/** Sets the levels of the channels given; the others keep theirs. */
export async function updatePreferences(ctx: RequestContext, input: UpdatePreferencesInput): Promise<Outcome<Member>> {
  const subject = subjectMember(ctx.caller!, input.memberId, ['input', 'memberId']);
  if (!subject.ok) return subject;
  const problems = preferenceProblems(input.preferences);
  if (problems.length) return fail(...problems);
  const memberId = subject.value;
  const outcome = await inTransaction(ctx.db, async (q) => {
    // FOR SHARE waits out an erasure in progress, so no preference outlives the member's erasure.
    const [member] = await rows<MemberRow & { erased_at: Date | null }>(q,
      `SELECT ${MEMBER_COLUMNS}, m.erased_at FROM member m WHERE m.id = $1 FOR SHARE`, [memberId]);
    if (!member) return fail(userError(ErrorCode.NOT_FOUND, 'No such member', ['input', 'memberId']));
    if (member.erased_at) return fail(userError(ErrorCode.INVALID_INPUT, 'This member has been erased: there is no one left to send messages to'));
    await rows(q,
      `INSERT INTO member_preference (member_id, channel, level, updated_at)
       SELECT $1, channel, level, now() FROM unnest($2::text[], $3::text[]) AS x(channel, level)
       ON CONFLICT (member_id, channel) DO UPDATE SET level = EXCLUDED.level, updated_at = EXCLUDED.updated_at`,
      [memberId, input.preferences.map((p) => p.channel), input.preferences.map((p) => p.level)]);
    await audit(ctx, q, { action: 'member.preferencesUpdated', subjectType: 'MEMBER', subjectId: memberId, input });
    return ok(toMember(member));
  });
  // The payload's member reads its preferences after this write, not from an earlier load in the request.
  if (outcome.ok) preferenceLoader(ctx).clear(memberId);
  return outcome;
}

/**
 * Everything the hub holds about a member, read from one snapshot. Not found (null) for a member
 * the caller may not export; INVALID_INPUT when the operator names no member.
 */
export async function exportMemberData(ctx: RequestContext, memberId: string | null | undefined): Promise<Outcome<MemberExport | null>> {
  const subject = subjectMember(ctx.caller!, memberId, ['memberId']);
  if (!subject.ok) return subject.errors.every((e) => e.code === ErrorCode.NOT_FOUND) ? ok(null) : subject;
  const coalition = await getCoalition(ctx);
  const currency = { code: coalition.currency, exponent: coalition.currencyExponent };
  const outcome = await inTransaction<MemberExport | null>(ctx.db, async (q) => {
    await rows(q, 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const [member] = await rows<MemberRow & { erased_at: Date | null }>(q,
      `SELECT ${MEMBER_COLUMNS}, m.erased_at FROM member m WHERE m.id = $1`, [subject.value]);
    if (!member) return ok(null);
    const identifiers = await rows<{ kind: IdentifierKind; value: string }>(q,
      'SELECT kind, value FROM member_identifier WHERE member_id = $1 ORDER BY kind, value', [member.id]);
    const partners = await rows<{ partner_id: string; partner_name: string; linked_at: Date; external_ref: string | null }>(q,
      `SELECT l.partner_id, p.name AS partner_name, l.linked_at, l.external_ref
       FROM member_partner_link l JOIN partner p ON p.id = l.partner_id WHERE l.member_id = $1 ORDER BY l.linked_at, l.partner_id`, [member.id]);
    const stored = await rows<{ channel: Channel; level: ConsentLevel; updated_at: Date }>(q,
      'SELECT channel, level, updated_at FROM member_preference WHERE member_id = $1', [member.id]);
    // One more than the cap, to tell a full export from a cut one.
    const transactions = await rows<TransactionRow>(q,
      `SELECT ${TRANSACTION_COLUMNS} FROM ledger_transaction WHERE member_id = $1 ORDER BY id LIMIT $2`, [member.id, MAX_EXPORT_TRANSACTIONS + 1]);
    const donations = await rows<DonationRow & { cause_name: string }>(q,
      'SELECT d.*, c.name AS cause_name FROM donation d JOIN cause c ON c.id = d.cause_id WHERE d.member_id = $1 ORDER BY d.id', [member.id]);
    const data: Omit<MemberExport, 'json'> = {
      exportedAt: new Date(),
      member: toMember(member),
      identifiers: identifiers.map((i) => ({ kind: i.kind, value: i.value })),
      partners: partners.map((l) => ({ partnerId: l.partner_id, partnerName: l.partner_name, linkedAt: l.linked_at, externalRef: l.external_ref })),
      preferences: effectivePreferences(stored.map((p) => ({ channel: p.channel, level: p.level, updatedAt: p.updated_at })), member.erased_at !== null),
      transactions: transactions.slice(0, MAX_EXPORT_TRANSACTIONS).map((t) => toTransaction(t, currency)),
      transactionsTruncated: transactions.length > MAX_EXPORT_TRANSACTIONS,
      donations: donations.map((d) => toDonation(d, d.cause_name, coalition)),
    };
    // The document carries the same fields under the same names as the GraphQL type.
    return ok({ ...data, json: JSON.stringify(data) });
  });
  if (outcome.ok && outcome.value) preferenceLoader(ctx).clear(outcome.value.member.id).prime(outcome.value.member.id, outcome.value.preferences);
  return outcome;
}

/** The member's identifiers as enrollment names its advisory locks (member.service.ts). */
async function identifierLockKeys(q: QueryRunner, memberId: string): Promise<string[]> {
  const found = await rows<{ key: string }>(q, `SELECT kind || ':' || value AS key FROM member_identifier WHERE member_id = $1`, [memberId]);
  return found.map((r) => r.key).sort();
}

/**
 * Erases a member (docs/rules.md: identifiers anonymized, ledger kept). Its identifiers go, so no
 * lookup or enrollment finds it again; its contact details and birth date go; its codes become a
 * placeholder; partners' references to it and its preferences go. Its balance, transactions,
 * entries, lots, debts and obligations stay as they are: nothing is posted, and its points stay
 * on its account, which no one can reach through an identifier any more. Erasing again changes
 * nothing and keeps the first erasure's time.
 */
export async function eraseMember(ctx: RequestContext, input: EraseMemberInput): Promise<Outcome<Member>> {
  const subject = subjectMember(ctx.caller!, input.memberId, ['input', 'memberId']);
  if (!subject.ok) return subject;
  const memberId = subject.value;
  const outcome = await inTransaction(ctx.db, async (q) => {
    // Enrollment locks identifiers (advisory) before the member row; taking them in the same order
    // lets an enrollment that already matched this member finish first, and makes a later one
    // find nothing and create a new member, instead of re-attaching an address to this one.
    const locked = new Set<string>();
    const lockIdentifiers = async (keys: string[]) => {
      const fresh = keys.filter((k) => !locked.has(k));
      if (fresh.length) await rows(q, 'SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k', [fresh]);
      for (const k of fresh) locked.add(k);
    };
    await lockIdentifiers(await identifierLockKeys(q, memberId));
    // The member row, as a posting locks it: erasure and postings on this member take turns.
    const [member] = await rows<{ id: string }>(q, 'SELECT id FROM member WHERE id = $1 FOR UPDATE', [memberId]);
    if (!member) return fail(userError(ErrorCode.NOT_FOUND, 'No such member', ['input', 'memberId']));
    // Identifiers added between the first read and the row lock belong to an enrollment that has
    // committed; none can be added now that the row is held (enrollment locks it to add one).
    await lockIdentifiers(await identifierLockKeys(q, memberId));
    await rows(q, 'DELETE FROM member_identifier WHERE member_id = $1', [memberId]);
    await rows(q, 'DELETE FROM member_preference WHERE member_id = $1', [memberId]);
    await rows(q, 'UPDATE member_partner_link SET external_ref = NULL WHERE member_id = $1 AND external_ref IS NOT NULL', [memberId]);
    const [erased] = await rows<MemberRow>(q,
      `UPDATE member m SET email = NULL, phone = NULL, birth_date = NULL, member_code = $2, referral_code = $2, erased_at = COALESCE(m.erased_at, now())
       WHERE m.id = $1 RETURNING ${MEMBER_COLUMNS}`, [memberId, erasedCode(memberId)]);
    await audit(ctx, q, { action: 'member.erased', subjectType: 'MEMBER', subjectId: memberId, input });
    // Linked partners hear of it, so they erase their own copies of the member's data.
    const links = await rows<{ partner_id: string }>(q, 'SELECT partner_id FROM member_partner_link WHERE member_id = $1', [memberId]);
    await recordEvents(q, [erasureEvent(memberId, links.map((l) => l.partner_id), new Date())]);
    return ok(toMember(erased!));
  });
  if (outcome.ok) preferenceLoader(ctx).clear(memberId);
  return outcome;
}
