/** What an admin sees below their own sessions. */
import { useState } from 'preact/hooks';
import { AllSessions } from './all-sessions.js';
import { AuditLog } from './audit-log.js';
import { ServiceTokens } from './service-tokens.js';
import { Stats } from './stats.js';
import { Users } from './users.js';
import { Webhooks } from './webhooks.js';

export function AdminView() {
  // `Filter by username` sits in All sessions and narrows Users too.
  const [usernameFilter, setUsernameFilter] = useState('');
  return (
    <>
      <Stats />
      <AllSessions onFilter={setUsernameFilter} />
      <Users usernameContains={usernameFilter} />
      <AuditLog />
      <Webhooks />
      <ServiceTokens />
    </>
  );
}
