/**
 * "Users": every account from the `users` query, newest first, in keyset pages, narrowed by the
 * All sessions filter; creating one; per user the actions of {@link UserActions}. Active session
 * counts follow the live feed (one read a second at most).
 */
import { asOutcome, useAction, useQuery, useSession } from '../hooks.js';
import { CreateUserDocument, UsersDocument } from '../operations.js';
import { Pager, Scroller, TableHead, usePages } from '../tables.js';
import { ErrorAlert } from '../errors.js';
import { factorsInWords } from '../words.js';
import { useDebounced, useSessionEvents } from './live.js';
import { UserActions } from './user-actions.js';

const PAGE_SIZE = 20;

function CreateUser({ onCreated }: { onCreated(): void }) {
  const { client } = useSession();
  const create = useAction(async (username: string, password: string, role: 'USER' | 'ADMIN') => {
    const result = await asOutcome(client.request(CreateUserDocument, { username, password, role }));
    if (result.data) onCreated();
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

export interface UsersProps {
  /** Keeps users whose name contains it (any case); empty keeps all. */
  usernameContains: string;
}

export function Users({ usernameContains }: UsersProps) {
  const pages = usePages(usernameContains);
  const page = useQuery(UsersDocument, {
    first: PAGE_SIZE,
    after: pages.after,
    ...(usernameContains ? { usernameContains } : {}),
  });
  useSessionEvents(useDebounced(page.reload, 1_000));
  const users = page.data?.users.edges.map((edge) => edge.node) ?? [];
  const total = page.data?.users.totalCount;
  return (
    <section aria-labelledby="users">
      <h2 id="users">Users</h2>
      <CreateUser onCreated={page.reload} />
      {total !== undefined && (
        <p class="hint" aria-live="polite">
          {total} user{total === 1 ? '' : 's'}
          {usernameContains && ` whose name contains “${usernameContains}”`}, newest first
        </p>
      )}
      <ErrorAlert message={page.error} />
      <Scroller label="Users">
        <table aria-busy={page.loading}>
          <TableHead columns={['Username', 'Role', 'Status', 'Active sessions', 'Second factors', 'Actions']} />
          <tbody>
            {users.map((user) => (
              <tr key={user.id}>
                <th scope="row">{user.username}</th>
                <td>{user.role === 'ADMIN' ? 'Administrator' : 'User'}</td>
                <td>{user.disabled ? <strong>Disabled</strong> : 'Can sign in'}</td>
                <td>{user.activeSessionCount}</td>
                <td>{factorsInWords(user.secondFactors)}</td>
                <UserActions user={user} onChanged={page.reload} />
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
      <Pager label="Users pages" pages={pages} pageInfo={page.data?.users.pageInfo} />
    </section>
  );
}
