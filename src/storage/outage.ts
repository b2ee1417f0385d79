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
 * PostgreSQL SQLSTATEs of an unavailable server: class 08 (connection exceptions), shutting
 * down or starting up (57P01–57P03), and too many connections (53300).
 */
function isPostgresOutageState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** What node-postgres and Knex say when a connection dies or cannot be had in time. */
const OUTAGE_MESSAGES =
  /Connection terminated|connection terminated unexpectedly|Client has encountered a connection error|timeout exceeded when trying to connect|Timeout acquiring a connection/i;

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
