import { QueryRunner } from 'typeorm';
import { rows } from '../../db/transaction';
import type { CampaignRow } from '../ledger/ledger.store';

/** Active campaigns for these causes at `at`, locked: matches take from their caps one at a time. */
export async function lockCampaigns(q: QueryRunner, causeIds: string[], at: Date): Promise<CampaignRow[]> {
  if (!causeIds.length) return [];
  return rows<CampaignRow>(q, `SELECT id, partner_id, cause_id, ratio::text, cap_points, matched_points FROM matching_campaign
    WHERE cause_id = ANY($1::uuid[]) AND starts_at <= $2 AND ends_at > $2 ORDER BY id FOR UPDATE`, [causeIds, at.toISOString()]);
}

/** The causes donated to (by id): a donation needs the cause to exist and be active. */
export async function loadCauses(q: QueryRunner, causeIds: string[]): Promise<Map<string, { id: string; name: string; active: boolean }>> {
  if (!causeIds.length) return new Map();
  const found = await rows<{ id: string; name: string; active: boolean }>(q, 'SELECT id, name, active FROM cause WHERE id = ANY($1::uuid[])', [causeIds]);
  return new Map(found.map((c) => [c.id, c]));
}
