import { DataSource } from 'typeorm';
import { formatRate } from '../../common/decimal';
import { rows } from '../../db/transaction';
import { CoalitionEntity } from './coalition.entity';
import { Coalition } from './coalition.types';

export function toCoalition(row: Pick<CoalitionEntity, 'name' | 'currency' | 'currencyExponent' | 'donationValuePerPoint' | 'tiers' | 'referral'>): Coalition {
  return {
    name: row.name,
    currency: row.currency,
    currencyExponent: row.currencyExponent,
    donationValuePerPoint: formatRate(row.donationValuePerPoint),
    tiers: row.tiers,
    referral: row.referral,
  };
}

/** The one settings row, by plain SQL: it is read by every posting request. */
export async function loadCoalition(db: DataSource): Promise<Coalition> {
  const [row] = await rows<{ name: string; currency: string; currency_exponent: number; donation_value_per_point: string; tiers: Coalition['tiers']; referral: Coalition['referral'] }>(db,
    'SELECT name, currency, currency_exponent, donation_value_per_point, tiers, referral FROM coalition WHERE id = 1');
  if (!row) throw new Error('the coalition settings row is missing: have the migrations run?');
  return toCoalition({ ...row, currencyExponent: row.currency_exponent, donationValuePerPoint: row.donation_value_per_point });
}
