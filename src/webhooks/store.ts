/**
 * What webhooks need from storage: `src/storage/webhook-store.ts` implements it. Delivery rows
 * are inserted by the database's triggers (migrations 06 and 12), never here.
 */
import type { PageCursor } from '../sessions/page.js';

export const WEBHOOK_EVENT_TYPES = [
  'SESSION_STARTED',
  'SESSION_ENDED',
  'USER_CREATED',
  'USER_DISABLED',
  'USER_DELETED',
  'SECOND_FACTOR_ADDED',
  'SECOND_FACTOR_REMOVED',
  /** Sent only behind the second-step throttle, so a flood of wrong codes cannot flood receivers. */
  'SECOND_FACTOR_FAILED',
  'SECOND_FACTORS_RESET',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A webhook as the API shows it: never its secret. */
export interface WebhookRecord {
  id: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What the worker needs to send: the only shape that carries the secret. */
export interface WebhookTarget {
  id: string;
  url: string;
  enabled: boolean;
  secret: string;
}

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  eventType: WebhookEventType;
  status: DeliveryStatus;
  /** Attempts started, the one in flight included. */
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  lastDurationMs: number | null;
  /** PENDING: when the next attempt is due (while one runs, when its lease runs out). */
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** A delivery a worker has claimed: attempt number `attempt` is its to make. */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  payload: string;
  attempt: number;
}

/** What one attempt leaves on its row. */
export interface AttemptRecord {
  id: string;
  /** The claimed attempt number: a result from an attempt since superseded is dropped. */
  attempt: number;
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  attemptedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface WebhookChanges {
  url?: string;
  events?: WebhookEventType[];
  enabled?: boolean;
  description?: string | null;
  secret?: string;
}

export interface WebhookStore {
  /** Newest first. */
  listWebhooks(): Promise<WebhookRecord[]>;
  findWebhook(id: string): Promise<WebhookRecord | undefined>;
  insertWebhook(webhook: WebhookRecord, secret: string): Promise<void>;
  /** Returns the webhook after the change, or undefined when there is no such webhook. */
  updateWebhook(id: string, changes: WebhookChanges, now: number): Promise<WebhookRecord | undefined>;
  /** Deletes it with its deliveries; false when there was no such webhook. */
  deleteWebhook(id: string): Promise<boolean>;

  /** A webhook's deliveries, newest first, strictly after `after`. */
  listDeliveries(query: { webhookId: string; after?: PageCursor; limit: number }): Promise<DeliveryRecord[]>;
  countDeliveries(webhookId: string): Promise<number>;
  findDelivery(id: string): Promise<DeliveryRecord | undefined>;
  /** Makes it PENDING and due at `now`; returns it, or undefined when there is no such delivery. */
  retryDelivery(id: string, now: number): Promise<DeliveryRecord | undefined>;

  /** Every webhook with its secret, for the worker. */
  listTargets(): Promise<WebhookTarget[]>;
  /**
   * Claims up to `limit` of the webhook's PENDING deliveries due at `now`, oldest due first:
   * counts an attempt on each and makes it due again only at `leaseUntil`, so no other worker
   * takes it meanwhile and a crashed worker's claims come back. Rows other workers are claiming
   * are skipped, not waited for.
   */
  claimDue(webhookId: string, limit: number, now: number, leaseUntil: number): Promise<ClaimedDelivery[]>;
  /**
   * Writes attempts' results in one transaction, each unless its row has moved on since the
   * claim (another attempt, a deletion); returns whether each was written.
   */
  recordAttempts(attempts: readonly AttemptRecord[]): Promise<boolean[]>;
  /** Fails the webhook's PENDING deliveries due at `now` without sending them (it is disabled). */
  failDue(webhookId: string, now: number, error: string): Promise<number>;
  /** Deletes up to `limit` DELIVERED or FAILED deliveries finished before `cutoff`; returns how many. */
  deleteDeliveriesFinishedBefore(cutoff: Date, limit: number): Promise<number>;
}
