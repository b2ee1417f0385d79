/**
 * Gatehouse could not say whether a session is valid: it did not answer within
 * `requestTimeoutMs`, could not be reached, failed (5xx), or refused the service token. The
 * middleware answers 503 with `Retry-After`; a direct caller of `verify()` should do likewise
 * (never treat it as signed out, nor as signed in).
 */
export class GatehouseUnavailableError extends Error {
  override readonly name = 'GatehouseUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
