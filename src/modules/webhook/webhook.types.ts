import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../../api/errors';
import { ConnectionType } from '../../common/pagination';

export enum DeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}
registerEnumType(DeliveryStatus, { name: 'DeliveryStatus', description: 'PENDING until a 2xx answer (DELIVERED) or the last retry failed (FAILED)' });

@ObjectType({ description: 'Where the hub POSTs events, signed per the Standard Webhooks specification' })
export class WebhookEndpoint {
  @Field(() => ID)
  id: string;

  @Field()
  url: string;

  @Field(() => [String], { description: 'Event types sent here; "*" for all' })
  eventTypes: string[];

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field({ description: 'False once disabled (by its owner, or after 5 days of failed deliveries); its owner re-enables it' })
  enabled: boolean;

  @Field(() => String, { nullable: true })
  disabledReason: string | null;

  @Field()
  createdAt: Date;

  ownerType: string;
  ownerId: string | null;
}

@ObjectType()
export class WebhookAttempt {
  @Field()
  at: Date;

  @Field(() => Int, { nullable: true, description: "The receiver's HTTP status; null when no answer came (timeout, refused, address not allowed)" })
  statusCode: number | null;

  @Field(() => Int)
  durationMs: number;

  @Field(() => String, { nullable: true })
  error: string | null;

  @Field(() => String, { nullable: true, description: "The start of the receiver's answer body: at most 200 characters, control characters blanked; null when no answer came" })
  responseExcerpt: string | null;
}

@ObjectType({ description: 'One event sent to one endpoint, with every attempt' })
export class WebhookDelivery {
  @Field(() => ID)
  id: string;

  @Field(() => ID, { description: 'Also the webhook-id header: the same for every attempt and replay' })
  eventId: string;

  @Field()
  eventType: string;

  @Field(() => DeliveryStatus)
  status: DeliveryStatus;

  @Field(() => [WebhookAttempt])
  attempts: WebhookAttempt[];

  @Field(() => Date, { nullable: true })
  nextAttemptAt: Date | null;

  @Field()
  createdAt: Date;
}

@ObjectType()
export class WebhookDeliveryConnection extends ConnectionType(WebhookDelivery, 'WebhookDelivery') {}

@ObjectType()
export class CreateWebhookEndpointPayload {
  @Field(() => WebhookEndpoint, { nullable: true })
  endpoint: WebhookEndpoint | null;

  @Field(() => String, { nullable: true, description: 'The signing secret (whsec_…), shown this once' })
  secret: string | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class UpdateWebhookEndpointPayload {
  @Field(() => WebhookEndpoint, { nullable: true })
  endpoint: WebhookEndpoint | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class DeleteWebhookEndpointPayload {
  @Field(() => ID, { nullable: true })
  deletedId: string | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class RotateWebhookSecretPayload {
  @Field(() => WebhookEndpoint, { nullable: true })
  endpoint: WebhookEndpoint | null;

  @Field(() => String, { nullable: true, description: 'The new secret, shown this once; the old one keeps signing for 24 hours' })
  secret: string | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class ReplayWebhookDeliveriesPayload {
  @Field(() => Int)
  replayed: number;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class SendTestWebhookPayload {
  @Field(() => WebhookDelivery, { nullable: true })
  delivery: WebhookDelivery | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}
