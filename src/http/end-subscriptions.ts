import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { SessionEndWatcher } from '../events/session-end-watcher.js';
import type { GraphQLContext } from '../graphql/context.js';
import { EndingStream } from './ending-stream.js';
import type { ShutdownSignal } from './shutdown-signal.js';

/**
 * Ends subscriptions that must not outlive what they stand on:
 * - every subscription opened by a session ends when that session ends, whatever the transport
 *   (the SSE response closes; over WebSocket the operation completes and the socket is closed
 *   too). The watcher calls `close` only after `sessionRevoked` has delivered its event;
 * - while such a subscription is open, the session's expiry is watched (the watcher does that),
 *   so it ends (EXPIRED) the moment it expires rather than at the next sweep;
 * - every subscription ends when the server shuts down, so streams do not hold it open.
 */
export function useEndSubscriptions(watcher: SessionEndWatcher, shutdown: ShutdownSignal): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args }) {
      const viewer = (args.contextValue as GraphQLContext).viewer;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          const watch = viewer ? { watcher, sessionId: viewer.session.id } : undefined;
          setResult(new EndingStream(result, shutdown, watch));
        },
      };
    },
  };
}
