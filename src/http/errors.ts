/**
 * The one home of error codes on the wire. Every error a client can get, whichever layer
 * refuses the request, reaches it as `{ errors: [{ message, extensions: { code } }] }` with a
 * code from the contract (DESIGN.md, "Errors carry extensions.code"):
 * - the rules' expected failures (GatehouseError) keep their own code;
 * - graphql-js validation and coercion errors, graphql-armor's limits, and refusals before
 *   GraphQL runs (body size, content type) are BAD_USER_INPUT;
 * - anything else is logged and masked as INTERNAL_SERVER_ERROR, so no stack or SQL leaks.
 */
import type { ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { maskError } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { GatehouseError, type ErrorCode } from '../sessions/errors.js';

/** What a masked error says: Yoga's wording, so every unexpected failure reads the same. */
const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';

/** Every code a response may carry: the rules' codes and the masked one. */
export type WireErrorCode = ErrorCode | 'INTERNAL_SERVER_ERROR';

/** The JSON body of a refusal that never reached GraphQL. */
export function errorBody(code: WireErrorCode, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

const ERROR_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

/** Answers a plain Node response with an error body. */
export function sendError(res: ServerResponse, status: number, code: WireErrorCode, message: string): void {
  const body = errorBody(code, message);
  res.writeHead(status, { ...ERROR_HEADERS, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The same for a fetch-API response (Yoga plugins). */
export function errorResponse(
  fetchAPI: { Response: typeof Response },
  status: number,
  code: WireErrorCode,
  message: string,
) {
  return new fetchAPI.Response(errorBody(code, message), { status, headers: ERROR_HEADERS });
}

/** Answers a request that failed unexpectedly outside GraphQL (forward auth, metrics, health). */
export function sendUnexpectedError(res: ServerResponse, logger: Logger, error: unknown): void {
  logger.error('request failed', { error });
  if (res.headersSent) res.destroy();
  else sendError(res, 500, 'INTERNAL_SERVER_ERROR', UNEXPECTED_ERROR_MESSAGE);
}

/** graphql-js's hints ("Did you mean …?") spell out the schema; hidden where introspection is. */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

/**
 * Validation and coercion errors carry no code from graphql-js; clients get BAD_USER_INPUT.
 * With `hideSuggestions`, "Did you mean …?" hints are removed as well.
 */
export function withBadUserInputCode<E extends Error>(error: E, hideSuggestions: boolean): E | GraphQLError {
  if (!(error instanceof GraphQLError)) return error;
  const message = hideSuggestions ? error.message.replace(SUGGESTION, '') : error.message;
  if (error.extensions.code && message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: error.extensions.code ?? 'BAD_USER_INPUT' },
  });
}

/** graphql-armor throws its limit errors without a code: this is its `onReject` hook. */
export function codeArmorRejection(_context: unknown, error: GraphQLError): void {
  (error.extensions as Record<string, unknown>).code = 'BAD_USER_INPUT';
}

/**
 * graphql-js's own errors (validation, variable coercion) are GraphQLErrors all the way down
 * their `originalError` chain; a thrown Error anywhere in it means something unexpected.
 */
function isRequestError(error: unknown): error is GraphQLError {
  if (!(error instanceof GraphQLError)) return false;
  return error.originalError === undefined || error.originalError === null || isRequestError(error.originalError);
}

/**
 * Yoga's error masker. Yoga's own adds the original message and stack when
 * NODE_ENV=development; Gatehouse never does, so `isDev` is deliberately ignored.
 */
export function createErrorMasker(logger: Logger, hideSuggestions: boolean) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof GatehouseError) {
      const graphQLError = error instanceof GraphQLError ? error : undefined;
      return new GraphQLError(original.message, {
        nodes: graphQLError?.nodes,
        path: graphQLError?.path,
        extensions: { code: original.code, ...original.details },
      });
    }
    if (isRequestError(error)) return withBadUserInputCode(error, hideSuggestions);
    logger.error('unexpected error', { error: original });
    return maskError(error, message, false);
  };
}
