import { useState } from 'preact/hooks';
import { asOutcome, useAction, useSession } from './hooks.js';
import { ChangePasswordDocument } from './operations.js';
import { ErrorAlert } from './errors.js';

/** Changing the password ends the user's other sessions; this one stays signed in. */
export function ChangePassword({ onChanged }: { onChanged(): void }) {
  const { client, viewer } = useSession();
  const [done, setDone] = useState(false);
  const change = useAction((currentPassword: string, newPassword: string) =>
    asOutcome(client.request(ChangePasswordDocument, { currentPassword, newPassword })),
  );
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    setDone(false);
    if (await change.run(String(form.get('current') ?? ''), String(form.get('new') ?? ''))) {
      formElement.reset();
      setDone(true);
      onChanged();
    }
  };
  return (
    <details class="change-password">
      <summary>Change password</summary>
      <form onSubmit={onSubmit} aria-busy={change.busy}>
        {/* For password managers: which account this password belongs to. */}
        <input type="text" name="username" autocomplete="username" value={viewer.username} hidden readOnly />
        <label>
          Current password
          <input name="current" type="password" autocomplete="current-password" required />
        </label>
        <label>
          Next password
          <input name="new" type="password" autocomplete="new-password" required minLength={8} />
        </label>
        <ErrorAlert message={change.error} />
        {done && <p role="status">Password changed. Your other sessions were signed out.</p>}
        <button type="submit" disabled={change.busy}>
          Change password
        </button>
      </form>
    </details>
  );
}
