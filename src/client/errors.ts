/**
 * Every failure the client reports is a {@link GatehouseError} with a stable `code`: Gatehouse's
 * own `extensions.code` (docs/front-ends.md, "Errors"), or one of the client's codes below for
 * what happens before or after Gatehouse answers. An app branches on `code`, never on messages.
 */

/** One GraphQL error as Gatehouse sends it. */
export interface GraphQLErrorBody {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

/**
 * The codes the client adds to Gatehouse's:
 * - `NETWORK_ERROR`: Gatehouse could not be reached, or its answer was not GraphQL JSON.
 * - `COOKIE_REFUSED`: a sign-in step succeeded, but the browser did not keep its cookie, so the
 *   next request would be anonymous. `extensions.reason` says why: `PLAIN_HTTP` (a `Secure`
 *   cookie over plain HTTP off localhost), `OTHER_SITE` (Gatehouse is on another site than the
 *   page) or `BLOCKED` (the browser's settings). The session it made on the server expires unused.
 * - `SESSION_ENDED`: a subscription was cut because the session ended (its socket closed with 4403).
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'COOKIE_REFUSED' | 'SESSION_ENDED';

export class GatehouseError extends Error {
  override readonly name = 'GatehouseError';
  /** `extensions.code` of the first error (`UNAUTHENTICATED`, `BAD_USER_INPUT`, …), or a {@link ClientErrorCode}. */
  readonly code: string;
  /** The first error's `extensions` (`retryAfterSeconds`, `field`, `reason`, …), `code` included. */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** Every GraphQL error of the answer, in order; empty for the client's own codes. */
  readonly errors: readonly GraphQLErrorBody[];
  /** The HTTP status of the answer; undefined when there was none (a network failure, a socket). */
  readonly status: number | undefined;

  constructor(
    code: string,
    message: string,
    details: { extensions?: Record<string, unknown>; errors?: readonly GraphQLErrorBody[]; status?: number } = {},
  ) {
    super(message);
    this.code = code;
    this.extensions = { ...details.extensions, code };
    this.errors = details.errors ?? [];
    this.status = details.status;
  }

  /** The error for a GraphQL answer that carries `errors` (the first one names it). */
  static fromErrors(errors: readonly GraphQLErrorBody[], status?: number): GatehouseError {
    const first = errors[0];
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
    return new GatehouseError(code, first?.message ?? 'Unexpected error.', {
      extensions: first?.extensions ?? {},
      errors,
      ...(status === undefined ? {} : { status }),
    });
  }
}

/** Whether `error` is a {@link GatehouseError} with `code` (any code when omitted). */
export function isGatehouseError(error: unknown, code?: string): error is GatehouseError {
  return error instanceof GatehouseError && (code === undefined || error.code === code);
}
