/**
 * The console's states: loading, signed out (the sign-in form, with why when a session ended
 * under the page), the second step of a password sign-in (a pending session), signed in only to
 * add a required second factor, and signed in (one connection per session; its end, whatever
 * caused it, brings the sign-in form back with an alert, without a reload).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { AdminView } from './admin/admin.js';
import { EnrollRequired } from './enroll-required.js';
import { connect, watchSession, type Connection } from './gatehouse.js';
import { SessionContext, type Session, type Viewer } from './hooks.js';
import { resume, signInWithPasskey, signInWithPassword, verifyCode, type LoginOutcome } from './login.js';
import { MySessions } from './my-sessions.js';
import { SignOutDocument } from './operations.js';
import { SecondStep } from './second-step.js';
import { Security } from './security/security.js';
import { SignIn } from './sign-in.js';
import { StepUpProvider } from './step-up.js';
import { endReasonInWords } from './words.js';

type Phase =
  | { name: 'loading' }
  | { name: 'signed-out'; notice?: string }
  | { name: 'second-step'; user: Viewer }
  | { name: 'enroll' | 'signed-in'; session: Session };

const EXPIRED = 'The sign-in waited too long for its second step, so it was cancelled. Sign in again.';

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

  const signOut = async (notice = 'You signed out.') => {
    // Retire this connection first: the LOGOUT end it would report is no surprise.
    const anonymous = replaceConnection();
    await anonymous.client.mutation(SignOutDocument, {}).toPromise();
    setPhase({ name: 'signed-out', notice });
  };

  const startSession = (viewer: Viewer) => {
    const ended = (reason: string | undefined) => {
      if (current.current === connection) showSignedOut(`Signed out: ${endReasonInWords(reason)}`);
    };
    const connection = replaceConnection(ended);
    watchSession(connection.client, ended);
    setPhase({ name: 'signed-in', session: { client: connection.client, viewer, signOut: () => signOut() } });
  };

  /** Signed in to add a factor only: no live feed for such a session, the login's connection serves. */
  const startEnrollment = (viewer: Viewer, connection: Connection) =>
    setPhase({ name: 'enroll', session: { client: connection.client, viewer, signOut: () => signOut() } });

  const goTo = (outcome: Exclude<LoginOutcome, { failure: string }>, connection: Connection) => {
    if (outcome.next === 'SIGNED_OUT') showSignedOut();
    else if (outcome.next === 'EXPIRED') showSignedOut(EXPIRED);
    else if (outcome.next === 'DONE') startSession(outcome.user);
    else if (outcome.next === 'SECOND_FACTOR') setPhase({ name: 'second-step', user: outcome.user });
    else startEnrollment(outcome.user, connection);
  };

  /** Takes the page where a login step left it; the failure in words stays on the screen that asked. */
  const follow = async (step: (connection: Connection) => Promise<LoginOutcome>) => {
    const connection = current.current;
    if (!connection) return 'Not connected.';
    const outcome = await step(connection);
    if ('failure' in outcome) return outcome.failure;
    goTo(outcome, connection);
    return undefined;
  };

  useEffect(() => {
    const connection = replaceConnection();
    void resume(connection.client).then((outcome) =>
      'failure' in outcome ? showSignedOut(outcome.failure) : goTo(outcome, connection),
    );
    return () => current.current?.close();
  }, []);

  switch (phase.name) {
    case 'loading':
      return <p role="status">Loading…</p>;
    case 'signed-out':
      return (
        <SignIn
          signIn={(username, password) => follow(({ client }) => signInWithPassword(client, username, password))}
          signInWithPasskey={() => follow(({ client }) => signInWithPasskey(client))}
          notice={phase.notice}
        />
      );
    case 'second-step':
      return (
        <SecondStep
          username={phase.user.username}
          verify={(code) => follow(({ client }) => verifyCode(client, code))}
          usePasskey={() => follow(({ client }) => signInWithPasskey(client, true))}
          cancel={() => void signOut('Sign-in cancelled.')}
        />
      );
    default:
      return (
        <SessionContext.Provider value={phase.session}>
          <StepUpProvider>
            {phase.name === 'enroll' ? (
              <EnrollRequired onEnrolled={() => startSession(phase.session.viewer)} />
            ) : (
              <SignedIn viewer={phase.session.viewer} />
            )}
          </StepUpProvider>
        </SessionContext.Provider>
      );
  }
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
            <a href="#security">Security</a>
            <a href="#all-sessions">All sessions</a>
            <a href="#users">Users</a>
            <a href="#audit-log">Audit log</a>
            <a href="#webhooks">Webhooks</a>
            <a href="#service-tokens">Service tokens</a>
            <a href="/graphql">GraphiQL</a>
          </nav>
        )}
      </header>
      <main>
        <h1 class="visually-hidden">Gatehouse console</h1>
        <MySessions />
        <Security />
        {admin && <AdminView />}
      </main>
    </>
  );
}
