import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One audit log entry: who changed what, when, with which (redacted) input. Append-only. */
@Entity('audit_log')
@Index('IDX_audit_log_partner', ['partnerId', 'id'])
@Index('IDX_audit_log_action', ['action', 'id'])
@Index('IDX_audit_log_subject', ['subjectId', 'id'])
export class AuditEntryEntity {
  /** A UUIDv7, so the newest entries sort last by id. */
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'timestamptz' })
  at: Date;

  /** ADMIN, PARTNER, AFFILIATE or MEMBER, as the caller's token says. */
  @Column({ name: 'actor_role', type: 'varchar', length: 20 })
  actorRole: string;

  /** The calling partner, affiliate or member; null for the operator. */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 100 })
  action: string;

  @Column({ name: 'subject_type', type: 'varchar', length: 40 })
  subjectType: string;

  @Column({ name: 'subject_id', type: 'varchar', length: 100, nullable: true })
  subjectId: string | null;

  /** The partner the entry belongs to (the acting partner, or the partner the change is about): what a partner may read. */
  @Column({ name: 'partner_id', type: 'uuid', nullable: true })
  partnerId: string | null;

  /** The change's input, redacted (audit.rules.ts). */
  @Column({ type: 'jsonb' })
  input: unknown;
}
