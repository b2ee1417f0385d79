/**
 * The console's states: loading, signed out (the sign-in form, with why when a session ended
 * under the page), the second step of a password sign-in (a pending session), signed in only to
 * add a required second factor, and signed in. The page's one client (gatehouse.ts) holds the
 * session's socket and tells the page when the session ends, whatever caused it: the sign-in
 * form comes back with an alert, without a reload.
 */
import { useEffect, useState } from 'preact/hooks';
import { AdminView } from './admin/admin.js';
import { EnrollRequired } from './enroll-required.js';
import { gatehouse as client } from './gatehouse.js';
import type { User } from '../../src/client/index.js';
import { asOutcome, SessionContext, type Outcome, type Session } from './hooks.js';
import { resume, signInWithPasskey, signInWithPassword, verifyCode, type LoginOutcome } from './login.js';
import { MySessions } from './my-sessions.js';
import { SecondStep } from './second-step.js';
import { Security } from './security/security.js';
import { SignIn } from './sign-in.js';
import { StepUpProvider } from './step-up.js';
import { endReasonInWords } from './words.js';

type Phase =
  | { name: 'loading' }
  | { name: 'signed-out'; notice?: string }
  | { name: 'second-step'; user: User }
  | { name: 'enroll' | 'signed-in'; session: Session };

const EXPIRED = 'The sign-in waited too long for its second step, so it was cancelled. Sign in again.';

export function App() {
  const [phase, setPhase] = useState<Phase>({ name: 'loading' });

  const showSignedOut = (notice?: string) => setPhase({ name: 'signed-out', ...(notice ? { notice } : {}) });

  /** Refused (Gatehouse unreachable…), the session lives on: the page stays, and the caller says why. */
  const signOut = async (notice = 'You signed out.'): Promise<Outcome> => {
    const outcome = await asOutcome(client.logout());
    // The client tells no end for its own logout: this notice is the only one.
    if (!outcome.error) showSignedOut(notice);
    return outcome;
  };

  const sessionOf = (viewer: User): Session => ({ client, viewer, signOut: () => signOut() });

  const goTo = (outcome: Exclude<LoginOutcome, { failure: string }>) => {
    if (outcome.next === 'SIGNED_OUT') showSignedOut();
    else if (outcome.next === 'EXPIRED') showSignedOut(EXPIRED);
    else if (outcome.next === 'DONE') setPhase({ name: 'signed-in', session: sessionOf(outcome.user) });
    else if (outcome.next === 'SECOND_FACTOR') setPhase({ name: 'second-step', user: outcome.user });
    // Signed in to add a factor only: the client opens no socket for such a session.
    else setPhase({ name: 'enroll', session: sessionOf(outcome.user) });
  };

  /** Takes the page where a login step left it; the failure in words stays on the screen that asked. */
  const follow = async (step: () => Promise<LoginOutcome>) => {
    const outcome = await step();
    if ('failure' in outcome) return outcome.failure;
    goTo(outcome);
    return undefined;
  };

  /** Where the browser's cookie stands: at load, and once a required second factor is added. */
  const resumeSession = () =>
    void resume(client).then((outcome) => ('failure' in outcome ? showSignedOut(outcome.failure) : goTo(outcome)));

  useEffect(() => {
    resumeSession();
    return client.onSessionEnded((reason) => showSignedOut(`Signed out: ${endReasonInWords(reason)}`));
  }, []);

  switch (phase.name) {
    case 'loading':
      return <p role="status">Loading…</p>;
    case 'signed-out':
      return (
        <SignIn
          signIn={(username, password) => follow(() => signInWithPassword(client, username, password))}
          signInWithPasskey={() => follow(() => signInWithPasskey(client))}
          notice={phase.notice}
        />
      );
    case 'second-step':
      return (
        <SecondStep
          username={phase.user.username}
          verify={(code) => follow(() => verifyCode(client, code))}
          usePasskey={() => follow(() => signInWithPasskey(client, true))}
          cancel={() => void signOut('Sign-in cancelled.')}
        />
      );
    default:
      return (
        <SessionContext.Provider value={phase.session}>
          <StepUpProvider>
            {phase.name === 'enroll' ? (
              <EnrollRequired onEnrolled={resumeSession} />
            ) : (
              <SignedIn viewer={phase.session.viewer} />
            )}
          </StepUpProvider>
        </SessionContext.Provider>
      );
  }
}

function SignedIn({ viewer }: { viewer: User }) {
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
