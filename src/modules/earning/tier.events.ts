import type { NewEvent } from '../webhook/webhook.store';

/**
 * `tier.changed`: the member's tier went from `from` to `to` (tier names; null: no tier), written
 * with the change — by a posting (a purchase or a refund) or by the expiry job's downgrades. To the
 * operator and every partner linked to the member (`partnerIds`), all with the same payload
 * `{ memberId, from, to }`: a linked partner sees the member and its tier through the API.
 */
export function tierChangedEvent(memberId: string, from: string | null, to: string | null, partnerIds: string[], at: Date): NewEvent {
  const data = { memberId, from, to };
  return {
    memberId, type: 'tier.changed', occurredAt: at, partnerIds, affiliateIds: [],
    data, views: Object.fromEntries(partnerIds.map((id) => [`partner:${id}`, data])),
  };
}
