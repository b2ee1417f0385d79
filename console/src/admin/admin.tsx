/** What an admin sees below their own sessions. */
import { useState } from 'preact/hooks';
import { AllSessions } from './all-sessions.js';
import { AuditLog } from './audit-log.js';
import { useUsernames } from './directory.js';
import { Stats } from './stats.js';
import { Users } from './users.js';

export function AdminView() {
  // `Filter by username` sits in All sessions and narrows Users too.
  const [usernameFilter, setUsernameFilter] = useState('');
  const [usernames, noteUsers] = useUsernames();
  return (
    <>
      <Stats />
      <AllSessions onFilter={setUsernameFilter} onSeen={noteUsers} />
      <Users usernameContains={usernameFilter} onSeen={noteUsers} />
      <AuditLog usernames={usernames} />
    </>
  );
}
