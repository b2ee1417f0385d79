/**
 * `nextStep: ENROLL_SECOND_FACTOR`: REQUIRE_SECOND_FACTOR covers this account and it has no
 * second factor yet, so the session can only add one (or sign out). Once one is added (and its
 * recovery codes saved) the page goes on as signed in.
 */
import { useState } from 'preact/hooks';
import { ErrorAlert } from './errors.js';
import { useAction, useSession } from './hooks.js';
import { AddPasskey } from './security/add-passkey.js';
import { AddTotp, type FactorAdded } from './security/add-totp.js';
import { RecoveryCodes } from './security/recovery-codes.js';

export function EnrollRequired({ onEnrolled }: { onEnrolled(): void }) {
  const { viewer, signOut } = useSession();
  const [codes, setCodes] = useState<readonly string[] | undefined>();
  const signingOut = useAction(signOut);
  const added = ({ recoveryCodes }: FactorAdded) => (recoveryCodes?.length ? setCodes(recoveryCodes) : onEnrolled());
  return (
    <main class="sign-in">
      <h1>Add a second factor</h1>
      {codes ? (
        <RecoveryCodes username={viewer.username} codes={codes} onDone={onEnrolled} />
      ) : (
        <>
          <p role="alert" class="notice">
            Your account must have a second factor before you can go on: an authenticator app or a passkey.
          </p>
          <p>
            From then on, signing in as <strong>{viewer.username}</strong> takes your password and a code from the app,
            or the passkey alone.
          </p>
          <div class="actions">
            <AddTotp onAdded={added} />
            <AddPasskey onAdded={added} />
            <button type="button" disabled={signingOut.busy} onClick={() => void signingOut.run()}>
              Sign out
            </button>
          </div>
          <ErrorAlert message={signingOut.error} />
        </>
      )}
    </main>
  );
}
