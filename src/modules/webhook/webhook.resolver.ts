import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { Connection, PageArgs } from '../../common/pagination';
import {
  CreateWebhookEndpointInput, DeleteWebhookEndpointInput, ReplayWebhookDeliveriesInput, RotateWebhookSecretInput, SendTestWebhookInput, UpdateWebhookEndpointInput,
} from './webhook.inputs';
import { createEndpoint, deleteEndpoint, eventTypes, listDeliveries, listEndpoints, replayDeliveries, rotateSecret, sendTest, updateEndpoint } from './webhook.service';
import {
  CreateWebhookEndpointPayload, DeleteWebhookEndpointPayload, DeliveryStatus, ReplayWebhookDeliveriesPayload, RotateWebhookSecretPayload, SendTestWebhookPayload,
  UpdateWebhookEndpointPayload, WebhookDelivery, WebhookDeliveryConnection, WebhookEndpoint,
} from './webhook.types';

const OWNERS = [Role.ADMIN, Role.PARTNER, Role.AFFILIATE];

@Resolver()
export class WebhookResolver {
  @Query(() => [String], { description: 'Every event type the hub emits' })
  webhookEventTypes(): string[] {
    return eventTypes();
  }

  @Authorized(...OWNERS)
  @Query(() => [WebhookEndpoint], { description: "The caller's endpoints; the operator sees every endpoint" })
  webhookEndpoints(@Ctx() ctx: RequestContext): Promise<WebhookEndpoint[]> {
    return listEndpoints(ctx);
  }

  @Authorized(...OWNERS)
  @Query(() => WebhookDeliveryConnection, { description: "An endpoint's deliveries, newest first, with every attempt" })
  webhookDeliveries(@Ctx() ctx: RequestContext, @Arg('endpointId', () => ID) endpointId: string,
    @Arg('status', () => DeliveryStatus, { nullable: true }) status: DeliveryStatus | undefined, @Args(() => PageArgs) page: PageArgs): Promise<Connection<WebhookDelivery>> {
    return listDeliveries(ctx, endpointId, status ?? undefined, page);
  }

  @Authorized(...OWNERS)
  @Mutation(() => CreateWebhookEndpointPayload)
  async createWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('input', () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput): Promise<CreateWebhookEndpointPayload> {
    const outcome = await createEndpoint(ctx, input);
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { endpoint: null, secret: null, userErrors: outcome.errors };
  }

  @Authorized(...OWNERS)
  @Mutation(() => UpdateWebhookEndpointPayload)
  async updateWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput): Promise<UpdateWebhookEndpointPayload> {
    const outcome = await updateEndpoint(ctx, input);
    return outcome.ok ? { endpoint: outcome.value, userErrors: [] } : { endpoint: null, userErrors: outcome.errors };
  }

  @Authorized(...OWNERS)
  @Mutation(() => DeleteWebhookEndpointPayload)
  async deleteWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('input', () => DeleteWebhookEndpointInput) input: DeleteWebhookEndpointInput): Promise<DeleteWebhookEndpointPayload> {
    const outcome = await deleteEndpoint(ctx, input);
    return outcome.ok ? { deletedId: outcome.value, userErrors: [] } : { deletedId: null, userErrors: outcome.errors };
  }

  @Authorized(...OWNERS)
  @Mutation(() => RotateWebhookSecretPayload)
  async rotateWebhookSecret(@Ctx() ctx: RequestContext, @Arg('input', () => RotateWebhookSecretInput) input: RotateWebhookSecretInput): Promise<RotateWebhookSecretPayload> {
    const outcome = await rotateSecret(ctx, input);
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { endpoint: null, secret: null, userErrors: outcome.errors };
  }

  @Authorized(...OWNERS)
  @Mutation(() => ReplayWebhookDeliveriesPayload)
  async replayWebhookDeliveries(@Ctx() ctx: RequestContext, @Arg('input', () => ReplayWebhookDeliveriesInput) input: ReplayWebhookDeliveriesInput): Promise<ReplayWebhookDeliveriesPayload> {
    const outcome = await replayDeliveries(ctx, input);
    return outcome.ok ? { replayed: outcome.value, userErrors: [] } : { replayed: 0, userErrors: outcome.errors };
  }

  @Authorized(...OWNERS)
  @Mutation(() => SendTestWebhookPayload)
  async sendTestWebhook(@Ctx() ctx: RequestContext, @Arg('input', () => SendTestWebhookInput) input: SendTestWebhookInput): Promise<SendTestWebhookPayload> {
    const outcome = await sendTest(ctx, input);
    return outcome.ok ? { delivery: outcome.value, userErrors: [] } : { delivery: null, userErrors: outcome.errors };
  }
}
