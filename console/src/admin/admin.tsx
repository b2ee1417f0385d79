/** What an admin sees below their own sessions. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { describeError } from '../errors.js';
import type { UserRowFragment } from '../gql/graphql.js';
import { useSession } from '../hooks.js';
import { AllSessions } from './all-sessions.js';
import { AuditLog } from './audit-log.js';
import { loadKnownUsers, mergeUsers } from './directory.js';
import { Stats } from './stats.js';
import { Users } from './users.js';

export function AdminView() {
  const { client } = useSession();
  const [users, setUsers] = useState<UserRowFragment[]>([]);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    void loadKnownUsers(client).then((loaded) => {
      setUsers((current) => mergeUsers(loaded.users, current));
      setError(loaded.error && describeError(loaded.error));
    });
  }, [client]);
  const usernames = useMemo(() => new Map(users.map((user) => [user.id, user.username])), [users]);
  return (
    <>
      <Stats />
      <AllSessions />
      <Users users={users} error={error} onChanged={(user) => setUsers((current) => mergeUsers(current, [user]))} />
      <AuditLog usernames={usernames} />
    </>
  );
}
