import { RequestCache } from '@pothos/plugin-scope-auth';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';

/**
 * Lets go of Pothos's per-request caches once a subscription has started, and again after each
 * of its events.
 *
 * The scope-auth plugin keeps a `RequestCache` per context (the viewer's scopes, granted and
 * checked scopes by path, several Maps) in a WeakMap keyed by that context. A query's context
 * dies with the request; a subscription's lives as long as its socket, so every idle socket would
 * keep its cache for nothing. Dropping it is safe: the next field that checks a scope builds a
 * fresh one from the same context, and scopes are derived from the context alone.
 */
export function useReleaseRequestCaches(): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args }) {
      const context = args.contextValue as object;
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) return;
          RequestCache.clearForContext(context);
          return { onNext: () => RequestCache.clearForContext(context) };
        },
      };
    },
  };
}
