/**
 * "Users": create one, and per user the session limit and ending all of their sessions. The
 * per-user actions live in {@link UserActions}, where disabling, deleting and resetting a
 * password belong once the API has them.
 */
import { useState } from 'preact/hooks';
import { useAction, useSession } from '../hooks.js';
import type { UserRowFragment } from '../gql/graphql.js';
import { CreateUserDocument, EndUserSessionsDocument, SetSessionLimitDocument } from '../operations.js';
import { Scroller, TableHead } from '../tables.js';
import { ErrorAlert } from '../errors.js';

function CreateUser({ onCreated }: { onCreated(user: UserRowFragment): void }) {
  const { client } = useSession();
  const create = useAction(async (username: string, password: string, role: 'USER' | 'ADMIN') => {
    const result = await client.mutation(CreateUserDocument, { username, password, role }).toPromise();
    if (result.data) onCreated(result.data.createUser);
    return result;
  });
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const role = form.get('role') === 'ADMIN' ? 'ADMIN' : 'USER';
    if (await create.run(String(form.get('username') ?? ''), String(form.get('password') ?? ''), role)) {
      formElement.reset();
    }
  };
  return (
    <form class="create-user" onSubmit={onSubmit} aria-busy={create.busy}>
      <label>
        New username
        <input name="username" autocomplete="off" required />
      </label>
      <label>
        New password
        <input name="password" type="password" autocomplete="new-password" required minLength={8} />
      </label>
      <label>
        Role
        <select name="role">
          <option value="USER">User</option>
          <option value="ADMIN">Administrator</option>
        </select>
      </label>
      <button type="submit" disabled={create.busy}>
        Create user
      </button>
      <ErrorAlert message={create.error} />
    </form>
  );
}

function UserActions({ user, onChanged }: { user: UserRowFragment; onChanged(user: UserRowFragment): void }) {
  const { client } = useSession();
  const [limit, setLimit] = useState(user.sessionLimit === null ? '' : String(user.sessionLimit));
  const saveLimit = useAction(async () => {
    const value = limit.trim() === '' ? null : Number(limit);
    const result = await client.mutation(SetSessionLimitDocument, { userId: user.id, limit: value }).toPromise();
    if (result.data) onChanged(result.data.setUserSessionLimit);
    return result;
  });
  const endAll = useAction(async () => {
    const result = await client.mutation(EndUserSessionsDocument, { userId: user.id }).toPromise();
    if (!result.error) onChanged({ ...user, activeSessionCount: 0 });
    return result;
  });
  const failure = saveLimit.error ?? endAll.error;
  return (
    <td class="user-actions">
      <form
        class="limit"
        onSubmit={(event) => {
          event.preventDefault();
          void saveLimit.run();
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
        <button type="submit" disabled={saveLimit.busy}>
          Save limit
        </button>
      </form>
      <button type="button" disabled={endAll.busy || user.activeSessionCount === 0} onClick={() => void endAll.run()}>
        End all sessions
      </button>
      <ErrorAlert message={failure} />
    </td>
  );
}

export interface UsersProps {
  users: UserRowFragment[];
  /** Why the list could not be read, in words. */
  error: string | undefined;
  /** A user was created or changed: here is how it reads now. */
  onChanged(user: UserRowFragment): void;
}

export function Users({ users, error, onChanged }: UsersProps) {
  return (
    <section aria-labelledby="users">
      <h2 id="users">Users</h2>
      <CreateUser onCreated={onChanged} />
      <p class="hint">Users who hold an active session, and users created here.</p>
      <ErrorAlert message={error} />
      <Scroller label="Users">
        <table>
          <TableHead columns={['Username', 'Role', 'Active sessions', 'Actions']} />
          <tbody>
            {users.map((user) => (
              <tr key={user.id}>
                <th scope="row">{user.username}</th>
                <td>{user.role === 'ADMIN' ? 'Administrator' : 'User'}</td>
                <td>{user.activeSessionCount}</td>
                <UserActions user={user} onChanged={onChanged} />
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
    </section>
  );
}
