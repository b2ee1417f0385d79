/** Pieces every table shares: the session columns (device in words, IP, signed in, last seen), heads, scrolling. */
import { describeDevice } from './device.js';
import { ago, exactly } from './format.js';
import type { SessionRowFragment } from './gql/graphql.js';

export const SESSION_HEADERS = ['Device', 'IP address', 'Signed in', 'Last seen'];

export function When({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={exactly(iso)}>
      {ago(iso)}
    </time>
  );
}

export function SessionCells({ session }: { session: SessionRowFragment }) {
  return (
    <>
      <td title={session.userAgent ?? undefined}>{describeDevice(session.userAgent)}</td>
      <td>{session.ipAddress ?? '—'}</td>
      <td>
        <When iso={session.createdAt} />
      </td>
      <td>
        <When iso={session.lastSeenAt} />
      </td>
    </>
  );
}

/** A table that scrolls sideways by itself at phone width, reachable by keyboard. */
export function Scroller({ label, children }: { label: string; children: preact.ComponentChildren }) {
  return (
    <div class="scroller" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** A table's head; `action` adds a last column for row buttons, named for screen readers only. */
export function TableHead({ columns, action = false }: { columns: string[]; action?: boolean }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th scope="col">{column}</th>
        ))}
        {action && (
          <th scope="col">
            <span class="visually-hidden">Action</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
