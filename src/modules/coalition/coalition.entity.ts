import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import { SettlementModel } from '../ledger/settlement-model.rules';

export interface Tier {
  name: string;
  qualifyingPoints: number;
  earnMultiplier: string;
}

export interface ReferralSettings {
  refereeBonus: number;
  referrerBonus: number;
  milestones: { referrals: number; bonus: number }[];
  /** Decimal string, currency units: the least a qualifying purchase amounts to; absent in settings saved before it existed ('0'). */
  minimumPurchase?: string;
}

/** The coalition's settings: one row. */
@Entity('coalition')
@Check('CHK_coalition_single_row', '"id" = 1')
@Check('CHK_coalition_max_backdate_days', '"max_backdate_days" BETWEEN 1 AND 3650')
@Check('CHK_coalition_expiry_reminder_days', '"expiry_reminder_days" BETWEEN 1 AND 365')
@Check('CHK_coalition_settlement_model', `"settlement_model" IN ('BILATERAL', 'CLEARING')`)
export class CoalitionEntity {
  @PrimaryColumn({ type: 'smallint', default: 1 })
  id: number;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'varchar', length: 3 })
  currency: string;

  @Column({ name: 'currency_exponent', type: 'smallint' })
  currencyExponent: number;

  @Column({ name: 'donation_value_per_point', type: 'numeric', precision: 20, scale: 6 })
  donationValuePerPoint: string;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  tiers: Tier[];

  @Column({ type: 'jsonb', nullable: true })
  referral: ReferralSettings | null;

  /** How many days in the past a purchase's occurredAt may lie (docs/rules.md, Earning). */
  @Column({ name: 'max_backdate_days', type: 'integer', default: 30 })
  maxBackdateDays: number;

  /** Days before its lots expire that a member is reminded (`points.expiring`; docs/rules.md, Events and webhooks). */
  @Column({ name: 'expiry_reminder_days', type: 'integer', default: 30 })
  expiryReminderDays: number;
  /** BILATERAL or CLEARING (docs/rules.md, Redemption and settlement): applies to events posted after a change. */
  @Column({ name: 'settlement_model', type: 'varchar', length: 10, default: SettlementModel.BILATERAL })
  settlementModel: SettlementModel;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
