import { Caller, MAX_TOKEN_TTL_SECONDS, Role, signToken } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { isUuid } from '../../common/ids';
import { rows } from '../../db/transaction';
import { audit, tokenIssued } from '../audit/audit.service';

export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** What issueToken reads of its input (IssueTokenInput in auth.resolver, which imports this service). */
export interface IssueTokenRequest {
  role: Role;
  subjectId?: string | null;
  ttlSeconds?: number | null;
}

/** A token for an existing subject of the role. */
export async function issueToken(ctx: RequestContext, input: IssueTokenRequest): Promise<Outcome<{ token: string; expiresAt: Date }>> {
  const ttl = input.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
    return fail(userError(ErrorCode.INVALID_INPUT, `ttlSeconds must be from 1 to ${MAX_TOKEN_TTL_SECONDS}`, ['input', 'ttlSeconds']));
  }
  const subject = input.subjectId ?? undefined;
  const field = ['input', 'subjectId'];
  let caller: Caller;
  switch (input.role) {
    case Role.ADMIN:
      if (subject) return fail(userError(ErrorCode.INVALID_INPUT, 'An ADMIN token has no subject', field));
      caller = { role: Role.ADMIN };
      break;
    case Role.PARTNER:
      if (!subject || !isUuid(subject) || !(await ctx.loaders.partner.load(subject))) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', field));
      caller = { role: Role.PARTNER, partnerId: subject };
      break;
    case Role.MEMBER: {
      const found = subject && isUuid(subject) ? await rows(ctx.db, 'SELECT 1 FROM member WHERE id = $1', [subject]) : [];
      if (!found.length) return fail(userError(ErrorCode.NOT_FOUND, 'No such member', field));
      caller = { role: Role.MEMBER, memberId: subject! };
      break;
    }
    case Role.AFFILIATE: {
      const found = subject && isUuid(subject) ? await rows(ctx.db, 'SELECT 1 FROM affiliate WHERE id = $1', [subject]) : [];
      if (!found.length) return fail(userError(ErrorCode.NOT_FOUND, 'No such affiliate', field));
      caller = { role: Role.AFFILIATE, affiliateId: subject! };
      break;
    }
  }
  await audit(ctx, ctx.db, tokenIssued(input.role, subject ?? null, ttl));
  return ok({ token: signToken(ctx.config.jwtSecret, caller, ttl), expiresAt: new Date(Date.now() + ttl * 1000) });
}
