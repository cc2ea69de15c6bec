import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An event (the outbox): written with the change it describes, never changed. Keyed by member first. */
@Entity('event')
export class EventEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 60 })
  type: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'partner_ids', type: 'uuid', array: true, default: () => "'{}'" })
  partnerIds: string[];

  @Column({ name: 'affiliate_ids', type: 'uuid', array: true, default: () => "'{}'" })
  affiliateIds: string[];

  @Column({ type: 'jsonb' })
  data: unknown;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  views: unknown;
}

/** Events not yet fanned out to the endpoints that want them. */
@Entity('event_pending')
@Index('IDX_event_pending_order', ['occurredAt', 'eventId'])
export class EventPendingEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;
}

@Entity('webhook_endpoint')
@Check('CHK_webhook_endpoint_owner', `("owner_type" = 'OPERATOR') = ("owner_id" IS NULL)`)
@Index('IDX_webhook_endpoint_owner', ['ownerType', 'ownerId'])
export class WebhookEndpointEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'owner_type', type: 'varchar', length: 16 })
  ownerType: string;

  @Column({ name: 'owner_id', type: 'uuid', nullable: true })
  ownerId: string | null;

  @Column({ type: 'varchar', length: 2000 })
  url: string;

  @Column({ name: 'event_types', type: 'text', array: true })
  eventTypes: string[];

  @Column({ type: 'varchar', length: 500, nullable: true })
  description: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'disabled_reason', type: 'varchar', length: 500, nullable: true })
  disabledReason: string | null;

  @Column({ type: 'varchar', length: 100 })
  secret: string;

  @Column({ name: 'previous_secret', type: 'varchar', length: 100, nullable: true })
  previousSecret: string | null;

  @Column({ name: 'previous_secret_until', type: 'timestamptz', nullable: true })
  previousSecretUntil: Date | null;

  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@Entity('webhook_delivery')
@Index('IDX_webhook_delivery_due', ['nextAttemptAt'], { where: `"status" = 'PENDING'` })
@Index('IDX_webhook_delivery_order', ['endpointId', 'eventMemberId', 'orderAt'], { where: `"status" = 'PENDING'` })
@Index('IDX_webhook_delivery_endpoint', ['endpointId', 'id'])
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  @Column({ name: 'event_member_id', type: 'uuid' })
  eventMemberId: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 60 })
  eventType: string;

  /** The body sent, stored for a test event only: a delivery of an event builds it from the event (immutable) each time it is sent. */
  @Column({ type: 'text', nullable: true })
  body: string | null;

  @Column({ name: 'order_at', type: 'timestamptz' })
  orderAt: Date;

  @Column({ type: 'varchar', length: 16, default: 'PENDING' })
  status: string;

  @Column({ name: 'attempt_count', type: 'integer', default: 0 })
  attemptCount: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt: Date;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The first attempt, when made at fan-out and answered within its wait (else null: every attempt is a WebhookAttemptEntity). */
  @Column({ name: 'first_at', type: 'timestamptz', nullable: true })
  firstAt: Date | null;

  @Column({ name: 'first_status_code', type: 'integer', nullable: true })
  firstStatusCode: number | null;

  @Column({ name: 'first_duration_ms', type: 'integer', nullable: true })
  firstDurationMs: number | null;

  @Column({ name: 'first_error', type: 'varchar', length: 300, nullable: true })
  firstError: string | null;

  @Column({ name: 'first_response_excerpt', type: 'varchar', length: 300, nullable: true })
  firstResponseExcerpt: string | null;
}

/** An attempt of a delivery other than a first one recorded in the delivery's row (`first_*`). */
@Entity('webhook_attempt')
export class WebhookAttemptEntity {
  @PrimaryColumn({ name: 'delivery_id', type: 'uuid' })
  deliveryId: string;

  @PrimaryColumn({ type: 'integer' })
  n: number;

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ type: 'varchar', length: 300, nullable: true })
  error: string | null;

  @Column({ name: 'response_excerpt', type: 'varchar', length: 300, nullable: true })
  responseExcerpt: string | null;
}
