import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { setMaxListeners } from 'node:events';
import { createPubSub, SlidingBuffer, type PubSub, type PubSubEventTarget } from '@graphql-yoga/subscription';
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
  /**
   * Told when the bus loses its connection (`false`) and when it is back (`true`). Redis
   * pub/sub does not replay what was published meanwhile, so listeners must stop trusting what
   * events keep fresh, and re-check it on reconnect.
   */
  onConnectionChange(listener: (connected: boolean) => void): void;
  close(): Promise<void>;
}

/**
 * A slow feed consumer must not grow memory without bound: past this many pending events the
 * oldest are dropped for that consumer only.
 */
const FEED_BUFFER_EVENTS = 1024;

type BusEventTarget = PubSubEventTarget<SessionTopics>;

/**
 * Puts `prefix` before every channel name, so deployments sharing one Redis (staging and
 * production, parallel test runs) never hear each other.
 */
function withChannelPrefix(target: BusEventTarget, prefix: string): BusEventTarget {
  return {
    addEventListener: (type, listener, options) => target.addEventListener(prefix + type, listener, options),
    removeEventListener: (type, listener, options) => target.removeEventListener(prefix + type, listener, options),
    dispatchEvent: (event) => target.dispatchEvent(new CustomEvent(prefix + event.type, { detail: event.detail })),
  };
}

export interface EventBusOptions {
  /** Redis URL; in-process when undefined. */
  redisUrl: string | undefined;
  /** Put before every Redis channel name. */
  channelPrefix: string;
  logger: Logger;
}

interface Transport {
  eventTarget: BusEventTarget;
  close(): Promise<void>;
}

/** Events stay in this process: enough for one instance. */
function localTransport(): Transport {
  const local = new EventTarget();
  // One listener per open feed: Node's leak warning at 11 listeners does not apply here.
  setMaxListeners(0, local);
  return { eventTarget: local as BusEventTarget, close: async () => {} };
}

/**
 * Events over Redis pub/sub (a connection to publish, one to subscribe). `connectionChanged`
 * hears when the subscriber drops and when it is back, but not at the first connect.
 */
function redisTransport(
  { redisUrl, channelPrefix, logger }: EventBusOptions & { redisUrl: string },
  connectionChanged: (connected: boolean) => void,
): Transport {
  const connect = () => {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: null });
    client.on('error', (error: Error) => logger.warn('redis error', { error }));
    return client;
  };
  const [publishClient, subscribeClient] = [connect(), connect()];
  let connected = false;
  let connectedBefore = false;
  subscribeClient.on('ready', () => {
    connected = true;
    if (connectedBefore) {
      logger.warn('event bus reconnected: re-checking sessions this instance relies on');
      connectionChanged(true);
    }
    connectedBefore = true;
  });
  subscribeClient.on('close', () => {
    if (!connected) return;
    connected = false;
    logger.warn('event bus disconnected: validating every request against the database until it is back');
    connectionChanged(false);
  });
  const target = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  return {
    eventTarget: withChannelPrefix(target, channelPrefix),
    async close() {
      await Promise.all(
        [publishClient, subscribeClient].map((client) => client.quit().catch(() => client.disconnect())),
      );
    },
  };
}

/** In-process by default; over Redis pub/sub when `redisUrl` is set, so events cross instances. */
export function createEventBus(options: EventBusOptions): EventBus {
  const connectionListeners: Array<(connected: boolean) => void> = [];
  const { redisUrl } = options;
  const transport = redisUrl
    ? redisTransport({ ...options, redisUrl }, (connected) => {
        for (const listener of connectionListeners) listener(connected);
      })
    : localTransport();
  const pubsub = createPubSub<SessionTopics>({
    eventTarget: transport.eventTarget,
    repeaterBuffer: new SlidingBuffer(FEED_BUFFER_EVENTS),
  });
  return {
    pubsub,
    publish(message) {
      pubsub.publish('sessions', message);
      pubsub.publish('user', message.session.userId, message);
    },
    onConnectionChange(listener) {
      connectionListeners.push(listener);
    },
    close: () => transport.close(),
  };
}
