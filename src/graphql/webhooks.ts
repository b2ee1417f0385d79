/** Webhooks: DESIGN.md, "Webhooks: session lifecycle pushed to other services". ADMIN only. */
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES, type DeliveryRecord, type WebhookRecord } from '../webhooks/store.js';
import type { WebhookSecretPayload } from '../webhooks/admin.js';
import { builder } from './builder.js';
import { viewerOf, type GraphQLContext } from './context.js';
import { defineConnection, toPageQuery } from './pagination.js';

const admin = (context: GraphQLContext) => context.webhooks;

const WebhookEventTypeEnum = builder.enumType('WebhookEventType', { values: WEBHOOK_EVENT_TYPES });
const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', { values: DELIVERY_STATUSES });

const WebhookDeliveryRef = builder.objectRef<DeliveryRecord>('WebhookDelivery').implement({
  description:
    'One event for one webhook: its attempts and their outcome. Its id is the `webhook-id` header, the same on every attempt.',
  fields: (t) => ({
    id: t.exposeID('id'),
    eventType: t.field({ type: WebhookEventTypeEnum, resolve: (delivery) => delivery.eventType }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (delivery) => delivery.status }),
    attempts: t.exposeInt('attempts', { description: 'Attempts started, one in flight included.' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description: 'Why the last attempt failed: the status and the start of the body, a timeout, a refused address.',
    }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    lastDurationMs: t.exposeInt('lastDurationMs', { nullable: true, description: 'How long the last attempt took.' }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      nullable: true,
      description: 'PENDING: when the next attempt is due (while one is in flight, when it is given up for lost).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
  }),
});

const WebhookDeliveryConnection = defineConnection('WebhookDelivery', WebhookDeliveryRef, {
  connection: "A webhook's deliveries, newest first.",
  totalCount: "The webhook's deliveries across all pages.",
});

const WebhookRef = builder.objectRef<WebhookRecord>('Webhook').implement({
  description:
    'An HTTP endpoint told of session and account events, signed per Standard Webhooks. Never shows its secret.',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    events: t.field({ type: [WebhookEventTypeEnum], resolve: (webhook) => webhook.events }),
    enabled: t.exposeBoolean('enabled', {
      description:
        'A disabled webhook gets no new deliveries, and its pending ones fail when due. A 410 Gone disables it.',
    }),
    description: t.exposeString('description', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    deliveries: t.field({
      type: WebhookDeliveryConnection,
      authScopes: { admin: true },
      args: { first: t.arg.int({ defaultValue: 20 }), after: t.arg.string() },
      resolve: (webhook, args, context) => admin(context).deliveries(webhook.id, toPageQuery(args)),
    }),
  }),
});

const WebhookSecretPayloadRef = builder.objectRef<WebhookSecretPayload>('WebhookSecretPayload').implement({
  description: 'A webhook and its secret (`whsec_…`): the only time the secret is shown.',
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, resolve: (payload) => payload.webhook }),
    secret: t.exposeString('secret'),
  }),
});

builder.queryField('webhooks', (t) =>
  t.field({
    type: [WebhookRef],
    description: 'Every webhook, newest first. ADMIN only.',
    authScopes: { admin: true },
    resolve: (_root, _args, context) => admin(context).list(),
  }),
);

builder.mutationField('createWebhook', (t) =>
  t.field({
    type: WebhookSecretPayloadRef,
    description:
      'Adds a webhook (http or https) for the given events; returns its secret, shown only here. ADMIN only.',
    authScopes: { admin: true },
    args: {
      url: t.arg.string({ required: true }),
      events: t.arg({ type: [WebhookEventTypeEnum], required: true }),
      description: t.arg.string(),
    },
    resolve: (_root, args, context) => admin(context).create(viewerOf(context), args, context.device),
  }),
);

builder.mutationField('updateWebhook', (t) =>
  t.field({
    type: WebhookRef,
    description: 'Changes what is given; omitted or null arguments stay as they are. ADMIN only.',
    authScopes: { admin: true },
    args: {
      id: t.arg.id({ required: true }),
      url: t.arg.string(),
      events: t.arg({ type: [WebhookEventTypeEnum] }),
      enabled: t.arg.boolean(),
      description: t.arg.string({ description: 'An empty string removes it.' }),
    },
    resolve: (_root, { id, description, ...args }, context) =>
      admin(context).update(
        viewerOf(context),
        id,
        { ...args, ...(description === null ? {} : { description }) },
        context.device,
      ),
  }),
);

builder.mutationField('deleteWebhook', (t) =>
  t.boolean({
    description: 'Deletes a webhook and its deliveries, pending ones included. ADMIN only.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      await admin(context).delete(viewerOf(context), args.id, context.device);
      return true;
    },
  }),
);

builder.mutationField('rotateWebhookSecret', (t) =>
  t.field({
    type: WebhookSecretPayloadRef,
    description: 'Replaces the secret: attempts from now on are signed with the new one, shown only here. ADMIN only.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => admin(context).rotateSecret(viewerOf(context), args.id, context.device),
  }),
);

builder.mutationField('retryWebhookDelivery', (t) =>
  t.field({
    type: WebhookDeliveryRef,
    description:
      'Makes one attempt now: a FAILED delivery gets that one attempt, a PENDING one keeps the rest of its schedule, a DELIVERED one is sent again. ADMIN only.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => admin(context).retry(args.id),
  }),
);
