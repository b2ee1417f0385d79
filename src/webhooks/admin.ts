/**
 * An admin's controls over webhooks: what `src/graphql/webhooks.ts` calls.
 *
 * Rules: a URL is `http` or `https`, carries no credentials and no fragment, and, unless
 * `WEBHOOK_ALLOW_PRIVATE` is on, is not a literal non-public address (names are checked at
 * every connection, where the answer counts). A secret leaves only in the answer to
 * `createWebhook` or `rotateWebhookSecret`: it is never logged, never in an audit event, and no
 * other query reads it. Each change is written to the audit log and logged without its secret.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { AuditLog } from '../sessions/audit-log.js';
import type { AuthEventType } from '../sessions/auth-events.js';
import { badUserInput, GatehouseError } from '../sessions/errors.js';
import { readPage, type Page, type PageQuery } from '../sessions/page.js';
import { originOf, type DeviceInfo, type Viewer } from '../sessions/types.js';
import { refusedAddress } from './addresses.js';
import { generateSecret } from './signing.js';
import type { DeliveryRecord, WebhookChanges, WebhookEventType, WebhookRecord, WebhookStore } from './store.js';

export const MAX_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 500;

export interface WebhookSecretPayload {
  webhook: WebhookRecord;
  /** `whsec_…`: shown this once. */
  secret: string;
}

export interface WebhookInput {
  url?: string | null | undefined;
  events?: readonly WebhookEventType[] | null | undefined;
  enabled?: boolean | null | undefined;
  description?: string | null | undefined;
}

export interface WebhookAdminOptions {
  store: WebhookStore;
  audit: AuditLog;
  logger: Logger;
  allowPrivate: boolean;
  /** Tells the worker the webhooks changed, or a delivery is due now (a retry): it looks at once. */
  webhooksChanged: () => void;
  now?: () => number;
}

const notFound = (what: 'webhook' | 'delivery') => new GatehouseError('NOT_FOUND', `No such ${what}`);

export class WebhookAdmin {
  constructor(private readonly options: WebhookAdminOptions) {}

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  list(): Promise<WebhookRecord[]> {
    return this.options.store.listWebhooks();
  }

  async create(actor: Viewer, input: WebhookInput, device: DeviceInfo): Promise<WebhookSecretPayload> {
    const changes = this.validate({ enabled: true, ...input });
    if (changes.url === undefined) throw badUserInput('url is required', 'url');
    if (changes.events === undefined) throw badUserInput('events is required', 'events');
    const now = new Date(this.now);
    const webhook: WebhookRecord = {
      ...{ id: randomUUID(), url: changes.url, events: changes.events, enabled: true },
      ...{ description: changes.description ?? null, createdAt: now, updatedAt: now },
    };
    const secret = generateSecret();
    await this.options.store.insertWebhook(webhook, secret);
    await this.record('WEBHOOK_CREATED', webhook, actor, device);
    return { webhook, secret };
  }

  async update(actor: Viewer, id: string, input: WebhookInput, device: DeviceInfo): Promise<WebhookRecord> {
    const webhook = await this.options.store.updateWebhook(id, this.validate(input), this.now);
    if (!webhook) throw notFound('webhook');
    await this.record('WEBHOOK_UPDATED', webhook, actor, device);
    return webhook;
  }

  /** Deletes it and its deliveries, pending ones included. */
  async delete(actor: Viewer, id: string, device: DeviceInfo): Promise<void> {
    const webhook = await this.options.store.findWebhook(id);
    if (!webhook || !(await this.options.store.deleteWebhook(id))) throw notFound('webhook');
    await this.record('WEBHOOK_DELETED', webhook, actor, device);
  }

  /** A new secret from the next attempt on; the old one stops at once. */
  async rotateSecret(actor: Viewer, id: string, device: DeviceInfo): Promise<WebhookSecretPayload> {
    const secret = generateSecret();
    const webhook = await this.options.store.updateWebhook(id, { secret }, this.now);
    if (!webhook) throw notFound('webhook');
    await this.record('WEBHOOK_SECRET_ROTATED', webhook, actor, device);
    return { webhook, secret };
  }

  deliveries(webhookId: string, query: PageQuery): Promise<Page<DeliveryRecord>> {
    const { store } = this.options;
    return readPage(
      query,
      (limit) => store.listDeliveries({ webhookId, ...query, limit }),
      () => store.countDeliveries(webhookId),
    );
  }

  /**
   * One attempt now, whatever the delivery's status: a FAILED one gets that one attempt, a
   * PENDING one keeps the rest of its schedule, a DELIVERED one is sent again (receivers
   * deduplicate by `webhook-id`).
   */
  async retry(id: string): Promise<DeliveryRecord> {
    const { store } = this.options;
    const delivery = await store.findDelivery(id);
    if (!delivery) throw notFound('delivery');
    const webhook = await store.findWebhook(delivery.webhookId);
    if (!webhook?.enabled) throw badUserInput('The webhook is disabled: enable it before retrying', 'id');
    const retried = await store.retryDelivery(id, this.now);
    if (!retried) throw notFound('delivery');
    this.options.webhooksChanged();
    return retried;
  }

  /** The columns `input` changes, validated; BAD_USER_INPUT names the first bad field. */
  private validate(input: WebhookInput): WebhookChanges {
    const changes: WebhookChanges = {};
    if (input.url !== undefined && input.url !== null) changes.url = this.validateUrl(input.url);
    if (input.events !== undefined && input.events !== null) {
      if (input.events.length === 0) throw badUserInput('events must name at least one event type', 'events');
      changes.events = [...new Set(input.events)];
    }
    if (input.enabled !== undefined && input.enabled !== null) changes.enabled = input.enabled;
    if (input.description !== undefined) {
      const description = input.description?.trim() ?? '';
      if (description.length > MAX_DESCRIPTION_LENGTH) {
        throw badUserInput(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`, 'description');
      }
      changes.description = description === '' ? null : description;
    }
    return changes;
  }

  private validateUrl(text: string): string {
    if (text.length > MAX_URL_LENGTH) throw badUserInput(`url must be at most ${MAX_URL_LENGTH} characters`, 'url');
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw badUserInput('url must be an absolute http or https URL', 'url');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw badUserInput('url must use http or https', 'url');
    }
    if (url.username !== '' || url.password !== '') throw badUserInput('url must not carry credentials', 'url');
    if (url.hash !== '') throw badUserInput('url must not have a fragment', 'url');
    const refused = refusedAddress(url.hostname, this.options.allowPrivate);
    if (refused) throw badUserInput(`url ${refused.message}`, 'url');
    return url.href;
  }

  private async record(type: AuthEventType, webhook: WebhookRecord, actor: Viewer, device: DeviceInfo) {
    await this.options.audit.record(type, originOf(actor, device), {});
    this.options.webhooksChanged();
    this.options.logger.info(`webhook: ${type}`, {
      // The origin only: a query string may hold the receiver's own token.
      ...{ webhookId: webhook.id, target: new URL(webhook.url).origin, events: webhook.events.join(',') },
      ...{ enabled: webhook.enabled, actorUserId: actor.user.id },
    });
  }
}
