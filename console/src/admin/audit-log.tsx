/** "Audit log": sign-ins, failures, ends and account changes, newest first, older on demand. */
import { useEffect, useState } from 'preact/hooks';
import { describeDevice } from '../device.js';
import type { AuditLogQuery } from '../gql/graphql.js';
import { useQuery } from '../hooks.js';
import { AuditLogDocument } from '../operations.js';
import { Scroller, TableHead, When } from '../tables.js';
import { ErrorAlert } from '../errors.js';
import { endReasonLabel, eventTypeLabel } from '../words.js';

type AuditEvent = AuditLogQuery['authEvents']['edges'][number]['node'];

const PAGE_SIZE = 25;

/** A user id is a UUID: its first group is enough to tell rows apart at a glance. */
const shortId = (id: string | null | undefined) => (id ? id.slice(0, 8) : '—');

export function AuditLog() {
  const [after, setAfter] = useState<string | undefined>();
  const page = useQuery(AuditLogDocument, { first: PAGE_SIZE, after });
  const [events, setEvents] = useState<AuditEvent[]>([]);
  useEffect(() => {
    const loaded = page.data?.authEvents.edges.map((edge) => edge.node) ?? [];
    setEvents((current) => (after === undefined ? loaded : [...current, ...loaded]));
    // Only a newly loaded page changes the list.
  }, [page.data]);
  // A deleted account has no user any more; its failed logins keep the name that was typed.
  const who = (event: AuditEvent) => event.user?.username ?? event.username ?? shortId(event.userId);
  const pageInfo = page.data?.authEvents.pageInfo;
  return (
    <section aria-labelledby="audit-log">
      <h2 id="audit-log">Audit log</h2>
      <div class="actions">
        <button type="button" onClick={() => (after === undefined ? page.reload() : setAfter(undefined))}>
          Refresh
        </button>
      </div>
      <ErrorAlert message={page.error} />
      <Scroller label="Audit log">
        <table aria-busy={page.loading}>
          <TableHead columns={['When', 'Event', 'User', 'Detail', 'IP address', 'Device']} />
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>
                  <When iso={event.createdAt} />
                </td>
                <td>{eventTypeLabel(event.type)}</td>
                <td title={event.userId ?? undefined}>{who(event)}</td>
                <td>{event.reason ? endReasonLabel(event.reason) : ''}</td>
                <td>{event.ipAddress ?? '—'}</td>
                <td>{event.userAgent ? describeDevice(event.userAgent) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
      {pageInfo?.hasNextPage && (
        <button type="button" disabled={page.loading} onClick={() => setAfter(pageInfo.endCursor ?? undefined)}>
          Older events
        </button>
      )}
    </section>
  );
}
