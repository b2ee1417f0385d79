/**
 * Step-up: Gatehouse answers REAUTHENTICATION_REQUIRED to the actions that end sessions or
 * change accounts when this session last proved who it is longer ago than REAUTH_WINDOW, and
 * SECOND_FACTOR_REQUIRED when that proof must include a second factor. {@link StepUpProvider}
 * owns the one prompt of the page; `useAction` (hooks.ts) asks it for a fresh proof and then
 * runs the action once more.
 *
 * For a user with a second factor the proof is the password with an `Authentication code` (from
 * the app, or a recovery code), or a passkey alone (`Use a passkey`). The prompt asks for the
 * code when the server said the user has a factor, or when a password alone was refused for
 * lack of one.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { CodeField } from './code-field.js';
import { Dialog } from './dialog.js';
import { describeError, ErrorAlert, errorCode, tooMany } from './errors.js';
import { asOutcome, StepUpContext, useSession, type Outcome, type StepUpNeed } from './hooks.js';
import { ReauthenticateDocument } from './operations.js';
import { passkeyCeremony, passkeysSupported } from './passkeys.js';

interface Pending {
  need: StepUpNeed;
  promise: Promise<boolean>;
  settle(proved: boolean): void;
}

export function StepUpProvider({ children }: { children: ComponentChildren }) {
  const [pending, setPending] = useState<Pending | undefined>();
  // Actions that fail together (or while the prompt is open) share one prompt.
  const current = useRef<Pending | undefined>(undefined);
  const confirmIdentity = useCallback((need: StepUpNeed) => {
    if (!current.current) {
      let settle = (_proved: boolean) => {};
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      const next: Pending = {
        need,
        promise,
        settle: (proved) => {
          current.current = undefined;
          setPending(undefined);
          settle(proved);
        },
      };
      current.current = next;
      setPending(next);
    } else if (need.secondFactor && !current.current.need.secondFactor) {
      // A later action knows more: the open prompt asks for the factor too.
      current.current = { ...current.current, need };
      setPending(current.current);
    }
    return current.current.promise;
  }, []);
  // Signed out under an open prompt: the waiting action gives up.
  useEffect(() => () => current.current?.settle(false), []);
  return (
    <StepUpContext.Provider value={confirmIdentity}>
      {children}
      {pending && <IdentityPrompt secondFactor={pending.need.secondFactor} onDone={pending.settle} />}
    </StepUpContext.Provider>
  );
}

/** Words for a refused proof: the prompt has no username to get wrong, and may have sent a code. */
const REFUSALS = {
  INVALID_CREDENTIALS: 'That is not your password. Try again.',
  RATE_LIMITED: tooMany('failed attempts'),
};

/** The field to type again after each refusal. */
const RETYPE: Record<string, 'password' | 'code'> = { INVALID_CREDENTIALS: 'password', INVALID_SECOND_FACTOR: 'code' };

const PASSKEY_REFUSALS = {
  ...REFUSALS,
  INVALID_SECOND_FACTOR: 'That passkey is not one of yours, or it could not be checked. Try again, or enter a code.',
};

function IdentityPrompt({ secondFactor, onDone }: { secondFactor: boolean; onDone(proved: boolean): void }) {
  const { client, viewer } = useSession();
  const [askCode, setAskCode] = useState(secondFactor);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => setAskCode((asked) => asked || secondFactor), [secondFactor]);

  const settle = (outcome: Outcome, refusals = REFUSALS) => {
    setBusy(false);
    if (!outcome.error && !outcome.failure) return onDone(true);
    if (errorCode(outcome.error) === 'SECOND_FACTOR_REQUIRED') {
      // This user has a factor: a password alone is refused (unchecked), the code must come with it.
      setAskCode(true);
      setError('Your account has a second factor: enter a code from your authenticator app as well.');
      return;
    }
    setError(outcome.error ? describeError(outcome.error, refusals) : outcome.failure);
    // Type again what was refused: a wrong password is checked before the code, so both go.
    const wrong = RETYPE[errorCode(outcome.error) ?? ''];
    if (wrong === 'password') form.current?.reset();
    const field = wrong && form.current?.querySelector<HTMLInputElement>(`input[name="${wrong}"]`);
    if (!field) return;
    field.value = '';
    field.focus();
  };
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const fields = new FormData(event.currentTarget as HTMLFormElement);
    const password = String(fields.get('password') ?? '');
    const code = fields.get('code');
    setBusy(true);
    setError(undefined);
    const variables = code === null ? { password } : { password, code: String(code) };
    settle(await asOutcome(client.request(ReauthenticateDocument, variables)));
  };
  const usePasskey = async () => {
    setBusy(true);
    setError(undefined);
    settle(
      await passkeyCeremony(
        'get',
        async () => {
          // Signed in, without a username: options for this user's own passkeys, for a step-up.
          const result = await asOutcome(client.startPasskeyLogin());
          return { error: result.error, options: result.data };
        },
        (passkeyResponse) => asOutcome(client.request(ReauthenticateDocument, { passkeyResponse })),
      ),
      PASSKEY_REFUSALS,
    );
  };
  return (
    <Dialog title="Confirm your password" onCancel={() => onDone(false)}>
      <p>
        {askCode
          ? 'This needs a recent sign-in. Enter your password and a code from your authenticator app (or a recovery code), or use a passkey.'
          : 'This needs a recent sign-in. Enter your password again to go on.'}
      </p>
      <form ref={form} class="stacked" onSubmit={onSubmit} aria-busy={busy}>
        <input type="text" name="username" autocomplete="username" value={viewer.username} hidden readOnly />
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {askCode && <CodeField />}
        <ErrorAlert message={error} />
        <div class="actions">
          <button type="button" onClick={() => onDone(false)}>
            Cancel
          </button>
          {askCode && passkeysSupported() && (
            <button type="button" disabled={busy} onClick={() => void usePasskey()}>
              Use a passkey
            </button>
          )}
          <button type="submit" disabled={busy}>
            Confirm
          </button>
        </div>
      </form>
    </Dialog>
  );
}
