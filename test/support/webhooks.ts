/** Webhooks as the tests create and check them. */
import { Webhook } from 'standardwebhooks';
import { CreateWebhookDocument, type WebhookEventType } from '../generated/graphql.js';
import type { TestClient } from './client.js';
import type { ReceivedRequest } from './receiver.js';

export interface Hook {
  id: string;
  secret: string;
}

export async function createWebhook(
  admin: TestClient,
  url: string,
  events: WebhookEventType[] = ['SESSION_STARTED', 'SESSION_ENDED'],
): Promise<Hook> {
  const { createWebhook } = await admin.data(CreateWebhookDocument, { url, events });
  return { id: createWebhook.webhook.id, secret: createWebhook.secret };
}

export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Checks the signature with the `standardwebhooks` package and returns the parsed body. */
export function verified(secret: string, request: ReceivedRequest): WebhookEvent {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as WebhookEvent;
}
