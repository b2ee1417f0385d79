/**
 * Pieces every table shares: the session columns (device in words, IP, signed in, last seen,
 * how the sign-in was proved, whether it is bound to its device), heads, scrolling, and keyset
 * pages.
 */
import { useState } from 'preact/hooks';
import { describeDevice } from './device.js';
import { useRelativeTime } from './clock.js';
import { exactly } from './format.js';
import { methodsInWords } from './words.js';
import type { SessionRowFragment } from './gql/graphql.js';

/**
 * New columns come last (the sign-in method with second factors, the device binding with DBSC):
 * the others keep their places for scripts that read cells.
 */
export const SESSION_HEADERS = ['Device', 'IP address', 'Signed in', 'Last seen', 'Sign-in method', 'Device binding'];

/** A time in words ("3 min ago") that stays true as the page stays open; the instant in its tooltip. */
export function When({ iso }: { iso: string }) {
  const words = useRelativeTime(iso);
  return (
    <time dateTime={iso} title={exactly(iso)}>
      {words}
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
      <td>{methodsInWords(session.authenticationMethods)}</td>
      <td>
        <DeviceBinding session={session} />
      </td>
    </>
  );
}

/**
 * "Bound" and when, for a session bound to its device (DBSC): its cookie works only with the
 * browser's key. Not "bound to this device": rows are found by `This device`, in any case.
 */
function DeviceBinding({ session }: { session: SessionRowFragment }) {
  if (!session.deviceBound) return <>—</>;
  return (
    <>
      <strong class="bound">Bound</strong>
      {session.deviceBoundAt && (
        <>
          {' '}
          <When iso={session.deviceBoundAt} />
        </>
      )}
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

export interface Pages {
  /** The cursor of the page on screen (undefined: the first). */
  after: string | undefined;
  hasPrevious: boolean;
  next(endCursor: string): void;
  previous(): void;
}

/**
 * Keyset pages only go forwards; the cursors seen so far let the pager go back. They belong to
 * one `scope` (e.g. a filter): another scope starts again at its first page, in the same render.
 */
export function usePages(scope = ''): Pages {
  const [state, setState] = useState({ scope, cursors: [undefined] as Array<string | undefined> });
  const cursors = state.scope === scope ? state.cursors : [undefined];
  return {
    after: cursors[cursors.length - 1],
    hasPrevious: cursors.length > 1,
    next: (endCursor) => setState({ scope, cursors: [...cursors, endCursor] }),
    previous: () => setState({ scope, cursors: cursors.slice(0, -1) }),
  };
}

export function Pager({
  label,
  pages,
  pageInfo,
}: {
  label: string;
  pages: Pages;
  pageInfo: { endCursor?: string | null; hasNextPage: boolean } | undefined;
}) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" disabled={!pages.hasPrevious} onClick={pages.previous}>
        Previous page
      </button>
      <button
        type="button"
        disabled={!pageInfo?.hasNextPage}
        onClick={() => pageInfo?.endCursor && pages.next(pageInfo.endCursor)}
      >
        Next page
      </button>
    </nav>
  );
}
