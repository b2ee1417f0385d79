/**
 * "All sessions": every active session, live. Rows and the count follow the admin feed at once
 * (a login elsewhere appears on the first page, an end disappears), and the page is read again
 * shortly after, so the view settles on what the server says.
 */
import { useEffect, useState } from 'preact/hooks';
import { asOutcome, useAction, useQuery, useSession } from '../hooks.js';
import type { SessionRowFragment } from '../gql/graphql.js';
import { AllSessionsDocument, EndSessionDocument } from '../operations.js';
import { Pager, SESSION_HEADERS, Scroller, SessionCells, TableHead, usePages } from '../tables.js';
import { ErrorAlert } from '../errors.js';
import { matchUsername } from './directory.js';
import { EndEverySession } from './end-every-session.js';
import { useDebounced, useSessionEvents, type SessionEvent } from './live.js';

const PAGE_SIZE = 20;

interface Filter {
  username: string;
  userId: string;
}

/** What one feed event does to the rows and count on screen. */
function applyEvent(
  view: { rows: SessionRowFragment[]; count: number },
  event: SessionEvent,
  firstPage: boolean,
): { rows: SessionRowFragment[]; count: number } {
  const { session } = event;
  if (event.type === 'ENDED') {
    const rows = view.rows.filter((row) => row.id !== session.id);
    return { rows, count: Math.max(0, view.count - 1) };
  }
  if (view.rows.some((row) => row.id === session.id)) return view;
  const rows = firstPage ? [session, ...view.rows].slice(0, PAGE_SIZE) : view.rows;
  return { rows, count: view.count + 1 };
}

export interface AllSessionsProps {
  /** The text typed in `Filter by username`, trimmed, as it is applied (empty: none). */
  onFilter(text: string): void;
}

export function AllSessions({ onFilter }: AllSessionsProps) {
  const { client } = useSession();
  const [filter, setFilter] = useState<Filter | undefined>();
  const [filterError, setFilterError] = useState<string | undefined>();
  const pages = usePages(filter?.userId);
  const { after } = pages;
  const page = useQuery(AllSessionsDocument, { first: PAGE_SIZE, after, userId: filter?.userId });
  const [view, setView] = useState({ rows: [] as SessionRowFragment[], count: 0 });
  useEffect(() => {
    const sessions = page.data?.activeSessions;
    if (!sessions) return;
    setView({ rows: sessions.edges.map((edge) => edge.node), count: sessions.totalCount });
  }, [page.data]);
  const settle = useDebounced(page.reload);
  useSessionEvents((event) => {
    if (filter && event.session.user.id !== filter.userId) return;
    setView((current) => applyEvent(current, event, after === undefined));
    settle();
  });
  const end = useAction((sessionId: string) => asOutcome(client.request(EndSessionDocument, { sessionId })));

  const applyFilter = async (event: Event) => {
    event.preventDefault();
    const text = String(new FormData(event.currentTarget as HTMLFormElement).get('username') ?? '').trim();
    setFilterError(undefined);
    onFilter(text);
    if (text === '') return setFilter(undefined);
    const match = await matchUsername(client, text);
    if ('user' in match) return setFilter({ username: match.user.username, userId: match.user.id });
    setFilter(undefined);
    setFilterError(match.problem);
  };

  const failure = end.error ?? page.error ?? filterError;
  return (
    <section aria-labelledby="all-sessions">
      <h2 id="all-sessions">All sessions</h2>
      <p class="count" aria-live="polite">
        {view.count} active session{view.count === 1 ? '' : 's'}
        {filter && ` of ${filter.username}`}
      </p>
      <form class="filter" role="search" onSubmit={applyFilter}>
        <label>
          Filter by username
          <input name="username" type="search" autocomplete="off" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorAlert message={failure} />
      <Scroller label="All sessions">
        <table aria-busy={page.loading}>
          <TableHead columns={['User', ...SESSION_HEADERS]} action />
          <tbody>
            {view.rows.map((session) => (
              <tr key={session.id}>
                <th scope="row">{session.user.username}</th>
                <SessionCells session={session} />
                <td>
                  <button type="button" disabled={end.busy} onClick={() => void end.run(session.id)}>
                    End session
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
      <Pager label="All sessions pages" pages={pages} pageInfo={page.data?.activeSessions.pageInfo} />
      <EndEverySession />
    </section>
  );
}
