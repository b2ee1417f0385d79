/**
 * How long a PostgreSQL connection waits, for every connection a process opens: the pool's
 * (database.ts) and the session event listener's (events/postgres-propagation.ts).
 *
 * A network that hangs (a peer gone without a word, a dropped NAT entry, a partition, a proxy
 * that stops forwarding) reports nothing, ever: no error, no close. Only a clock on this side
 * can tell, so every wait has one:
 * - `connectionTimeoutMillis`: a connection attempt gives up ('timeout expired').
 * - `query_timeout`, the driver's clock: a query without an answer fails ('Query read
 *   timeout'), and database.ts destroys its connection. It is the one limit that works when the
 *   link hangs, since nothing reaches the server and nothing comes back. The driver cannot tell
 *   a hung link from a statement that is still running, so this is also the longest a normal
 *   statement may take; the few that grow with the data get {@link LONG_STATEMENT} instead.
 * - `idle_in_transaction_session_timeout`, the server's clock: a transaction left open by an
 *   instance whose link hung keeps its row locks (a user's row, during a login) until the server
 *   ends it, and every other instance's statements on those rows wait meanwhile. Our
 *   transactions never wait between statements for anything but the event loop, and the limit
 *   is well under {@link QUERY_TIMEOUT_MS}, so a healthy instance queued behind those locks gets
 *   them before its own statement times out.
 * - TCP keepalive: keeps the connection alive in NATs and firewalls that drop quiet flows (the
 *   usual way an idle pooled connection ends up hung) and lets the kernel notice, eventually,
 *   a peer that is gone. The kernel's probe interval makes that minutes, not a bound we rely on.
 *
 * Not `statement_timeout`: the server's clock does nothing for a hung link (the statement ends
 * normally on the server; what it still holds afterwards is an open transaction, ended by the
 * setting above), and it would have to be lifted beside `query_timeout` for every long
 * statement. A statement the driver gave up on may still complete on a working link; ours are
 * all safe to complete late (ends, touches) or run in a transaction that then rolls back.
 *
 * Figures behind the bounds (PostgreSQL 16 on these 2-core machines, other work running, a
 * million sessions, scratch measurements for issue 21): a sweeper batch's UPDATE 1.2 s at most,
 * the dashboard's counts (six in parallel over the whole table) 0.9–3.3 s, migrations' index
 * builds 1.1–7.1 s each, ending one user's 100,000 open sessions in one statement 29 s. Every
 * request's own statement takes milliseconds.
 */
import type pg from 'pg';

/** A connection attempt to an unresponsive PostgreSQL gives up after this long. */
export const CONNECT_TIMEOUT_MS = 3_000;

/**
 * A query without an answer this long fails, and a request answers 503 UNAVAILABLE ("within a
 * few seconds", DESIGN.md): 1.5× the slowest statement of normal work measured at a million
 * sessions (the dashboard's counts), 4× the sweeper's largest batch.
 */
export const QUERY_TIMEOUT_MS = 5_000;

/**
 * For statements whose time grows with the data rather than with the request: ending every
 * session of one user in one statement (29 s for 100,000), which the transaction that disables,
 * deletes or resets the user must do at once. Pass as a Knex query's `.options()`.
 */
export const LONG_STATEMENT = { query_timeout: 120_000 } as const;

/** Migrations build indexes over whole tables: 7 s at a million sessions, minutes beyond. */
export const MIGRATION_QUERY_TIMEOUT_MS = 30 * 60_000;

/** See the module's comment: under {@link QUERY_TIMEOUT_MS}, far above any gap between our statements. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 3_000;

/** The first keepalive probe after this much quiet (the kernel's interval follows). */
const KEEPALIVE_AFTER_MS = 10_000;

/** The limits above as `pg.Client` settings, for a connection to `connectionString`. */
export function postgresConnectionSettings(connectionString: string): pg.ClientConfig {
  return {
    connectionString,
    // How an operator tells Gatehouse's connections apart in pg_stat_activity (a URL's wins).
    fallback_application_name: 'gatehouse',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_AFTER_MS,
  };
}

/** A pooled connection as Knex hands it to the pool's hooks. */
type PooledConnection = pg.Client & { __knexUid: string; __knex__disposed?: unknown };

/**
 * Drops a pooled connection whose query timed out. The driver fails the query but keeps the
 * connection, with that query still its active one: back in the pool it would be handed out
 * again, and each query on it (first a transaction's ROLLBACK) would wait out a timeout of its
 * own. Ending a connection whose query is still active destroys its socket at once (a hung peer
 * would never answer a graceful goodbye), and a disposed connection is never handed out again.
 * Knex tells which connection a failed query ran on only by its id, hence the map.
 */
export function timedOutConnectionDropper() {
  const open = new Map<string, PooledConnection>();
  return {
    afterCreate(connection: PooledConnection, done: (error: Error | null, connection: PooledConnection) => void) {
      const id = connection.__knexUid;
      open.set(id, connection);
      connection.once('end', () => open.delete(id));
      done(null, connection);
    },
    queryFailed(error: unknown, query: { __knexUid?: string }) {
      if (!(error instanceof Error) || !error.message.endsWith('Query read timeout')) return;
      const connection = query.__knexUid === undefined ? undefined : open.get(query.__knexUid);
      if (!connection) return;
      connection.__knex__disposed = error;
      connection.end().catch(() => undefined);
    },
  };
}
