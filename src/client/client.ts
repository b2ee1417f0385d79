/**
 * `createClient`: one object per app (or per browser tab) for everything a front end does with
 * Gatehouse: sign in (both steps), sign out, who am I, my sessions, end one, hear when the
 * session ends, and any other operation by `request`.
 *
 * The rules it keeps for the app (docs/front-ends.md):
 * - The session is the HttpOnly cookie: nothing here holds a token. HTTP requests carry it
 *   (`credentials: 'include'`, for an app on another origin of the same site), and so does the
 *   socket's upgrade.
 * - Each sign-in step is followed by the check that the browser kept its cookie; when it did
 *   not, the step fails with `COOKIE_REFUSED` rather than leaving the app signed in to nothing.
 * - The socket opens only once signed in and only while something needs it (an
 *   `onSessionEnded` listener or a subscription), one at a time, never again after its session
 *   ended; a new sign-in gets a new one (session-keeper.ts, session-socket.ts).
 * - A step that ends or replaces the session retires its socket first, so the client's own
 *   logout or login is not told as an end that came from elsewhere.
 */
import { GatehouseError, isGatehouseError } from './errors.js';
import { postGraphQL, type Fetch, type TypedDocument } from './http.js';
import { cookieRefusal } from './cookie-refusal.js';
import * as operations from './operations.js';
import { SessionKeeper, type SessionEndedListener } from './session-keeper.js';
import type { Sink } from './session-socket.js';
import { afterStep, signedOut, type LoginResult, type Session, type SessionState, type User } from './session-state.js';

export interface ClientOptions {
  /**
   * Gatehouse's base URL (`https://auth.example.com`), or its GraphQL endpoint (ending in
   * `/graphql`); relative to the page in a browser (`/` for Gatehouse's own origin). Required.
   */
  url: string;
  /** The `fetch` to use. Default: the global `fetch`. In Node, pass one that keeps the session cookie. */
  fetch?: Fetch;
  /**
   * The WebSocket class for the socket. Default: the global `WebSocket` (browsers; Node 22+).
   * In Node, pass one that sends the session cookie on the upgrade (e.g. a subclass of `ws`).
   */
  webSocketImpl?: unknown;
}

export interface GatehouseClient {
  /** Where the session stands now; replaced as a whole on every change. */
  readonly state: SessionState;
  /** Calls `listener` after every change of {@link state}; returns the unsubscribe. */
  onStateChange(listener: () => void): () => void;
  /** Asks Gatehouse where this browser's cookie stands (at page load, or after adding a required factor). */
  refresh(): Promise<SessionState>;
  /** Signs in with a password; a user with a second factor then needs {@link verifySecondFactor}. */
  login(username: string, password: string): Promise<LoginResult>;
  /** The second step: a code from the authenticator app, or a recovery code. */
  verifySecondFactor(code: string): Promise<LoginResult>;
  /** WebAuthn request options for `@simplewebauthn/browser`'s `startAuthentication({ optionsJSON })`. */
  startPasskeyLogin(username?: string): Promise<unknown>;
  /** Signs in (or finishes the second step) with the browser's answer to those options. */
  finishPasskeyLogin(response: unknown): Promise<LoginResult>;
  /** Ends this session (or the pending sign-in). `onSessionEnded` listeners are not called for it. */
  logout(): Promise<void>;
  /** The signed-in user, or null. */
  me(): Promise<User | null>;
  /** The user's active sessions, newest first (`current` marks this one). UNAUTHENTICATED when signed out. */
  sessions(): Promise<Session[]>;
  /** Ends one of the user's sessions (an ADMIN: anyone's) with the reason KICKED. */
  endSession(sessionId: string): Promise<Session>;
  /**
   * Calls `listener` when a session of this client ends under it (kicked, expired, signed out
   * elsewhere…), once per session; returns the unsubscribe. While signed in and listened to,
   * the client holds its socket open.
   */
  onSessionEnded(listener: SessionEndedListener): () => void;
  /** Any other query or mutation; resolves with its data, rejects with a {@link GatehouseError}. */
  request<Data, Variables>(document: TypedDocument<Data, Variables>, variables?: Variables): Promise<Data>;
  /** A subscription on the session's socket (signed in only: a socket is never opened anonymously). */
  subscribe<Data, Variables>(
    document: TypedDocument<Data, Variables>,
    variables: Variables | undefined,
    sink: Sink<Data>,
  ): () => void;
  /** Closes the socket and drops every listener; the session itself goes on. */
  dispose(): void;
}

/** `url` as given, or with `/graphql` added to a base URL. */
function endpointOf(url: string): URL {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const resolved = new URL(url, page);
  if (!resolved.pathname.endsWith('/graphql')) resolved.pathname = `${resolved.pathname.replace(/\/$/, '')}/graphql`;
  return resolved;
}

export function createClient(options: ClientOptions): GatehouseClient {
  const endpoint = endpointOf(options.url);
  const fetcher: Fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const request = <Data, Variables>(document: TypedDocument<Data, Variables>, variables?: Variables) =>
    postGraphQL(fetcher, endpoint.href, document, variables);

  const keeper = new SessionKeeper(
    endpoint.href.replace(/^http/, 'ws'),
    options.webSocketImpl,
    async () => (await request(operations.CURRENT_SESSION)).currentSession?.id ?? null,
  );

  /** A step's payload, once the browser is seen to have kept its cookie. */
  async function completeStep(result: LoginResult): Promise<LoginResult> {
    const { currentSession } = await request(operations.CURRENT_SESSION);
    if (currentSession?.id !== result.session.id) {
      const page = (globalThis as { location?: { href: string } }).location?.href;
      const reason = cookieRefusal(endpoint, page);
      throw new GatehouseError('COOKIE_REFUSED', `The browser did not keep Gatehouse's cookie (${reason})`, {
        extensions: { reason },
      });
    }
    keeper.set(afterStep(result));
    return result;
  }

  /**
   * Runs a step that ends this client's session itself: a sign-in replaces it (SUPERSEDED), a
   * logout ends it (LOGOUT). The socket is retired first, so that end is not told as one that
   * came from elsewhere. If the step fails the session goes on, and so may its socket; a second
   * step refused as UNAUTHENTICATED found its pending login gone (its time ran out): signed out.
   */
  async function ownStep<T>(step: () => Promise<T>): Promise<T> {
    keeper.retireSocket();
    try {
      return await step();
    } catch (error) {
      const pendingGone = keeper.state.status === 'secondStep' && isGatehouseError(error, 'UNAUTHENTICATED');
      keeper.set(pendingGone ? signedOut() : keeper.state);
      throw error;
    }
  }

  /** One question at a time: callers that ask while it is out share its answer. */
  let refreshing: Promise<SessionState> | undefined;
  const refresh = () => (refreshing ??= askWhereTheCookieStands().finally(() => (refreshing = undefined)));

  /**
   * The state the cookie stands for, unless the state moved while the question was out (a
   * login, a logout, an end): then the answer is older than the state, and the state stays.
   */
  async function askWhereTheCookieStands(): Promise<SessionState> {
    const asked = keeper.version;
    const answer = await whereTheCookieStands();
    if (keeper.version === asked) keeper.set(answer);
    return keeper.state;
  }

  async function whereTheCookieStands(): Promise<SessionState> {
    const { currentSession } = await request(operations.CURRENT_SESSION);
    if (!currentSession) return signedOut();
    const { user, ...session } = currentSession;
    try {
      // Null: the session ended between the two questions.
      const { me } = await request(operations.ME);
      return me ? afterStep({ user, session, nextStep: 'DONE' }) : signedOut();
    } catch (error) {
      const step = isGatehouseError(error, 'SECOND_FACTOR_REQUIRED') && error.extensions.nextStep;
      if (step !== 'SECOND_FACTOR' && step !== 'ENROLL_SECOND_FACTOR') throw error;
      return afterStep({ user, session, nextStep: step });
    }
  }

  return {
    get state() {
      return keeper.state;
    },
    onStateChange: (listener) => keeper.onStateChange(listener),
    refresh,
    login: (username, password) =>
      ownStep(async () => completeStep((await request(operations.LOGIN, { username, password })).login)),
    verifySecondFactor: (code) =>
      ownStep(async () => completeStep((await request(operations.VERIFY_SECOND_FACTOR, { code })).verifySecondFactor)),
    startPasskeyLogin: async (username) =>
      (await request(operations.START_PASSKEY_LOGIN, { username: username ?? null })).startPasskeyLogin,
    finishPasskeyLogin: (response) =>
      ownStep(async () =>
        completeStep((await request(operations.FINISH_PASSKEY_LOGIN, { response })).finishPasskeyLogin),
      ),
    logout: () =>
      ownStep(async () => {
        await request(operations.LOGOUT);
        keeper.set(signedOut());
      }),
    me: async () => (await request(operations.ME)).me,
    async sessions() {
      const { me } = await request(operations.SESSIONS);
      if (!me) throw new GatehouseError('UNAUTHENTICATED', 'Not signed in');
      return me.sessions;
    },
    endSession: async (sessionId) => (await request(operations.END_SESSION, { sessionId })).kickSession,
    onSessionEnded(listener) {
      if (keeper.state.status === 'loading') void refresh().catch(() => {});
      return keeper.onSessionEnded(listener);
    },
    request,
    subscribe: (document, variables, sink) => keeper.subscribe(document, variables, sink),
    dispose: () => keeper.dispose(),
  };
}
