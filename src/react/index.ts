/**
 * `gatehouse/react`: the session of a `gatehouse/client` in React components.
 *
 * `<GatehouseProvider client={client}>` makes the client available below it; while it is
 * mounted it finds out where the browser's cookie stands (if nobody has yet) and listens for the
 * session's end, so components re-render as signed out, with the reason, the moment an admin
 * kicks the session, without a reload. `useSession()` reads the state with
 * `useSyncExternalStore`, so every component sees the same snapshot. No JSX: this file is plain
 * TypeScript, and React is the package's optional peer dependency.
 */
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import type { GatehouseClient, LoginResult, SessionState } from '../client/index.js';

const ClientContext = createContext<GatehouseClient | null>(null);

export interface GatehouseProviderProps {
  /** The one client of the app (`createClient({ url })`), made once, outside any component. */
  client: GatehouseClient;
  children?: ReactNode;
}

export function GatehouseProvider({ client, children }: GatehouseProviderProps) {
  useEffect(() => {
    // A listener keeps the socket open while signed in: that is how the end is heard at once.
    const stopListening = client.onSessionEnded(() => {});
    if (client.state.status === 'loading') void client.refresh().catch(() => {});
    return stopListening;
  }, [client]);
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client of the nearest {@link GatehouseProvider}, for `request`, `sessions()` and the rest. */
export function useGatehouseClient(): GatehouseClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useSession and useGatehouseClient need a <GatehouseProvider> above them');
  return client;
}

export interface UseSession extends SessionState {
  /** Signs in with a password; resolves with `nextStep` (`SECOND_FACTOR`: call {@link verifySecondFactor}). */
  login(username: string, password: string): Promise<LoginResult>;
  /** The second step's code (authenticator app or recovery code). */
  verifySecondFactor(code: string): Promise<LoginResult>;
  logout(): Promise<void>;
}

/**
 * The session as it stands (`status`: `loading`, `signedOut`, `secondStep`, `signedIn`; `user`,
 * `session`, `endedReason`) and the actions that move it. Re-renders on every change. The actions
 * reject with a `GatehouseError` (its `code` says why); the state changes only when they succeed.
 */
export function useSession(): UseSession {
  const client = useGatehouseClient();
  // Stable per client: a new subscribe function on every render would resubscribe every render.
  const subscribe = useCallback((onChange: () => void) => client.onStateChange(onChange), [client]);
  const snapshot = useCallback(() => client.state, [client]);
  const state = useSyncExternalStore(subscribe, snapshot, snapshot);
  // Stable per client too, so a component may list them in an effect's or a memo's dependencies.
  const actions = useMemo(
    () => ({
      login: (username: string, password: string) => client.login(username, password),
      verifySecondFactor: (code: string) => client.verifySecondFactor(code),
      logout: () => client.logout(),
    }),
    [client],
  );
  return { ...state, ...actions };
}
