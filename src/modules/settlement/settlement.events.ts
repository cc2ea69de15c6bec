import { formatMinorUnits } from '../../common/decimal';
import type { NewEvent } from '../webhook/webhook.store';
import type { Position } from './settlement.rules';

/**
 * `settlement.closed`, written with the run. The operator sees every position (money as decimal
 * strings in the run's currency; positive: receives); each partner and affiliate in the run sees
 * the run's period and its own position only, as it does through the API.
 */
export function settlementClosedEvent(run: { id: string; period_start: Date; period_end: Date; closed_at: Date; currency: string; currency_exponent: number },
  positions: Position[], transfers: number): NewEvent {
  const money = (minor: bigint) => ({ amount: formatMinorUnits(minor, run.currency_exponent), currency: run.currency });
  const base = { runId: run.id, periodStart: run.period_start.toISOString(), periodEnd: run.period_end.toISOString() };
  const parties = (type: string) => positions.filter((p) => p.party.type === type && p.party.id !== null);
  return {
    memberId: null, type: 'settlement.closed', occurredAt: run.closed_at,
    partnerIds: parties('PARTNER').map((p) => p.party.id!), affiliateIds: parties('AFFILIATE').map((p) => p.party.id!),
    data: { ...base, transfers, positions: positions.map((p) => ({ party: p.party, amount: money(p.amountMinor) })) },
    views: Object.fromEntries([...parties('PARTNER'), ...parties('AFFILIATE')].map((p) => [`${p.party.type.toLowerCase()}:${p.party.id}`, { ...base, position: money(p.amountMinor) }])),
  };
}
