import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';

@InputType()
export class CreateWebhookEndpointInput {
  @Field({ description: 'https URL (http and private addresses only where WEBHOOK_ALLOW_PRIVATE=true)' })
  @MaxLength(2000)
  url: string;

  @Field(() => [String], { description: 'Event types (see webhookEventTypes), or ["*"]' })
  @ArrayMaxSize(50)
  @MaxLength(60, { each: true })
  eventTypes: string[];

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field(() => ID)
  @MaxLength(64)
  endpointId: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(2000)
  url?: string | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50)
  @MaxLength(60, { each: true })
  eventTypes?: string[] | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  enabled?: boolean | null;
}

@InputType()
export class DeleteWebhookEndpointInput {
  @Field(() => ID)
  @MaxLength(64)
  endpointId: string;
}

@InputType()
export class RotateWebhookSecretInput {
  @Field(() => ID)
  @MaxLength(64)
  endpointId: string;
}

@InputType()
export class ReplayWebhookDeliveriesInput {
  @Field(() => ID)
  @MaxLength(64)
  endpointId: string;

  @Field(() => ID, { nullable: true, description: 'One delivery to send again' })
  @IsOptional()
  @MaxLength(64)
  deliveryId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Or every FAILED delivery created since then' })
  @IsOptional()
  failedSince?: Date | null;
}

@InputType()
export class SendTestWebhookInput {
  @Field(() => ID)
  @MaxLength(64)
  endpointId: string;
}
