import { setMaxListeners } from 'node:events';
import { createPubSub, SlidingBuffer, type PubSub, type PubSubEventTarget } from '@graphql-yoga/subscription';
import type { SessionEvent } from './types.js';

/**
 * The in-process topics GraphQL subscriptions read, fed by the session feed with every start
 * and end from any instance. Narrow, so no subscriber filters a firehose: `user:<id>` for one
 * user's feed and `sessions` for the admin feed.
 */
export type SessionTopics = {
  sessions: [SessionEvent];
  user: [userId: string, SessionEvent];
};

export type SessionPubSub = PubSub<SessionTopics>;

/**
 * A slow feed consumer must not grow memory without bound: past this many pending events the
 * oldest are dropped for that consumer only.
 */
const FEED_BUFFER_EVENTS = 1024;

export function createSessionPubSub(): SessionPubSub {
  const target = new EventTarget();
  // One listener per open feed: Node's leak warning at 11 listeners does not apply here.
  setMaxListeners(0, target);
  return createPubSub<SessionTopics>({
    eventTarget: target as PubSubEventTarget<SessionTopics>,
    repeaterBuffer: new SlidingBuffer(FEED_BUFFER_EVENTS),
  });
}
