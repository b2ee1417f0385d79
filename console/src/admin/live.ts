/** The admin feed of sessions starting and ending, for views that follow it. */
import { useEffect, useRef } from 'preact/hooks';
import { useSession } from '../hooks.js';
import type { SessionEventsSubscription } from '../gql/graphql.js';
import { SessionEventsDocument } from '../operations.js';

export type SessionEvent = SessionEventsSubscription['sessionEvents'];

/** Calls `onEvent` for every session that starts or ends anywhere, while the view is shown. */
export function useSessionEvents(onEvent: (event: SessionEvent) => void): void {
  const { client } = useSession();
  const latest = useRef(onEvent);
  latest.current = onEvent;
  useEffect(() => {
    // On the session's one socket; it ends with the session, when the page signs out anyway.
    return client.subscribe(SessionEventsDocument, {}, { next: (data) => latest.current(data.sessionEvents) });
  }, [client]);
}

/**
 * Runs `reload` once, `delayMs` after the last call: a burst of logins costs one query, and the
 * view settles on what the server says even if an event was missed.
 */
export function useDebounced(reload: () => void, delayMs = 300): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(reload, delayMs);
  };
}
