import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One person, shared by all partners. Distributed by `id` when the database grows to many nodes. */
@Entity('member')
@Check('CHK_member_debt', '"debt" >= 0')
@Check('CHK_member_balance', '"balance" >= -"debt"')
export class MemberEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'member_code', type: 'varchar', length: 20 })
  memberCode: string;

  @Column({ name: 'referral_code', type: 'varchar', length: 20 })
  referralCode: string;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  phone: string | null;

  @Column({ name: 'birth_date', type: 'date', nullable: true })
  birthDate: string | null;

  /** Sum of the member's entries = sum of its lots' remaining points − debt. */
  @Column({ type: 'bigint', default: 0 })
  balance: string;

  @Column({ type: 'bigint', default: 0 })
  debt: string;

  @Column({ name: 'referred_by_member_id', type: 'uuid', nullable: true })
  referredByMemberId: string | null;

  /** The coalition tier held, by name; upgraded at once, downgraded by the expiry job. */
  @Column({ type: 'varchar', length: 60, nullable: true })
  tier: string | null;

  @Column({ name: 'successful_referrals', type: 'integer', default: 0 })
  successfulReferrals: number;

  /** A share of every later purchase earn donated automatically (0: off). */
  @Column({ name: 'auto_donation_cause_id', type: 'uuid', nullable: true })
  autoDonationCauseId: string | null;

  @Column({ name: 'auto_donation_percent', type: 'smallint', default: 0 })
  autoDonationPercent: number;

  /** The affiliate that brought the member (sticky), and when. */
  @Column({ name: 'affiliate_id', type: 'uuid', nullable: true })
  affiliateId: string | null;

  @Column({ name: 'affiliate_attributed_at', type: 'timestamptz', nullable: true })
  affiliateAttributedAt: Date | null;

  /** When this member's first purchase rewarded its referrer (a referral counts once). */
  @Column({ name: 'referral_rewarded_at', type: 'timestamptz', nullable: true })
  referralRewardedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  /** When the member was erased (identifiers anonymized, ledger kept); null while it is not. */
  @Column({ name: 'erased_at', type: 'timestamptz', nullable: true })
  erasedAt: Date | null;
}

export enum IdentifierKind {
  EMAIL = 'EMAIL',
  PHONE = 'PHONE',
  MEMBER_CODE = 'MEMBER_CODE',
  REFERRAL_CODE = 'REFERRAL_CODE',
  /** A partner's own customer reference, stored as `<partnerId>:<ref>`. */
  EXTERNAL_REF = 'EXTERNAL_REF',
}

/** What a partner can have supplied at enrollment: it sees of a member only these (docs/rules.md, Members and identity). */
export enum SuppliedKind {
  EMAIL = 'EMAIL',
  PHONE = 'PHONE',
  BIRTH_DATE = 'BIRTH_DATE',
}

/** Identifier → member: its own table, keyed by the identifier, unique across the coalition. */
@Entity('member_identifier')
@Index('IDX_member_identifier_member', ['memberId'])
export class MemberIdentifierEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  kind: IdentifierKind;

  @PrimaryColumn({ type: 'varchar', length: 300 })
  value: string;

  @Column({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/** A partner's link to a member: the partner sees and acts on linked members only. */
@Entity('member_partner_link')
@Index('IDX_member_partner_link_partner', ['partnerId', 'linkedAt', 'memberId'])
export class MemberPartnerLinkEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'external_ref', type: 'varchar', length: 200, nullable: true })
  externalRef: string | null;

  @Column({ name: 'linked_at', type: 'timestamptz', default: () => 'now()' })
  linkedAt: Date;

  /** Which of the member's e-mail, phone and birth date this partner supplied (and so sees). */
  @Column({ name: 'supplied_identifiers', type: 'varchar', length: 20, array: true, default: () => "'{}'" })
  suppliedIdentifiers: SuppliedKind[];
}
