/**
 * What every screen shares: the connection of the signed-in session, queries that load on
 * mount and on demand, and actions (mutations run from a button) with their errors in words.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { AnyVariables, Client, CombinedError } from '@urql/core';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './errors.js';

export interface Viewer {
  id: string;
  username: string;
  role: 'ADMIN' | 'USER';
}

export interface Session {
  client: Client;
  viewer: Viewer;
  /** Signs this page out (the `Sign out` button). */
  signOut(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

export interface QueryState<Data> {
  data?: Data | undefined;
  /** The failure in words. */
  error?: string | undefined;
  loading: boolean;
  /** Loads again (e.g. after an action, or when a live event says the data moved). */
  reload(): void;
}

/** Loads `document` whenever `variables` change (compared as JSON), and on `reload()`. */
export function useQuery<Data, Variables extends AnyVariables>(
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
): QueryState<Data> {
  const { client } = useSession();
  const [state, setState] = useState<{ data?: Data; error?: string; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    void client
      .query(document, variables, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => {
        if (!current) return;
        setState({ data: result.data, error: result.error && describeError(result.error), loading: false });
      });
    return () => {
      current = false;
    };
    // `key` stands for `variables`, which is a new object on every render.
  }, [client, document, key, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

export interface Action<Args extends unknown[]> {
  run(...args: Args): Promise<boolean>;
  busy: boolean;
  /** The last failure in words; cleared when the action runs again. */
  error: string | undefined;
}

/**
 * A mutation run from a button or a form: busy while it runs (so it cannot be sent twice), the
 * failure in words after. `run` resolves true on success.
 *
 * This is the one place where a mutation could be retried after a password prompt: when
 * step-up arrives (REAUTHENTICATION_REQUIRED, DESIGN.md), catch that code here, ask for the
 * password, call `reauthenticate`, and call `perform` once more.
 */
export function useAction<Args extends unknown[]>(
  perform: (...args: Args) => Promise<{ error?: CombinedError | undefined }>,
): Action<Args> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const latest = useRef(perform);
  latest.current = perform;
  const run = useCallback(async (...args: Args) => {
    setBusy(true);
    setError(undefined);
    try {
      const result = await latest.current(...args);
      if (result.error) setError(describeError(result.error));
      return !result.error;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, error };
}
