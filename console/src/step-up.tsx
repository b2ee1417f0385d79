/**
 * Step-up: Gatehouse answers REAUTHENTICATION_REQUIRED to the actions that end sessions or
 * change accounts when this session last proved the password longer ago than REAUTH_WINDOW.
 * {@link StepUpProvider} owns the one password prompt of the page; `useAction` (hooks.ts) asks
 * it for a fresh proof and then runs the action once more.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { Dialog } from './dialog.js';
import { describeError, ErrorAlert } from './errors.js';
import { StepUpContext, useSession } from './hooks.js';
import { ReauthenticateDocument } from './operations.js';

interface Pending {
  promise: Promise<boolean>;
  settle(proved: boolean): void;
}

export function StepUpProvider({ children }: { children: ComponentChildren }) {
  const [pending, setPending] = useState<Pending | undefined>();
  // Actions that fail together (or while the prompt is open) share one prompt.
  const current = useRef<Pending | undefined>(undefined);
  const confirmPassword = useCallback(() => {
    if (!current.current) {
      let settle = (_proved: boolean) => {};
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      const next: Pending = {
        promise,
        settle: (proved) => {
          current.current = undefined;
          setPending(undefined);
          settle(proved);
        },
      };
      current.current = next;
      setPending(next);
    }
    return current.current.promise;
  }, []);
  // Signed out under an open prompt: the waiting action gives up.
  useEffect(() => () => current.current?.settle(false), []);
  return (
    <StepUpContext.Provider value={confirmPassword}>
      {children}
      {pending && <PasswordPrompt onDone={pending.settle} />}
    </StepUpContext.Provider>
  );
}

function PasswordPrompt({ onDone }: { onDone(proved: boolean): void }) {
  const { client, viewer } = useSession();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const password = String(new FormData(form).get('password') ?? '');
    setBusy(true);
    setError(undefined);
    const result = await client.mutation(ReauthenticateDocument, { password }).toPromise();
    setBusy(false);
    if (!result.error) return onDone(true);
    setError(describeError(result.error, { INVALID_CREDENTIALS: 'That is not your password. Try again.' }));
    form.reset();
    form.querySelector<HTMLInputElement>('input[type="password"]')?.focus();
  };
  return (
    <Dialog title="Confirm your password" onCancel={() => onDone(false)}>
      <p>This needs a recent sign-in. Enter your password again to go on.</p>
      <form class="stacked" onSubmit={onSubmit} aria-busy={busy}>
        <input type="text" name="username" autocomplete="username" value={viewer.username} hidden readOnly />
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <ErrorAlert message={error} />
        <div class="actions">
          <button type="button" onClick={() => onDone(false)}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            Confirm
          </button>
        </div>
      </form>
    </Dialog>
  );
}
