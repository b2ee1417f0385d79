/** "At a glance": the dashboard figures, and ends by reason over 24 hours as a bar chart. */
import { useQuery } from '../hooks.js';
import { StatsDocument } from '../operations.js';
import { endReasonLabel } from '../words.js';
import { useDebounced, useSessionEvents } from './live.js';
import { ErrorAlert } from '../errors.js';

export function Stats() {
  const stats = useQuery(StatsDocument, {});
  // Figures move with every start and end; one read a second at most keeps them current.
  const refresh = useDebounced(stats.reload, 1_000);
  useSessionEvents(refresh);
  const figures = stats.data?.sessionStats;
  const reasons = figures?.endReasonsLast24h.filter((entry) => entry.count > 0) ?? [];
  const largest = Math.max(1, ...reasons.map((entry) => entry.count));
  return (
    <section aria-labelledby="at-a-glance">
      <h2 id="at-a-glance">At a glance</h2>
      <ErrorAlert message={stats.error} />
      {figures && (
        <>
          <dl class="figures">
            <div>
              <dt>Active sessions</dt>
              <dd>{figures.activeSessions}</dd>
            </div>
            <div>
              <dt>Active users</dt>
              <dd>{figures.activeUsers}</dd>
            </div>
            <div>
              <dt>Sign-ins, 24 h</dt>
              <dd>{figures.sessionsStartedLast24h}</dd>
            </div>
            <div>
              <dt>Ends, 24 h</dt>
              <dd>{figures.sessionsEndedLast24h}</dd>
            </div>
          </dl>
          <h3 id="ends-by-reason">Ends by reason, last 24 hours</h3>
          {reasons.length === 0 ? (
            <p>No session ended in the last 24 hours.</p>
          ) : (
            <ul class="chart" aria-labelledby="ends-by-reason">
              {reasons.map((entry) => (
                <li key={entry.reason}>
                  <span class="label">{endReasonLabel(entry.reason)}</span>
                  <span class="bar" style={{ width: `${(100 * entry.count) / largest}%` }} aria-hidden="true" />
                  <span class="value">{entry.count}</span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
