import DataLoader from 'dataloader';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { rows } from '../../db/transaction';
import { SuppliedKind } from './member.entity';
import { Member } from './member.types';

/** A partner's link to a member, as far as its view of the member needs it. */
interface PartnerLinkView {
  supplied: SuppliedKind[];
  externalRef: string | null;
}

/** One loader per request (the context is the key), so a list of members costs one query. */
const linkLoaders = new WeakMap<RequestContext, DataLoader<string, PartnerLinkView | undefined>>();

function linkLoader(ctx: RequestContext, partnerId: string): DataLoader<string, PartnerLinkView | undefined> {
  let loader = linkLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader(async (memberIds: readonly string[]) => {
      const found = await rows<{ member_id: string; supplied_identifiers: SuppliedKind[]; external_ref: string | null }>(ctx.db,
        'SELECT member_id, supplied_identifiers, external_ref FROM member_partner_link WHERE partner_id = $1 AND member_id = ANY($2::uuid[])', [partnerId, memberIds]);
      const byMember = new Map(found.map((l) => [l.member_id, { supplied: l.supplied_identifiers, externalRef: l.external_ref }]));
      return memberIds.map((id) => byMember.get(id));
    });
    linkLoaders.set(ctx, loader);
  }
  return loader;
}

const COLUMN: Record<SuppliedKind, 'email' | 'phone' | 'birthDate'> = {
  [SuppliedKind.EMAIL]: 'email',
  [SuppliedKind.PHONE]: 'phone',
  [SuppliedKind.BIRTH_DATE]: 'birthDate',
};

/**
 * A member's e-mail, phone or birth date as the caller may see it (docs/rules.md, Members and
 * identity): the member itself and the operator see it; a partner only when it supplied that
 * value itself at enrollment; anyone else never. Applies wherever a Member is returned.
 */
export async function visibleIdentifier(ctx: RequestContext, member: Member, kind: SuppliedKind): Promise<string | null> {
  const value = member[COLUMN[kind]];
  const caller = ctx.caller;
  if (value === null || !caller) return null;
  switch (caller.role) {
    case Role.ADMIN:
      return value;
    case Role.MEMBER:
      return caller.memberId === member.id ? value : null;
    case Role.PARTNER:
      return (await linkLoader(ctx, caller.partnerId).load(member.id))?.supplied.includes(kind) ? value : null;
    case Role.AFFILIATE:
      return null;
  }
}

/** Drops what this request has read of the member's links: an enrollment just changed them. */
export function forgetLinkView(ctx: RequestContext, memberId: string): void {
  linkLoaders.get(ctx)?.clear(memberId);
}

/** The calling partner's own reference for the member; null for every other caller. */
export async function ownExternalRef(ctx: RequestContext, member: Member): Promise<string | null> {
  const caller = ctx.caller;
  if (caller?.role !== Role.PARTNER) return null;
  return (await linkLoader(ctx, caller.partnerId).load(member.id))?.externalRef ?? null;
}
