import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('cause')
export class CauseEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  description: string | null;

  @Column({ name: 'goal_points', type: 'integer', nullable: true })
  goalPoints: number | null;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/** A partner matching members' donations to a cause, up to a cap (a reference table, locked per match). */
@Entity('matching_campaign')
@Check('CHK_matching_campaign_cap', '"matched_points" >= 0 AND "matched_points" <= "cap_points"')
@Index('IDX_matching_campaign_cause', ['causeId', 'endsAt'])
export class MatchingCampaignEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'cause_id', type: 'uuid' })
  causeId: string;

  @Column({ type: 'numeric', precision: 20, scale: 6 })
  ratio: string;

  @Column({ name: 'cap_points', type: 'integer' })
  capPoints: number;

  @Column({ name: 'matched_points', type: 'integer', default: 0 })
  matchedPoints: number;

  @Column({ name: 'starts_at', type: 'timestamptz' })
  startsAt: Date;

  @Column({ name: 'ends_at', type: 'timestamptz' })
  endsAt: Date;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/** A member's donation and its receipt, stored with the member. */
@Entity('donation')
@Index('IDX_donation_cause', ['causeId'])
export class DonationEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'transaction_id', type: 'uuid' })
  transactionId: string;

  @Column({ name: 'cause_id', type: 'uuid' })
  causeId: string;

  @Column({ type: 'integer' })
  points: number;

  @Column({ name: 'value_minor', type: 'bigint' })
  valueMinor: string;

  @Column({ name: 'matched_points', type: 'integer', default: 0 })
  matchedPoints: number;

  @Column({ name: 'matched_value_minor', type: 'bigint', default: 0 })
  matchedValueMinor: string;

  @Column({ name: 'receipt_number', type: 'varchar', length: 40 })
  receiptNumber: string;

  @Column({ type: 'boolean', default: false })
  automatic: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
