import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { EarnRule } from '../earning/earn-rule';
import type { BonusLimit, CommissionPlan } from './partner.types';

@Entity('partner')
export class PartnerEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 40, unique: true })
  code: string;

  /** The code's canonical form (canonicalCode): unique, so codes differing in case, spaces or dashes are one code. */
  @Column({ name: 'code_key', type: 'varchar', length: 40, unique: true })
  codeKey: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'redemption_value_per_point', type: 'numeric', precision: 20, scale: 6 })
  redemptionValuePerPoint: string;

  /** Money per point this partner pays the operator for the points it issues in CLEARING (docs/rules.md, Redemption and settlement). */
  @Column({ name: 'issuance_price_per_point', type: 'numeric', precision: 20, scale: 6 })
  issuancePricePerPoint: string;

  @Column({ name: 'earn_rule', type: 'jsonb' })
  earnRule: EarnRule;

  @Column({ name: 'commission_plan', type: 'jsonb', nullable: true })
  commissionPlan: CommissionPlan | null;

  /** Per-action limits on the bonuses this partner awards a member, e.g. one REVIEW bonus a day. */
  @Column({ name: 'bonus_limits', type: 'jsonb', default: () => "'[]'" })
  bonusLimits: BonusLimit[];

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
