/**
 * Which failures mean "the database cannot be reached right now" (answered 503 UNAVAILABLE,
 * with Retry-After) rather than a bug (masked, 500). Checked along the error's cause chain,
 * since Knex and pg wrap what the socket reported.
 */

/** Socket and SQLite codes of a database that is down, unreachable, locked or out of room. */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
]);

/**
 * PostgreSQL SQLSTATEs of a server that cannot serve now: class 08 (connection exceptions),
 * shutting down or starting up (57P01–57P03), too many connections (53300), a statement
 * cancelled (57014: a `statement_timeout` an operator set, or pg_cancel_backend) and a
 * transaction ended for idling (25P03, see postgres-connections.ts). Each is worth a retry.
 */
const POSTGRES_OUTAGE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '25P03']);

function isPostgresOutageState(code: string): boolean {
  return code.startsWith('08') || POSTGRES_OUTAGE_STATES.has(code);
}

/**
 * What node-postgres and Knex say when a connection dies or cannot be had in time: dropped,
 * refused afterwards ("not queryable"), a connection attempt past its timeout (the driver's
 * bare `timeout expired`), a query past `query_timeout` (`Query read timeout`, after the SQL
 * Knex puts before it), no connection from the pool in time.
 */
const OUTAGE_MESSAGES =
  /Connection terminated|Client has encountered a connection error|is not queryable|(?:^|- )timeout expired$|Query read timeout$|timeout exceeded when trying to connect|Timeout acquiring a connection/i;

export function isDatabaseOutage(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (OUTAGE_CODES.has(code) || isPostgresOutageState(code))) return true;
    if (current.name === 'KnexTimeoutError' || OUTAGE_MESSAGES.test(current.message)) return true;
    // Node reports a refused connection to every address of a name as one AggregateError.
    if (current instanceof AggregateError && current.errors.some((inner) => isDatabaseOutage(inner))) return true;
    current = (current as { originalError?: unknown }).originalError ?? current.cause;
  }
  return false;
}
