/**
 * Expected failures of the session rules. Each carries the code that clients see as
 * `extensions.code`; the API layer maps them (`src/http/errors.ts`), and masks every other error.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'INVALID_CREDENTIALS'
  | 'RATE_LIMITED'
  | 'SESSION_LIMIT'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  /** The database cannot be reached: HTTP 503 with Retry-After; the request may be retried. */
  | 'UNAVAILABLE'
  /** The right password for an account an admin has disabled. */
  | 'ACCOUNT_DISABLED'
  /** A sensitive operation, and the session's last password proof is older than REAUTH_WINDOW. */
  | 'REAUTHENTICATION_REQUIRED'
  /** A pending login (the password was right) asked for more than finishing the login. */
  | 'SECOND_FACTOR_REQUIRED'
  /** A well-formed authentication code or recovery code that does not match, or was used already. */
  | 'INVALID_SECOND_FACTOR';

export class GatehouseError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields for `extensions` (e.g. `retryAfterSeconds`). Never secrets. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'GatehouseError';
  }
}

export const invalidCredentials = () => new GatehouseError('INVALID_CREDENTIALS', 'Invalid username or password');
export const unauthenticated = () => new GatehouseError('UNAUTHENTICATED', 'Not signed in');
/** A `Bearer ghs_…` that is malformed, unknown or revoked: never taken for anonymous. */
export const unknownServiceToken = () => new GatehouseError('UNAUTHENTICATED', 'Unknown or revoked service token');
export const forbidden = (message = 'Not allowed') => new GatehouseError('FORBIDDEN', message);
export const notFound = (what: 'user' | 'session' | 'second factor') =>
  new GatehouseError('NOT_FOUND', `No such ${what}`);
/** A throttled attempt: `what` failed too often ("failed logins", "wrong codes"). */
export const rateLimited = (what: string, retryAfterSeconds: number) =>
  new GatehouseError('RATE_LIMITED', `Too many ${what}; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
export const invalidSecondFactor = (message: string) => new GatehouseError('INVALID_SECOND_FACTOR', message);
/** A pending login asked for more than finishing the login: `nextStep` says what it waits for. */
export const secondFactorRequired = (nextStep: 'SECOND_FACTOR' | 'ENROLL_SECOND_FACTOR') =>
  new GatehouseError(
    'SECOND_FACTOR_REQUIRED',
    nextStep === 'ENROLL_SECOND_FACTOR'
      ? 'Enroll a second factor to finish signing in'
      : 'Finish signing in with your second factor',
    { nextStep },
  );
export const badUserInput = (message: string, field?: string) =>
  new GatehouseError('BAD_USER_INPUT', message, field ? { field } : {});
