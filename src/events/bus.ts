import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, SlidingBuffer, type PubSub } from '@graphql-yoga/subscription';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { SessionEventMessage } from './types.js';

/**
 * Topics are narrow so no subscriber filters a firehose: `user:<id>` for one user's feed and
 * `sessions` for the admin feed and for each instance's own bookkeeping (one subscription per
 * process, dispatched by session id in {@link SessionEndWatcher}).
 */
export type SessionTopics = {
  sessions: [SessionEventMessage];
  user: [userId: string, SessionEventMessage];
};

export interface EventBus {
  pubsub: PubSub<SessionTopics>;
  publish(message: SessionEventMessage): void;
  close(): Promise<void>;
}

/**
 * A slow feed consumer must not grow memory without bound: past this many pending events the
 * oldest are dropped for that consumer only.
 */
const FEED_BUFFER_EVENTS = 1024;

/** In-process by default; over Redis pub/sub when `redisUrl` is set, so events cross instances. */
export function createEventBus(redisUrl: string | undefined, logger: Logger): EventBus {
  let redisClients: Redis[] = [];
  let eventTarget;
  if (redisUrl) {
    const connect = () => {
      const client = new Redis(redisUrl, { maxRetriesPerRequest: null });
      client.on('error', (error: Error) => logger.warn('redis error', { error }));
      return client;
    };
    redisClients = [connect(), connect()];
    eventTarget = createRedisEventTarget<CustomEvent>({
      publishClient: redisClients[0] as Redis,
      subscribeClient: redisClients[1] as Redis,
    });
  }
  const pubsub = createPubSub<SessionTopics>({
    ...(eventTarget ? { eventTarget } : {}),
    repeaterBuffer: new SlidingBuffer(FEED_BUFFER_EVENTS),
  });
  return {
    pubsub,
    publish(message) {
      pubsub.publish('sessions', message);
      pubsub.publish('user', message.session.userId, message);
    },
    async close() {
      await Promise.all(redisClients.map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
