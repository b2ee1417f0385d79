/**
 * "Audit log": sign-ins, failures, ends and account changes, newest first, older on demand. Each
 * row says who did it (a user, "themself", someone signing in, the command line or the system),
 * to whom, and from where; the log narrows to one user (as whom it concerns, or as who did it)
 * and one type of event.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeDevice } from '../device.js';
import { ErrorAlert } from '../errors.js';
import type { AuditLogQuery, AuditLogQueryVariables, AuthEventType } from '../gql/graphql.js';
import { useQuery, useSession } from '../hooks.js';
import { AuditLogDocument } from '../operations.js';
import { Scroller, TableHead, When } from '../tables.js';
import { EVENT_TYPE_CHOICES, endReasonLabel, eventTypeLabel, methodLabel, recoveryCodesLeftInWords } from '../words.js';
import { matchUsername } from './directory.js';

type AuditEvent = AuditLogQuery['authEvents']['edges'][number]['node'];

const PAGE_SIZE = 25;

/** A user id is a UUID: its first group is enough to tell rows apart at a glance. */
const shortId = (id: string | null | undefined) => (id ? id.slice(0, 8) : '—');

/** A user the row names who has been deleted since: the id is all that is left. */
const gone = (id: string) => `deleted user ${shortId(id)}`;

function who(event: AuditEvent): string {
  switch (event.origin) {
    case 'USER':
      if (event.actorUserId === event.userId) return 'themself';
      return event.actor?.username ?? gone(event.actorUserId ?? '');
    case 'ANONYMOUS':
      // A proof under another key with the session's cookie: whoever holds a copy of it.
      if (event.reason === 'DEVICE_MISMATCH') return 'another device';
      // The right password is the user's own doing; anything else is a stranger's attempt.
      return event.type === 'LOGIN_SUCCEEDED' ? 'themself' : 'someone signing in';
    case 'COMMAND_LINE':
      return 'command line';
    case 'SYSTEM':
      return 'system';
  }
}

function whom(event: AuditEvent): string {
  if (event.type.startsWith('WEBHOOK_')) return 'a webhook';
  // A deleted account has no user any more; its events keep the name (a failed login, the name typed).
  return event.user?.username ?? event.username ?? (event.userId ? gone(event.userId) : '—');
}

function from(event: AuditEvent): string {
  if (event.origin === 'COMMAND_LINE') return 'the server';
  const device = event.userAgent ? describeDevice(event.userAgent) : undefined;
  return [event.ipAddress, device].filter(Boolean).join(' · ') || '—';
}

interface Filter {
  /** The user's name as shown, and whether they are whom the events concern or who did them. */
  user?: { id: string; username: string; as: 'whom' | 'who' };
  type?: AuthEventType;
}

const variablesOf = ({ user, type }: Filter): Omit<AuditLogQueryVariables, 'first' | 'after'> => ({
  ...(user?.as === 'whom' ? { userId: user.id } : {}),
  ...(user?.as === 'who' ? { actorUserId: user.id } : {}),
  ...(type ? { types: [type] } : {}),
});

function describeFilter({ user, type }: Filter, total: number): string {
  const events = `${total} ${type ? `“${eventTypeLabel(type)}” ` : ''}event${total === 1 ? '' : 's'}`;
  const person = user ? (user.as === 'whom' ? ` concerning ${user.username}` : ` by ${user.username}`) : '';
  return `${events}${person}, newest first`;
}

function Filters({ onApply }: { onApply(filter: Filter): void }) {
  const { client } = useSession();
  const [problem, setProblem] = useState<string | undefined>();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = String(form.get('user') ?? '').trim();
    const type = String(form.get('type') ?? '') as AuthEventType | '';
    const as = form.get('as') === 'who' ? 'who' : 'whom';
    setProblem(undefined);
    let user: Filter['user'];
    if (text) {
      const match = await matchUsername(client, text, 'their events');
      if ('problem' in match) return setProblem(match.problem);
      user = { ...match.user, as };
    }
    onApply({ ...(user ? { user } : {}), ...(type ? { type } : {}) });
  };
  return (
    <form class="filter" role="search" aria-label="Audit log filters" onSubmit={onSubmit}>
      <label>
        User
        <input name="user" type="search" autocomplete="off" placeholder="anyone" />
      </label>
      <label>
        Match the user as
        <select name="as">
          <option value="whom">Whom: events concerning them</option>
          <option value="who">Who: what they did, signed in</option>
        </select>
      </label>
      <label>
        Event type
        <select name="type">
          <option value="">All events</option>
          {EVENT_TYPE_CHOICES.map(([type, label]) => (
            <option key={type} value={type}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Show events</button>
      <ErrorAlert message={problem} />
    </form>
  );
}

export function AuditLog() {
  const [filter, setFilter] = useState<Filter>({});
  const [after, setAfter] = useState<string | undefined>();
  const page = useQuery(AuditLogDocument, { first: PAGE_SIZE, after, ...variablesOf(filter) });
  const [events, setEvents] = useState<AuditEvent[]>([]);
  useEffect(() => {
    const loaded = page.data?.authEvents.edges.map((edge) => edge.node) ?? [];
    setEvents((current) => (after === undefined ? loaded : [...current, ...loaded]));
    // Only a newly loaded page changes the list.
  }, [page.data]);
  const pageInfo = page.data?.authEvents.pageInfo;
  const total = page.data?.authEvents.totalCount;
  return (
    <section aria-labelledby="audit-log">
      <h2 id="audit-log">Audit log</h2>
      <Filters
        onApply={(next) => {
          setAfter(undefined);
          setFilter(next);
          page.reload();
        }}
      />
      <div class="actions">
        <button type="button" onClick={() => (after === undefined ? page.reload() : setAfter(undefined))}>
          Refresh
        </button>
      </div>
      {total !== undefined && (
        <p class="hint" aria-live="polite">
          {describeFilter(filter, total)}
        </p>
      )}
      <ErrorAlert message={page.error} />
      <Scroller label="Audit log">
        <table aria-busy={page.loading}>
          <TableHead columns={['When', 'Event', 'Who', 'Whom', 'From']} />
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>
                  <When iso={event.createdAt} />
                </td>
                <td>
                  {eventTypeLabel(event.type)}
                  {event.reason && <span class="detail">{endReasonLabel(event.reason)}</span>}
                  {event.method && <span class="detail">{methodLabel(event.method)}</span>}
                  {event.recoveryCodesLeft !== null && event.recoveryCodesLeft !== undefined && (
                    <span class="detail">{recoveryCodesLeftInWords(event.recoveryCodesLeft)}</span>
                  )}
                </td>
                <td title={event.actorUserId ?? undefined}>{who(event)}</td>
                <td title={event.userId ?? undefined}>{whom(event)}</td>
                <td title={event.userAgent ?? undefined}>{from(event)}</td>
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
