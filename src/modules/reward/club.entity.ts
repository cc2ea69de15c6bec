import { Check, Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/** A club: coalition-wide (partnerId null) or a partner's own, with an earn multiplier. A reference table. */
@Entity('club')
@Check('CHK_club_multiplier', '"earn_multiplier" >= 1')
@Check('CHK_club_days', '"membership_days" > 0')
@Index('IDX_club_partner', ['partnerId'])
export class ClubEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'partner_id', type: 'uuid', nullable: true })
  partnerId: string | null;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  description: string | null;

  @Column({ name: 'earn_multiplier', type: 'numeric', precision: 20, scale: 6 })
  earnMultiplier: string;

  @Column({ name: 'membership_days', type: 'integer' })
  membershipDays: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/**
 * One grant (PAID) or claim (POINTS) of a club membership for a member (member-scoped). A member is
 * in a club while the latest expiry of its rows for that club lies ahead; joining again adds a row.
 */
@Entity('club_membership')
@Check('CHK_club_membership_source', `("source" = 'PAID' AND "paid_amount_minor" >= 0) OR ("source" = 'POINTS' AND "reward_id" IS NOT NULL)`)
@Check('CHK_club_membership_period', '"expires_at" > "starts_at"')
@Unique('UQ_club_membership_idempotency', ['memberId', 'caller', 'idempotencyKey'])
@Index('IDX_club_membership_club', ['memberId', 'clubId', 'expiresAt'])
export class ClubMembershipEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'club_id', type: 'uuid' })
  clubId: string;

  /** PAID (grantClubMembership) or POINTS (a MEMBERSHIP reward claimed). */
  @Column({ type: 'varchar', length: 10 })
  source: string;

  @Column({ name: 'paid_amount_minor', type: 'bigint', nullable: true })
  paidAmountMinor: string | null;

  @Column({ name: 'reward_id', type: 'uuid', nullable: true })
  rewardId: string | null;

  @Column({ name: 'transaction_id', type: 'uuid', nullable: true })
  transactionId: string | null;

  /** Who granted it (callerLabel) and with which idempotency key; null for claims (their key is the transaction's). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  caller: string | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 200, nullable: true })
  idempotencyKey: string | null;

  @Column({ name: 'request_hash', type: 'varchar', length: 64, nullable: true })
  requestHash: string | null;

  @Column({ name: 'starts_at', type: 'timestamptz' })
  startsAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
