import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorAlert } from './errors.js';

export interface SignInProps {
  /** Resolves with the failure in words, or undefined when signed in. */
  signIn(username: string, password: string): Promise<string | undefined>;
  /** Why the page is signed out, when the session ended while it was open. */
  notice: string | undefined;
}

export function SignIn({ signIn, notice }: SignInProps) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const username = useRef<HTMLInputElement>(null);
  // `autofocus` counts only at page load; the form also appears when a session ends.
  useEffect(() => username.current?.focus(), []);
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    const failure = await signIn(String(form.get('username') ?? ''), String(form.get('password') ?? ''));
    setBusy(false);
    if (failure) setError(failure);
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
    </main>
  );
}
