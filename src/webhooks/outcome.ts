/** What an attempt's result means for its delivery: the retry rules, free of I/O. */
import type { AttemptResult } from './sender.js';
import type { DeliveryStatus } from './store.js';

/** Each delay of the schedule is stretched or shrunk by up to this fraction, at random. */
export const RETRY_JITTER = 0.1;

export interface Outcome {
  status: DeliveryStatus;
  /** For PENDING: when the next attempt is due. */
  nextAttemptAt: number | null;
  /** `410 Gone`: the receiver asks never to be sent anything again. */
  disableWebhook: boolean;
}

/**
 * 2xx is delivered; 410 fails the delivery and disables its webhook; anything else (another
 * status, a refused connection, a timeout, a refused address) is retried after the schedule's
 * next delay, and once attempt `schedule.length + 1` has failed the delivery is FAILED.
 */
export function outcomeOf(
  result: AttemptResult,
  attempt: number,
  schedule: readonly number[],
  now: number,
  random: () => number = Math.random,
): Outcome {
  const code = result.statusCode;
  if (code !== undefined && code >= 200 && code < 300) {
    return { status: 'DELIVERED', nextAttemptAt: null, disableWebhook: false };
  }
  if (code === 410) return { status: 'FAILED', nextAttemptAt: null, disableWebhook: true };
  const delay = schedule[attempt - 1];
  if (delay === undefined) return { status: 'FAILED', nextAttemptAt: null, disableWebhook: false };
  const jittered = Math.round(delay * (1 + RETRY_JITTER * (2 * random() - 1)));
  return { status: 'PENDING', nextAttemptAt: now + jittered, disableWebhook: false };
}
