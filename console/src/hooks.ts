/**
 * What every screen shares: the client of the signed-in session, queries that load on mount and
 * on demand, and actions (mutations run from a button) with their errors in words and the prompt
 * of step-up (the password, and a second factor when the user has one) when the server asks for it.
 */
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { GatehouseError, type GatehouseClient, type TypedDocument, type User } from '../../src/client/index.js';
import { describeError, stepUpNeeded } from './errors.js';

export interface Session {
  /** The page's one client (gatehouse.ts): `client.request(Document, variables)`, through {@link asOutcome} in actions. */
  client: GatehouseClient;
  viewer: User;
  /**
   * Signs this page out (the `Sign out` button); resolves with the refusal when Gatehouse did not
   * end the session (the page stays signed in then, and says why through {@link useAction}).
   */
  signOut(): Promise<Outcome>;
}

export const SessionContext = createContext<Session | null>(null);

/** What a step-up must prove: the password, and a second factor too when the user has one. */
export interface StepUpNeed {
  secondFactor: boolean;
}

/**
 * Asks for the password again, with a second factor when `need` says so (step-up.tsx shows the
 * prompt); resolves true once it is proved, false if the person cancels. Without a provider
 * nobody is asked.
 */
export const StepUpContext = createContext<(need: StepUpNeed) => Promise<boolean>>(() => Promise.resolve(false));

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
export function useQuery<Data, Variables>(
  document: TypedDocument<Data, Variables>,
  variables: Variables,
): QueryState<Data> {
  const { client } = useSession();
  const [state, setState] = useState<{ data?: Data; error?: string; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    void asOutcome(client.request(document, variables)).then((result) => {
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
 * What an action's step answers: the server's error, or a failure already in words (a passkey
 * prompt the person closed happens in the browser, with no GraphQL error to describe).
 */
export interface Outcome {
  error?: GatehouseError | undefined;
  failure?: string | undefined;
}

/** A request's answer as an {@link Outcome}: its data, or the GatehouseError it was refused with. */
export async function asOutcome<Data>(request: Promise<Data>): Promise<Outcome & { data?: Data | undefined }> {
  try {
    return { data: await request };
  } catch (error) {
    if (error instanceof GatehouseError) return { error };
    throw error;
  }
}

/**
 * A mutation run from a button or a form: busy while it runs (so it cannot be sent twice), the
 * failure in words after. `run` resolves true on success.
 *
 * Every action goes through step-up here, so no screen handles it: when Gatehouse answers
 * REAUTHENTICATION_REQUIRED or SECOND_FACTOR_REQUIRED, the prompt opens (asking for a second
 * factor too when the user has one), and once the proof is given the action runs once more.
 * Cancelling leaves that code's words as the failure.
 */
export function useAction<Args extends unknown[]>(perform: (...args: Args) => Promise<Outcome>): Action<Args> {
  const confirmIdentity = useContext(StepUpContext);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const latest = useRef(perform);
  latest.current = perform;
  const run = useCallback(
    async (...args: Args) => {
      setBusy(true);
      setError(undefined);
      try {
        let result = await latest.current(...args);
        const need = stepUpNeeded(result.error);
        if (need && (await confirmIdentity(need))) result = await latest.current(...args);
        const failure = result.error ? describeError(result.error) : result.failure;
        setError(failure);
        return failure === undefined;
      } finally {
        setBusy(false);
      }
    },
    [confirmIdentity],
  );
  return { run, busy, error };
}
