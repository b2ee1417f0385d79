/**
 * bench:live's sockets and kicks: every subscriber connected (a bounded number at a time), then
 * every session kicked one at a time, each kick waiting for all of its subscribers' events.
 */
import { performance } from 'node:perf_hooks';
import { connectSubscriber, pool, type Subscriber } from './subscribers.js';
import { graphql, type GraphQLTarget } from './support.js';

/** Sockets being opened at once. */
const OPEN_IN_FLIGHT = 64;
/** How long one kick's events are waited for before they count as missed. */
const EVENT_TIMEOUT_MS = 5_000;
/** How long the closes after the last kick are waited for. */
const CLOSE_TIMEOUT_MS = 10_000;

/** One kick: from the mutation sent to its answer, and to the last of its subscribers' events. */
export interface KickRecord {
  answerMs: number;
  /** Infinity when some subscriber never got its event. */
  lastMs: number;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(done: () => boolean, timeoutMs: number, pollMs = 1): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await delay(pollMs);
}

export async function openSubscribers(wsUrl: string, subscribers: Subscriber[]): Promise<void> {
  await pool(subscribers, OPEN_IN_FLIGHT, (subscriber) => connectSubscriber(wsUrl, subscriber));
}

/** Kicks each session in turn (`perSession` subscribers each, next to each other). */
export async function runKicks(
  target: GraphQLTarget,
  adminCookie: string,
  subscribers: Subscriber[],
  perSession: number,
): Promise<KickRecord[]> {
  const kicks: KickRecord[] = [];
  for (let first = 0; first < subscribers.length; first += perSession) {
    const group = subscribers.slice(first, first + perSession);
    const sentAt = performance.now();
    for (const subscriber of group) subscriber.sentAt = sentAt;
    await graphql(
      target,
      'mutation($id: ID!) { kickSession(sessionId: $id) { id } }',
      { id: group[0]!.sessionId },
      { cookie: adminCookie },
    );
    const answerMs = performance.now() - sentAt;
    await until(() => group.every((s) => s.arrivedAt !== undefined), EVENT_TIMEOUT_MS);
    const arrivals = group.map((s) => (s.arrivedAt === undefined ? Infinity : s.arrivedAt - sentAt));
    kicks.push({ answerMs, lastMs: Math.max(...arrivals) });
  }
  return kicks;
}

/** Waits (bounded) until every socket has been closed by the server. */
export async function settleCloses(subscribers: Subscriber[]): Promise<void> {
  await until(() => subscribers.every((s) => s.close !== undefined), CLOSE_TIMEOUT_MS, 10);
  await delay(200);
}
