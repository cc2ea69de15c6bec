import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { isUuid } from '../../common/ids';

/**
 * The partner a partner-facing mutation acts for: a partner acts for itself; the operator acts for
 * the partner it names in `partnerId`, or for the coalition itself (null) where that is allowed.
 */
export async function actingPartner(ctx: RequestContext, partnerId: string | null | undefined, operatorMayOmit: boolean): Promise<Outcome<string | null>> {
  const caller = ctx.caller!;
  if (caller.role === Role.PARTNER) {
    if (partnerId && partnerId !== caller.partnerId) return fail(userError(ErrorCode.INVALID_INPUT, 'A partner acts only for itself; leave partnerId out', ['input', 'partnerId']));
    return ok(caller.partnerId);
  }
  if (!partnerId) {
    return operatorMayOmit ? ok(null) : fail(userError(ErrorCode.INVALID_INPUT, 'The operator must name the partner it acts for', ['input', 'partnerId']));
  }
  if (!isUuid(partnerId) || !(await ctx.loaders.partner.load(partnerId))) return fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId']));
  return ok(partnerId);
}
