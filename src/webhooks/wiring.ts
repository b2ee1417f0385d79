/** Webhooks on a core: the admin's controls everywhere, the outbox worker only in a server. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { SessionServices } from '../sessions/services.js';
import { WebhookAdmin } from './admin.js';
import type { WebhookStore } from './store.js';
import { DeliveryWorker } from './worker.js';

export interface Webhooks {
  admin: WebhookAdmin;
  /** Only in a serving process. */
  worker: DeliveryWorker | undefined;
}

export function createWebhooks(options: {
  config: Config;
  store: WebhookStore;
  services: SessionServices;
  logger: Logger;
  serving: boolean;
}): Webhooks {
  const { config, store, services, logger, serving } = options;
  const allowPrivate = config.webhookAllowPrivate;
  const worker = serving
    ? new DeliveryWorker({
        ...{ store, logger, allowPrivate },
        ...{ retryScheduleMs: config.webhookRetryScheduleMs, timeoutMs: config.webhookTimeoutMs },
      })
    : undefined;
  const wake = () => worker?.wake();
  const admin = new WebhookAdmin({
    store,
    audit: services.audit,
    logger,
    allowPrivate,
    webhooksChanged: () => worker?.webhooksChanged(),
  });
  // Every change that may have written delivery rows here was just committed: send them now
  // rather than at the next poll.
  services.lifecycle.addListener({ sessionStarted: wake, sessionEnded: wake, authEvent: wake });
  return { admin, worker };
}
