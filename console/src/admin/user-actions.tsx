/**
 * What an admin can do to one user, in the last cell of its row: the session limit, ending all
 * of its sessions, disabling or enabling it, setting its password, resetting its second factors,
 * deleting it. Ending, disabling, resetting factors and deleting ask first. Every change reads the page again (`onChanged`), so the row
 * shows what the server now says.
 */
import type { TypedDocument } from '../../../src/client/index.js';
import { useState } from 'preact/hooks';
import { Confirm, Dialog } from '../dialog.js';
import { ErrorAlert } from '../errors.js';
import type { UserRowFragment } from '../gql/graphql.js';
import { asOutcome, useAction, useSession } from '../hooks.js';
import {
  DeleteUserDocument,
  DisableUserDocument,
  EnableUserDocument,
  EndUserSessionsDocument,
  ResetPasswordDocument,
  ResetSecondFactorsDocument,
  SetSessionLimitDocument,
} from '../operations.js';

/** An action on this user that, once done, has the row read again. */
function useUserAction<Variables>(document: TypedDocument<unknown, Variables>, onChanged: () => void) {
  const { client } = useSession();
  return useAction(async (variables: Variables) => {
    const result = await asOutcome(client.request(document, variables));
    if (!result.error) onChanged();
    return result;
  });
}

function SessionLimit({ user, onChanged }: { user: UserRowFragment; onChanged(): void }) {
  const [limit, setLimit] = useState(user.sessionLimit === null ? '' : String(user.sessionLimit));
  const save = useUserAction(SetSessionLimitDocument, onChanged);
  return (
    <form
      class="limit"
      onSubmit={(event) => {
        event.preventDefault();
        void save.run({ userId: user.id, limit: limit.trim() === '' ? null : Number(limit) });
      }}
    >
      <label>
        Session limit
        <input
          type="number"
          min={0}
          inputMode="numeric"
          placeholder="default"
          value={limit}
          onInput={(event) => setLimit(event.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={save.busy}>
        Save limit
      </button>
      <ErrorAlert message={save.error} />
    </form>
  );
}

/** Sets a password an admin then hands over; every session of the user ends. */
function ResetPassword({ user, onDone }: { user: UserRowFragment; onDone(reset: boolean): void }) {
  const reset = useUserAction(ResetPasswordDocument, () => onDone(true));
  const onSubmit = (event: Event) => {
    event.preventDefault();
    const newPassword = String(new FormData(event.currentTarget as HTMLFormElement).get('password') ?? '');
    void reset.run({ userId: user.id, newPassword });
  };
  return (
    <Dialog title={`Set ${user.username}’s password`} onCancel={() => onDone(false)}>
      <p>Every session of {user.username} ends. Give them the new password another way.</p>
      <form class="stacked" onSubmit={onSubmit} aria-busy={reset.busy}>
        <input type="text" name="username" autocomplete="off" value={user.username} hidden readOnly />
        <label>
          Password to set
          <input name="password" type="password" autocomplete="new-password" required minLength={8} />
        </label>
        <ErrorAlert message={reset.error} />
        <div class="actions">
          <button type="button" onClick={() => onDone(false)}>
            Cancel
          </button>
          <button type="submit" disabled={reset.busy}>
            Set password
          </button>
        </div>
      </form>
    </Dialog>
  );
}

type Question = 'end-all' | 'disable' | 'reset-factors' | 'delete';

/** What each action that cannot be taken back asks first; Enable and the limit ask nothing. */
function questionFor(action: Question, username: string) {
  switch (action) {
    case 'end-all':
      return {
        title: `End all of ${username}’s sessions?`,
        consequence: `${username} is signed out at once on every device, and can sign in again.`,
        confirm: `Yes, end ${username}’s sessions`,
      };
    case 'disable':
      return {
        title: `Disable ${username}?`,
        consequence: `${username} is signed out at once on every device and cannot sign in until enabled again.`,
        confirm: `Yes, disable ${username}`,
      };
    case 'reset-factors':
      return {
        title: `Reset ${username}’s second factors?`,
        consequence:
          `${username}’s authenticator apps, passkeys and recovery codes are removed, and ${username} is signed out ` +
          'at once on every device. Their password alone signs them in until they add a factor again (at once, ' +
          'where REQUIRE_SECOND_FACTOR covers them).',
        confirm: `Yes, reset ${username}’s second factors`,
      };
    case 'delete':
      return {
        title: `Delete ${username}?`,
        consequence: `${username}’s sessions end and the account is removed for good. The audit log keeps its events.`,
        confirm: `Yes, delete ${username}`,
      };
  }
}

export function UserActions({ user, onChanged }: { user: UserRowFragment; onChanged(): void }) {
  const [open, setOpen] = useState<'reset' | Question | undefined>();
  const [notice, setNotice] = useState('');
  const endAll = useUserAction(EndUserSessionsDocument, onChanged);
  const disable = useUserAction(DisableUserDocument, onChanged);
  const enable = useUserAction(EnableUserDocument, onChanged);
  const resetFactors = useUserAction(ResetSecondFactorsDocument, onChanged);
  const remove = useUserAction(DeleteUserDocument, onChanged);
  const toggle = user.disabled ? enable : disable;
  const failure = endAll.error ?? disable.error ?? enable.error ?? resetFactors.error ?? remove.error;
  const userId = user.id;
  return (
    <td class="user-actions">
      <SessionLimit user={user} onChanged={onChanged} />
      <button type="button" disabled={endAll.busy || user.activeSessionCount === 0} onClick={() => setOpen('end-all')}>
        End all sessions
      </button>
      <button
        type="button"
        disabled={toggle.busy}
        onClick={() => (user.disabled ? void enable.run({ userId }) : setOpen('disable'))}
      >
        {user.disabled ? 'Enable' : 'Disable'}
      </button>
      <button type="button" onClick={() => setOpen('reset')}>
        Reset password
      </button>
      <button
        type="button"
        disabled={resetFactors.busy || user.secondFactors.length === 0}
        onClick={() => setOpen('reset-factors')}
      >
        Reset second factors
      </button>
      <button type="button" class="danger" disabled={remove.busy} onClick={() => setOpen('delete')}>
        Delete
      </button>
      {notice && <p role="status">{notice}</p>}
      <ErrorAlert message={failure} />
      {open === 'reset' && (
        <ResetPassword
          user={user}
          onDone={(reset) => {
            setOpen(undefined);
            if (!reset) return;
            setNotice(`Password set; ${user.username}’s sessions ended.`);
            onChanged();
          }}
        />
      )}
      {open !== undefined && open !== 'reset' && (
        <Confirm
          {...questionFor(open, user.username)}
          onCancel={() => setOpen(undefined)}
          onConfirm={() => {
            setOpen(undefined);
            void { 'end-all': endAll, disable, 'reset-factors': resetFactors, delete: remove }[open].run({ userId });
          }}
        />
      )}
    </td>
  );
}
