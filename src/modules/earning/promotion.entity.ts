import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A partner's promotion: a multiplier and/or bonus points within a window (a reference table). */
@Entity('promotion')
@Check('CHK_promotion_window', '"ends_at" > "starts_at"')
@Index('IDX_promotion_partner', ['partnerId', 'endsAt'])
export class PromotionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'starts_at', type: 'timestamptz' })
  startsAt: Date;

  @Column({ name: 'ends_at', type: 'timestamptz' })
  endsAt: Date;

  @Column({ type: 'numeric', precision: 20, scale: 6, nullable: true })
  multiplier: string | null;

  @Column({ name: 'bonus_points', type: 'integer', nullable: true })
  bonusPoints: number | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  categories: string[];

  @Column({ type: 'jsonb', default: () => "'[]'" })
  tiers: string[];

  /** Club ids; empty: every member. Stored and shown; matching by club comes with the posting pipeline. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  clubs: string[];

  @Column({ name: 'min_spend', type: 'numeric', precision: 20, scale: 6, nullable: true })
  minSpend: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
