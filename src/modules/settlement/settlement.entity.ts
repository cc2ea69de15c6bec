import { Check, Column, Entity, PrimaryColumn, Unique } from 'typeorm';

/** A closed settlement period. Written once by closeSettlementPeriod; never changed. */
@Entity('settlement_run')
@Unique('UQ_settlement_run_period', ['periodStart', 'periodEnd'])
@Check('CHK_settlement_run_period', '"period_end" > "period_start"')
export class SettlementRunEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'period_start', type: 'timestamptz' })
  periodStart: Date;

  @Column({ name: 'period_end', type: 'timestamptz' })
  periodEnd: Date;

  @Column({ name: 'closed_at', type: 'timestamptz' })
  closedAt: Date;

  @Column({ type: 'varchar', length: 3 })
  currency: string;

  @Column({ name: 'currency_exponent', type: 'smallint' })
  currencyExponent: number;
}

@Entity('settlement_line')
export class SettlementLineEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId: string;

  @PrimaryColumn({ type: 'integer' })
  seq: number;

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

  @Column({ type: 'bigint' })
  points: string;

  @Column({ name: 'amount_minor', type: 'bigint' })
  amountMinor: string;
}

@Entity('settlement_position')
export class SettlementPositionEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId: string;

  @PrimaryColumn({ type: 'integer' })
  seq: number;

  @Column({ name: 'party_type', type: 'varchar', length: 20 })
  partyType: string;

  @Column({ name: 'party_id', type: 'uuid', nullable: true })
  partyId: string | null;

  @Column({ name: 'amount_minor', type: 'bigint' })
  amountMinor: string;
}

@Entity('settlement_transfer')
export class SettlementTransferEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId: string;

  @PrimaryColumn({ type: 'integer' })
  seq: number;

  @Column({ name: 'from_type', type: 'varchar', length: 20 })
  fromType: string;

  @Column({ name: 'from_id', type: 'uuid', nullable: true })
  fromId: string | null;

  @Column({ name: 'to_type', type: 'varchar', length: 20 })
  toType: string;

  @Column({ name: 'to_id', type: 'uuid', nullable: true })
  toId: string | null;

  @Column({ name: 'amount_minor', type: 'bigint' })
  amountMinor: string;
}
