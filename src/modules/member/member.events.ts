import type { NewEvent } from '../webhook/webhook.store';

/**
 * `member.enrolled` (a new member) or `member.linked` (an existing member now linked to a partner),
 * written with the enrollment. The operator sees ids and the enrolling partner; the enrolling
 * partner sees the member as it may through the API (id, member code, its own reference) — other
 * partners hear nothing, since that a member joined a partner is that partner's business.
 */
export function enrollmentEvent(type: 'member.enrolled' | 'member.linked', member: { id: string; member_code: string }, partnerId: string | null, at: Date): NewEvent {
  const view = { memberId: member.id, memberCode: member.member_code };
  return {
    memberId: member.id, type, occurredAt: at, partnerIds: partnerId ? [partnerId] : [], affiliateIds: [],
    data: { ...view, partnerId },
    views: partnerId ? { [`partner:${partnerId}`]: view } : {},
  };
}

/**
 * `member.erased`: to the operator and every partner linked to the member, so each erases its own
 * copies (GDPR Art. 17(2) asks controllers to tell those who hold the data). Only the id.
 */
export function erasureEvent(memberId: string, partnerIds: string[], at: Date): NewEvent {
  const view = { memberId };
  return {
    memberId, type: 'member.erased', occurredAt: at, partnerIds, affiliateIds: [],
    data: view, views: Object.fromEntries(partnerIds.map((id) => [`partner:${id}`, view])),
  };
}
