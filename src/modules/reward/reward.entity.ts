import { Check, Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/** A reward in the catalog: a partner's own, or the operator's (partnerId null). A reference table. */
@Entity('reward')
@Check('CHK_reward_kind', `("kind" = 'VOUCHER' AND "club_id" IS NULL) OR ("kind" = 'MEMBERSHIP' AND "club_id" IS NOT NULL)`)
@Check('CHK_reward_price', '"points_price" > 0 AND ("cash_price_minor" IS NULL OR "cash_price_minor" >= 0) AND "value_minor" >= 0')
@Check('CHK_reward_stock', '"claimed" >= 0 AND ("stock" IS NULL OR "claimed" <= "stock")')
@Check('CHK_reward_limit', '"per_member_limit" IS NULL OR "per_member_limit" > 0')
@Check('CHK_reward_window', '"starts_at" IS NULL OR "ends_at" IS NULL OR "ends_at" > "starts_at"')
@Check('CHK_reward_validity', '"voucher_validity_days" > 0')
@Index('IDX_reward_partner', ['partnerId', 'id'])
export class RewardEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  /** The partner that offers it and is paid per claim; null: the operator's (coalition-wide). */
  @Column({ name: 'partner_id', type: 'uuid', nullable: true })
  partnerId: string | null;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  description: string | null;

  /** VOUCHER or MEMBERSHIP (joins clubId). */
  @Column({ type: 'varchar', length: 20 })
  kind: string;

  @Column({ name: 'club_id', type: 'uuid', nullable: true })
  clubId: string | null;

  @Column({ name: 'points_price', type: 'integer' })
  pointsPrice: number;

  /** Money the member also pays at the till (points + cash), minor units. */
  @Column({ name: 'cash_price_minor', type: 'bigint', nullable: true })
  cashPriceMinor: string | null;

  /** What the reward's partner is paid per claim, minor units. */
  @Column({ name: 'value_minor', type: 'bigint' })
  valueMinor: string;

  /** True while the value follows the default (pointsPrice × the partner's redemption value). */
  @Column({ name: 'value_is_default', type: 'boolean' })
  valueIsDefault: boolean;

  /** Null: unlimited. */
  @Column({ type: 'integer', nullable: true })
  stock: number | null;

  @Column({ type: 'integer', default: 0 })
  claimed: number;

  @Column({ name: 'per_member_limit', type: 'integer', nullable: true })
  perMemberLimit: number | null;

  /** Empty: every member; else only members holding one of these tiers (by name). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tiers: string[];

  /** Empty: every member; else only active members of one of these clubs. */
  @Column({ type: 'uuid', array: true, default: () => "'{}'" })
  clubs: string[];

  @Column({ name: 'starts_at', type: 'timestamptz', nullable: true })
  startsAt: Date | null;

  @Column({ name: 'ends_at', type: 'timestamptz', nullable: true })
  endsAt: Date | null;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ name: 'voucher_validity_days', type: 'integer', default: 30 })
  voucherValidityDays: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/** A voucher issued by a claim (member-scoped). Its code is stored canonical (reward.rules.ts). */
@Entity('voucher')
@Check('CHK_voucher_state', `"state" IN ('ISSUED', 'REDEEMED', 'VOIDED', 'EXPIRED')`)
@Check('CHK_voucher_redeemed', `("state" = 'REDEEMED') = ("redeemed_at" IS NOT NULL)`)
@Unique('UQ_voucher_code', ['memberId', 'code'])
@Index('IDX_voucher_reward', ['memberId', 'rewardId', 'state'])
@Index('IDX_voucher_expiry', ['state', 'expiresAt'])
export class VoucherEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  code: string;

  @Column({ name: 'reward_id', type: 'uuid' })
  rewardId: string;

  /** ISSUED → REDEEMED | VOIDED | EXPIRED. */
  @Column({ type: 'varchar', length: 10, default: 'ISSUED' })
  state: string;

  /** The REWARD transaction of the claim. */
  @Column({ name: 'transaction_id', type: 'uuid', nullable: true })
  transactionId: string | null;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'redeemed_at', type: 'timestamptz', nullable: true })
  redeemedAt: Date | null;
}

/** The code → voucher index, keyed by the canonical code alone: codes are unique coalition-wide. */
@Entity('voucher_code')
export class VoucherCodeEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  code: string;

  @Column({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @Column({ name: 'voucher_id', type: 'uuid' })
  voucherId: string;
}
