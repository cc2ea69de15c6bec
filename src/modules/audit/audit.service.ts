import { DataSource, QueryRunner } from 'typeorm';
import { Caller, Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { forbidden } from '../../api/errors';
import { uuidv7 } from '../../common/ids';
import { Connection, DEFAULT_PAGE_SIZE, decodeCursor, toConnection } from '../../common/pagination';
import { rows } from '../../db/transaction';
import { AuditEntryEntity } from './audit.entity';
import { AuditAction, AuditSubjectType, redactInput } from './audit.rules';
import { AuditEntry, AuditLogArgs } from './audit.types';

/** What a service says about its change; who and when come from the context and the clock. */
export interface AuditRecord {
  action: AuditAction;
  subjectType: AuditSubjectType;
  /** The subject's id; null for the coalition (there is one). */
  subjectId: string | null;
  /** The partner the change is about, when it is about one (its terms, promotions, campaigns, tokens). */
  partnerId?: string | null;
  /** The change's input; redacted here before it is stored (audit.rules.ts). */
  input: unknown;
}

function actorOf(caller: Caller): { role: Role; id: string | null } {
  switch (caller.role) {
    case Role.ADMIN:
      return { role: Role.ADMIN, id: null };
    case Role.PARTNER:
      return { role: Role.PARTNER, id: caller.partnerId };
    case Role.AFFILIATE:
      return { role: Role.AFFILIATE, id: caller.affiliateId };
    case Role.MEMBER:
      return { role: Role.MEMBER, id: caller.memberId };
  }
}

/**
 * Appends one audit log entry for a change the caller makes, through `q`: pass the query runner of
 * the change's own transaction, so the entry commits with the change and a change that rolls back
 * leaves no entry. (The data source only where the entry is the request's one write, as for a token
 * issued.) The entry belongs to the acting partner when a partner calls, else to the partner the
 * change is about. Throws (a bug) without a caller: every change of configuration or access has one.
 */
export async function audit(ctx: RequestContext, q: QueryRunner | DataSource, record: AuditRecord): Promise<void> {
  if (!ctx.caller) throw new Error(`audit ${record.action}: no caller`);
  const actor = actorOf(ctx.caller);
  const now = Date.now();
  const entry: AuditEntryEntity = {
    id: uuidv7(now),
    at: new Date(now),
    actorRole: actor.role,
    actorId: actor.id,
    action: record.action,
    subjectType: record.subjectType,
    subjectId: record.subjectId,
    partnerId: actor.role === Role.PARTNER ? actor.id : (record.partnerId ?? null),
    input: redactInput(record.input),
  };
  await rows(q, `INSERT INTO audit_log (id, at, actor_role, actor_id, action, subject_type, subject_id, partner_id, input)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`,
  [entry.id, entry.at, entry.actorRole, entry.actorId, entry.action, entry.subjectType, entry.subjectId, entry.partnerId, JSON.stringify(entry.input)]);
}

interface AuditRow {
  id: string;
  at: Date;
  actor_role: Role;
  actor_id: string | null;
  action: string;
  subject_type: string;
  subject_id: string | null;
  input: unknown;
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id, at: row.at, actor: { role: row.actor_role, id: row.actor_id }, action: row.action,
    subjectType: row.subject_type, subjectId: row.subject_id, input: JSON.stringify(row.input),
  };
}

/**
 * The audit log, newest first (keyset on the time-ordered id), optionally of one action or about
 * one subject: the operator reads every entry, a partner the entries that belong to it (that it
 * made, or about itself and its terms); anyone else is FORBIDDEN.
 */
export async function listAuditLog(ctx: RequestContext, args: AuditLogArgs): Promise<Connection<AuditEntry>> {
  const caller = ctx.caller!;
  const params: unknown[] = [];
  const conditions: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (caller.role === Role.PARTNER) add('partner_id = ?', caller.partnerId);
  else if (caller.role !== Role.ADMIN) throw forbidden('The audit log is for the operator and partners');
  if (args.action != null) add('action = ?', args.action);
  if (args.subjectId != null) add('subject_id = ?', args.subjectId);
  const filter = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  const page = [...conditions];
  const pageParams = [...params];
  if (args.after) {
    pageParams.push(decodeCursor(args.after, ['uuid'])[0]);
    page.push(`id < $${pageParams.length}`);
  }
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  pageParams.push(first + 1);
  const found = await rows<AuditRow>(ctx.db,
    `SELECT id, at, actor_role, actor_id, action, subject_type, subject_id, input FROM audit_log
     ${page.length ? `WHERE ${page.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${pageParams.length}`, pageParams);
  return toConnection(found, first, (r) => [r.id], toEntry,
    async () => (await rows<{ n: number }>(ctx.db, `SELECT count(*)::int AS n FROM audit_log ${filter}`, params))[0]!.n);
}

/** The entry for a token signed for `role` and `subjectId`: role, subject and lifetime, never the token. */
export function tokenIssued(role: Role, subjectId: string | null, ttlSeconds: number): AuditRecord {
  return {
    action: 'token.issued',
    subjectType: role === Role.ADMIN ? 'OPERATOR' : role === Role.PARTNER ? 'PARTNER' : role === Role.AFFILIATE ? 'AFFILIATE' : 'MEMBER',
    subjectId,
    partnerId: role === Role.PARTNER ? subjectId : null,
    input: { role, subjectId, ttlSeconds },
  };
}
