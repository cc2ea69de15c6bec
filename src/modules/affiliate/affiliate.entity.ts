import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/** A publisher or influencer who brings members and sales (a reference table). */
@Entity('affiliate')
@Unique('UQ_affiliate_code', ['code'])
export class AffiliateEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 40 })
  code: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 20, nullable: true })
  phone: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/**
 * A commission on a purchase, stored with the member. PENDING until `approves_at` (then APPROVED,
 * by time: readers derive it; the approval job stores it with `commission.approved`), PAID by the
 * settlement run that paid it, REVERSED by a full refund before approval.
 * A refund after approval adds a negative row (`clawback_of`).
 */
@Entity('commission')
@Index('IDX_commission_purchase', ['memberId', 'purchaseId'])
@Index('IDX_commission_affiliate', ['affiliateId', 'id'])
@Index('IDX_commission_partner', ['partnerId', 'id'])
@Index('IDX_commission_unsettled', ['approvesAt'], { where: '"settlement_run_id" IS NULL' })
@Index('IDX_commission_to_approve', ['approvesAt'], { where: `"status" = 'PENDING' AND "settlement_run_id" IS NULL` })
export class CommissionEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'purchase_id', type: 'uuid' })
  purchaseId: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'affiliate_id', type: 'uuid' })
  affiliateId: string;

  @Column({ type: 'jsonb' })
  plan: unknown;

  @Column({ name: 'purchase_amount_minor', type: 'bigint' })
  purchaseAmountMinor: string;

  /** The commission as first computed; refunds reduce it pro rata from this. */
  @Column({ name: 'base_amount_minor', type: 'bigint' })
  baseAmountMinor: string;

  @Column({ name: 'amount_minor', type: 'bigint' })
  amountMinor: string;

  @Column({ type: 'varchar', length: 20 })
  status: string;

  @Column({ name: 'clawback_of', type: 'uuid', nullable: true })
  clawbackOf: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'approves_at', type: 'timestamptz' })
  approvesAt: Date;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'settlement_run_id', type: 'uuid', nullable: true })
  settlementRunId: string | null;
}
