import type { DataSource, QueryRunner } from 'typeorm';
import { rows } from '../../db/transaction';

/** A partner's link to a member as events need it: the partner, and its own reference for the member. */
export interface MemberLink {
  partnerId: string;
  externalRef: string | null;
}

/**
 * The partners each of these members is linked to (member id → links, in link order), for events
 * that go to every linked partner (`tier.changed`, `points.expiring`). One query for all members.
 */
export async function loadMemberLinks(q: DataSource | QueryRunner, memberIds: string[]): Promise<Map<string, MemberLink[]>> {
  const byMember = new Map<string, MemberLink[]>();
  if (!memberIds.length) return byMember;
  const found = await rows<{ member_id: string; partner_id: string; external_ref: string | null }>(q,
    'SELECT member_id, partner_id, external_ref FROM member_partner_link WHERE member_id = ANY($1::uuid[]) ORDER BY member_id, linked_at, partner_id', [memberIds]);
  for (const l of found) {
    const list = byMember.get(l.member_id) ?? [];
    list.push({ partnerId: l.partner_id, externalRef: l.external_ref });
    byMember.set(l.member_id, list);
  }
  return byMember;
}
