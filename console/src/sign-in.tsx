import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorAlert } from './errors.js';
import { passkeySignInAvailable } from './passkeys.js';

export interface SignInProps {
  /** Resolves with the failure in words, or undefined when signed in. */
  signIn(username: string, password: string): Promise<string | undefined>;
  /** Signs in with a passkey alone (no username: the authenticator offers its passkeys); same answer. */
  signInWithPasskey(): Promise<string | undefined>;
  /** Why the page is signed out, when the session ended while it was open. */
  notice: string | undefined;
}

export function SignIn({ signIn, signInWithPasskey, notice }: SignInProps) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [passkeyOffered, setPasskeyOffered] = useState(false);
  const username = useRef<HTMLInputElement>(null);
  // `autofocus` counts only at page load; the form also appears when a session ends.
  useEffect(() => username.current?.focus(), []);
  useEffect(() => {
    let mounted = true;
    void passkeySignInAvailable().then((available) => mounted && setPasskeyOffered(available));
    return () => {
      mounted = false;
    };
  }, []);
  const attempt = async (step: () => Promise<string | undefined>) => {
    setBusy(true);
    setError(undefined);
    const failure = await step();
    setBusy(false);
    if (failure) setError(failure);
  };
  const onSubmit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    void attempt(() => signIn(String(form.get('username') ?? ''), String(form.get('password') ?? '')));
  };
  return (
    <main class="sign-in">
      <h1>Sign in to Gatehouse</h1>
      {notice && !error && (
        <p role="alert" class="notice">
          {notice}
        </p>
      )}
      <form onSubmit={onSubmit} aria-busy={busy}>
        <label>
          Username
          <input ref={username} name="username" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <ErrorAlert message={error} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      {passkeyOffered && (
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => void attempt(signInWithPasskey)}>
            Sign in with a passkey
          </button>
        </div>
      )}
    </main>
  );
}
