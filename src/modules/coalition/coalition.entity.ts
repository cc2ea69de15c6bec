import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

export interface Tier {
  name: string;
  qualifyingPoints: number;
  earnMultiplier: string;
}

export interface ReferralSettings {
  refereeBonus: number;
  referrerBonus: number;
  milestones: { referrals: number; bonus: number }[];
}

/** The coalition's settings: one row. */
@Entity('coalition')
@Check('CHK_coalition_single_row', '"id" = 1')
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

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
