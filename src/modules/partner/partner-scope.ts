import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { forbidden } from '../../api/errors';

/**
 * Whose partner lists the caller may read, as a value for the service query to filter on: the
 * operator any partner's (null: no filter), a partner only its own. Anyone else is refused.
 */
export function partnerListScope(ctx: RequestContext): string | null {
  const caller = ctx.caller;
  if (caller?.role === Role.ADMIN) return null;
  if (caller?.role === Role.PARTNER) return caller.partnerId;
  throw forbidden('Only a partner and the operator see partner lists');
}
