/**
 * The second step of a password sign-in (`nextStep: SECOND_FACTOR`): the session is pending and
 * can do nothing but finish the login, so this screen offers just that: a code from the
 * authenticator app or a recovery code (`Verify`), a passkey instead (`Use a passkey`), or
 * `Cancel`, which signs the pending session out.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { CodeField } from './code-field.js';
import { ErrorAlert } from './errors.js';
import { passkeysSupported } from './passkeys.js';

export interface SecondStepProps {
  username: string;
  /** Sends a code; resolves with the failure in words, or undefined once the login is done. */
  verify(code: string): Promise<string | undefined>;
  /** Signs the pending login's challenge with a passkey; same answer as `verify`. */
  usePasskey(): Promise<string | undefined>;
  /** Signs the pending session out and goes back to the sign-in form. */
  cancel(): void;
}

export function SecondStep({ username, verify, usePasskey, cancel }: SecondStepProps) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const code = useRef<HTMLInputElement>(null);
  useEffect(() => code.current?.focus(), []);
  const attempt = async (step: () => Promise<string | undefined>) => {
    setBusy(true);
    setError(undefined);
    const failure = await step();
    setBusy(false);
    if (!failure) return;
    setError(failure);
    if (code.current) code.current.value = '';
    code.current?.focus();
  };
  const onSubmit = (event: Event) => {
    event.preventDefault();
    const typed = String(new FormData(event.currentTarget as HTMLFormElement).get('code') ?? '');
    void attempt(() => verify(typed));
  };
  return (
    <main class="sign-in">
      <h1>Confirm it’s you</h1>
      <p>
        Your password for <strong>{username}</strong> was right. Enter the code your authenticator app shows, or one of
        your recovery codes.
      </p>
      <form onSubmit={onSubmit} aria-busy={busy}>
        <CodeField inputRef={code} />
        <ErrorAlert message={error} />
        <button type="submit" disabled={busy}>
          Verify
        </button>
      </form>
      <div class="actions">
        {passkeysSupported() && (
          <button type="button" disabled={busy} onClick={() => void attempt(usePasskey)}>
            Use a passkey
          </button>
        )}
        <button type="button" onClick={cancel}>
          Cancel
        </button>
      </div>
    </main>
  );
}
