import { Check, Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/**
 * The ledger's tables. Written in bulk by ledger.store.ts; these entities describe them for
 * TypeORM (migration generation, the schema drift test). Every one is keyed by member first.
 */

@Entity('ledger_transaction')
@Unique('UQ_ledger_transaction_idempotency', ['memberId', 'caller', 'idempotencyKey'])
@Index('IDX_ledger_transaction_partner', ['partnerId', 'id'])
@Index('IDX_ledger_transaction_reverses', ['memberId', 'reversesId'], { where: '"reverses_id" IS NOT NULL' })
export class LedgerTransactionEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 20 })
  type: string;

  @Column({ name: 'partner_id', type: 'uuid', nullable: true })
  partnerId: string | null;

  @Column({ type: 'varchar', length: 60 })
  caller: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255 })
  idempotencyKey: string;

  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  /** The change to the member's balance. */
  @Column({ type: 'integer' })
  points: number;

  @Column({ name: 'amount_minor', type: 'bigint', nullable: true })
  amountMinor: string | null;

  @Column({ name: 'reverses_id', type: 'uuid', nullable: true })
  reversesId: string | null;

  @Column({ name: 'bonus_action', type: 'varchar', length: 20, nullable: true })
  bonusAction: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  description: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  breakdown: unknown;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'posted_at', type: 'timestamptz' })
  postedAt: Date;
}

@Entity('ledger_entry')
export class LedgerEntryEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ name: 'transaction_id', type: 'uuid' })
  transactionId: string;

  @PrimaryColumn({ type: 'smallint' })
  seq: number;

  @Column({ name: 'account_type', type: 'varchar', length: 20 })
  accountType: string;

  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId: string | null;

  @Column({ type: 'bigint' })
  points: string;

  @Column({ name: 'posted_at', type: 'timestamptz' })
  postedAt: Date;
}

@Entity('lot')
@Index('IDX_lot_open', ['memberId', 'expiresAt', 'createdAt'], { where: '"remaining" > 0' })
@Index('IDX_lot_pending', ['memberId', 'availableAt'], { where: '"remaining" > 0 AND "available_at" IS NOT NULL' })
@Check('CHK_lot_remaining', '"remaining" >= 0 AND "remaining" <= "points"')
@Check('CHK_lot_available', '"available_at" IS NULL OR "available_at" < "expires_at"')
export class LotEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'transaction_id', type: 'uuid' })
  transactionId: string;

  @Column({ name: 'issuer_type', type: 'varchar', length: 20 })
  issuerType: string;

  @Column({ name: 'issuer_id', type: 'uuid', nullable: true })
  issuerId: string | null;

  @Column({ type: 'integer' })
  points: number;

  @Column({ type: 'integer' })
  remaining: number;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** When the points become spendable (a return window); null: from creation (docs/rules.md, Lots). */
  @Column({ name: 'available_at', type: 'timestamptz', nullable: true })
  availableAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@Entity('lot_movement')
@Index('IDX_lot_movement_lot', ['memberId', 'lotId'])
export class LotMovementEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ name: 'transaction_id', type: 'uuid' })
  transactionId: string;

  @PrimaryColumn({ name: 'lot_id', type: 'uuid' })
  lotId: string;

  @Column({ type: 'integer' })
  points: number;
}

@Entity('member_debt')
@Check('CHK_member_debt_remaining', '"remaining" >= 0 AND "remaining" <= "points"')
export class MemberDebtEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'transaction_id', type: 'uuid' })
  transactionId: string;

  @Column({ name: 'creditor_partner_id', type: 'uuid', nullable: true })
  creditorPartnerId: string | null;

  @Column({ type: 'integer' })
  points: number;

  @Column({ type: 'integer' })
  remaining: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@Entity('obligation')
@Index('IDX_obligation_posted', ['postedAt'])
@Index('IDX_obligation_kind_posted', ['kind', 'postedAt'])
export class ObligationEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'transaction_id', type: 'uuid' })
  transactionId: string;

  @Column({ type: 'varchar', length: 20 })
  kind: string;

  @Column({ name: 'payer_type', type: 'varchar', length: 20 })
  payerType: string;

  @Column({ name: 'payer_id', type: 'uuid', nullable: true })
  payerId: string | null;

  @Column({ name: 'payee_type', type: 'varchar', length: 20 })
  payeeType: string;

  @Column({ name: 'payee_id', type: 'uuid', nullable: true })
  payeeId: string | null;

  @Column({ type: 'integer' })
  points: number;

  @Column({ type: 'numeric', precision: 20, scale: 6 })
  rate: string;

  /** DONATION and MATCH rows: the money the row is worth, minor units, floored (NULL before it was stored). */
  @Column({ name: 'value_minor', type: 'bigint', nullable: true })
  valueMinor: string | null;

  @Column({ name: 'posted_at', type: 'timestamptz' })
  postedAt: Date;
}
