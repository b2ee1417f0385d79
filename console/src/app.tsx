/**
 * The console's states: loading, signed out (the sign-in form, with why when a session ended
 * under the page), and signed in (one connection per session; its end, whatever caused it,
 * brings the sign-in form back with an alert, without a reload).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { AdminView } from './admin/admin.js';
import { describeError } from './errors.js';
import { CombinedError } from '@urql/core';
import { checkCookieKept, connect, watchSession, type Connection } from './gatehouse.js';
import { SessionContext, type Session, type Viewer } from './hooks.js';
import { MySessions } from './my-sessions.js';
import { SignInDocument, SignOutDocument, WhoAmIDocument } from './operations.js';
import { SignIn } from './sign-in.js';
import { StepUpProvider } from './step-up.js';
import { cookieRefusalInWords, endReasonInWords } from './words.js';

type Phase = { name: 'loading' } | { name: 'signed-out'; notice?: string } | { name: 'signed-in'; session: Session };

export function App() {
  const [phase, setPhase] = useState<Phase>({ name: 'loading' });
  // The connection of the current phase; events from an older one are stale and ignored.
  const current = useRef<Connection | undefined>(undefined);

  const replaceConnection = (onSessionEnded?: (reason: string | undefined) => void) => {
    current.current?.close();
    const connection = connect({ onSessionEnded: (reason) => onSessionEnded?.(reason) });
    current.current = connection;
    return connection;
  };

  const showSignedOut = (notice?: string) => {
    replaceConnection();
    setPhase({ name: 'signed-out', ...(notice ? { notice } : {}) });
  };

  const startSession = (viewer: Viewer) => {
    const ended = (reason: string | undefined) => {
      if (current.current === connection) showSignedOut(`Signed out: ${endReasonInWords(reason)}`);
    };
    const connection = replaceConnection(ended);
    watchSession(connection.client, ended);
    const signOut = async () => {
      // Retire this connection first: the LOGOUT end it would report is no surprise.
      const anonymous = replaceConnection();
      await anonymous.client.mutation(SignOutDocument, {}).toPromise();
      setPhase({ name: 'signed-out', notice: 'You signed out.' });
    };
    setPhase({ name: 'signed-in', session: { client: connection.client, viewer, signOut } });
  };

  const signIn = async (username: string, password: string) => {
    const client = current.current?.client;
    if (!client) return 'Not connected.';
    const result = await client.mutation(SignInDocument, { username, password }).toPromise();
    if (result.error || !result.data) return result.error ? describeError(result.error) : 'Not connected.';
    // A cookie the browser refused would otherwise surface as "Signed out" a moment later.
    try {
      const refused = await checkCookieKept(client, result.data.login.session.id);
      if (refused) return cookieRefusalInWords(refused);
    } catch (error) {
      return error instanceof CombinedError ? describeError(error) : 'Not connected.';
    }
    startSession(result.data.login.user);
    return undefined;
  };

  useEffect(() => {
    const connection = replaceConnection();
    void connection.client
      .query(WhoAmIDocument, {}, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => {
        if (result.data?.me) startSession(result.data.me);
        else showSignedOut(result.error && describeError(result.error));
      });
    return () => current.current?.close();
  }, []);

  if (phase.name === 'loading') return <p role="status">Loading…</p>;
  if (phase.name === 'signed-out') return <SignIn signIn={signIn} notice={phase.notice} />;
  return (
    <SessionContext.Provider value={phase.session}>
      <StepUpProvider>
        <SignedIn viewer={phase.session.viewer} />
      </StepUpProvider>
    </SessionContext.Provider>
  );
}

function SignedIn({ viewer }: { viewer: Viewer }) {
  const admin = viewer.role === 'ADMIN';
  return (
    <>
      <header>
        <p class="brand">Gatehouse</p>
        <p class="who">
          Signed in as <strong>{viewer.username}</strong>
          {admin && ' (administrator)'}
        </p>
        {admin && (
          <nav aria-label="Sections">
            <a href="#your-sessions">Your sessions</a>
            <a href="#all-sessions">All sessions</a>
            <a href="#users">Users</a>
            <a href="#audit-log">Audit log</a>
            <a href="#webhooks">Webhooks</a>
            <a href="/graphql">GraphiQL</a>
          </nav>
        )}
      </header>
      <main>
        <h1 class="visually-hidden">Gatehouse console</h1>
        <MySessions />
        {admin && <AdminView />}
      </main>
    </>
  );
}
