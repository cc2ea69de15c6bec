import { DataSource } from 'typeorm';
import { Dec, formatRate } from '../../common/decimal';
import { rows } from '../../db/transaction';
import { SettlementModel } from '../ledger/settlement-model.rules';
import { CoalitionEntity } from './coalition.entity';
import { Coalition } from './coalition.types';

export function toCoalition(row: Pick<CoalitionEntity, 'name' | 'currency' | 'currencyExponent' | 'donationValuePerPoint' | 'tiers' | 'referral' | 'maxBackdateDays' | 'expiryReminderDays'>
  & { settlementModel?: SettlementModel }): Coalition {
  return {
    name: row.name,
    currency: row.currency,
    currencyExponent: row.currencyExponent,
    donationValuePerPoint: formatRate(row.donationValuePerPoint),
    tiers: row.tiers,
    // Settings saved before minimumPurchase existed read as 0: any purchase that earns a point qualifies.
    referral: row.referral && { ...row.referral, minimumPurchase: new Dec(row.referral.minimumPurchase ?? '0').toFixed(row.currencyExponent) },
    maxBackdateDays: row.maxBackdateDays,
    expiryReminderDays: row.expiryReminderDays,
    settlementModel: row.settlementModel ?? SettlementModel.BILATERAL,
  };
}

/** The one settings row, by plain SQL: it is read by every posting request. */
export async function loadCoalition(db: DataSource): Promise<Coalition> {
  const [row] = await rows<{ name: string; currency: string; currency_exponent: number; donation_value_per_point: string; tiers: Coalition['tiers']; referral: Coalition['referral'];
    max_backdate_days: number; expiry_reminder_days: number; settlement_model: SettlementModel }>(db,
    'SELECT name, currency, currency_exponent, donation_value_per_point, tiers, referral, max_backdate_days, expiry_reminder_days, settlement_model FROM coalition WHERE id = 1');
  if (!row) throw new Error('the coalition settings row is missing: have the migrations run?');
  return toCoalition({ ...row, currencyExponent: row.currency_exponent, donationValuePerPoint: row.donation_value_per_point, maxBackdateDays: row.max_backdate_days,
    expiryReminderDays: row.expiry_reminder_days, settlementModel: row.settlement_model });
}
