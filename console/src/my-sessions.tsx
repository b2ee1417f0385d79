/** "Your sessions": every active session of the signed-in user, and what they can do about them. */
import { asOutcome, useAction, useQuery, useSession } from './hooks.js';
import { EndOtherSessionsDocument, EndSessionDocument, MySessionsDocument } from './operations.js';
import { SESSION_HEADERS, Scroller, SessionCells, TableHead } from './tables.js';
import { ErrorAlert } from './errors.js';
import { ChangePassword } from './change-password.js';

export function MySessions() {
  const { client, signOut } = useSession();
  const sessions = useQuery(MySessionsDocument, {});
  const endOne = useAction((sessionId: string) => asOutcome(client.request(EndSessionDocument, { sessionId })));
  const endOthers = useAction(() => asOutcome(client.request(EndOtherSessionsDocument, {})));
  const signingOut = useAction(signOut);
  const rows = sessions.data?.me?.sessions ?? [];
  const failure = endOne.error ?? endOthers.error ?? signingOut.error ?? sessions.error;
  return (
    <section aria-labelledby="your-sessions">
      <h2 id="your-sessions">Your sessions</h2>
      <Scroller label="Your sessions">
        <table>
          <TableHead columns={[...SESSION_HEADERS]} action />
          <tbody>
            {rows.map((session) => (
              <tr key={session.id}>
                <SessionCells session={session} />
                <td>
                  {session.current ? (
                    <strong>This device</strong>
                  ) : (
                    <button
                      type="button"
                      disabled={endOne.busy}
                      onClick={async () => (await endOne.run(session.id)) && sessions.reload()}
                    >
                      End session
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
      <ErrorAlert message={failure} />
      <div class="actions">
        <button
          type="button"
          disabled={endOthers.busy || rows.length < 2}
          onClick={async () => (await endOthers.run()) && sessions.reload()}
        >
          Sign out other sessions
        </button>
        <button type="button" disabled={signingOut.busy} onClick={() => void signingOut.run()}>
          Sign out
        </button>
      </div>
      <ChangePassword onChanged={sessions.reload} />
    </section>
  );
}
