/**
 * The one home of error codes on the wire. Every error a client can get, whichever layer
 * refuses the request, reaches it as `{ errors: [{ message, extensions: { code } }] }` with a
 * code from the contract (DESIGN.md, "Errors carry extensions.code"):
 * - the rules' expected failures (GatehouseError) keep their own code;
 * - graphql-js validation and coercion errors, graphql-armor's limits, and refusals before
 *   GraphQL runs (body size, content type) are BAD_USER_INPUT;
 * - a refusal known only by its HTTP status (an unknown path, a foreign origin, no session at
 *   forward auth, a request Node could not parse) takes that status's code ({@link codeForStatus});
 * - an unreachable database is UNAVAILABLE, HTTP 503 with Retry-After (login included): the
 *   client may retry, and nothing about the outage leaks;
 * - anything else is logged and masked as INTERNAL_SERVER_ERROR, so no stack or SQL leaks.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { maskError } from 'graphql-yoga';
import { throttledLogger, type Logger } from '../logger.js';
import { GatehouseError, type ErrorCode } from '../sessions/errors.js';

/** What a masked error says: Yoga's wording, so every unexpected failure reads the same. */
const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';
const UNAVAILABLE_MESSAGE = 'Service unavailable: the database cannot be reached. Retry shortly.';
/** What `Retry-After` tells a client during an outage. */
export const RETRY_AFTER_SECONDS = 5;
const UNAVAILABLE_HTTP = { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } };

/** Every code a response may carry: the rules' codes and the masked one. */
export type WireErrorCode = ErrorCode | 'INTERNAL_SERVER_ERROR';

/** The JSON body of a refusal that never reached GraphQL. */
export function errorBody(code: WireErrorCode, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

const ERROR_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
};

/** Answers a plain Node response with a JSON body, never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
  });
  res.end(payload);
}

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
  // A copy: @whatwg-node's Response writes its Content-Length into the object it is given.
  return new fetchAPI.Response(errorBody(code, message), { status, headers: { ...ERROR_HEADERS } });
}

/** The contract's code for a refusal known only by its HTTP status. */
export function codeForStatus(status: number): WireErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR';
  }
}

/**
 * A whole HTTP/1.1 error response, for a socket that no ServerResponse owns: a refused WebSocket
 * upgrade, a request Node's parser gave up on. It closes the connection, whose state is unknown.
 */
export function rawErrorResponse(
  status: number,
  code: WireErrorCode,
  message: string,
  headers: Record<string, string> = {},
): string {
  const body = errorBody(code, message);
  const lines = Object.entries({
    ...ERROR_HEADERS,
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    Connection: 'close',
    ...headers,
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${lines.join('')}\r\n${body}`;
}

/** The codes a response may carry (DESIGN.md), and the masked one. */
const CONTRACT_CODES = new Set<unknown>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'INVALID_CREDENTIALS',
  'RATE_LIMITED',
  'SESSION_LIMIT',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'UNAVAILABLE',
  'ACCOUNT_DISABLED',
  'REAUTHENTICATION_REQUIRED',
  'SECOND_FACTOR_REQUIRED',
  'INVALID_SECOND_FACTOR',
  'INTERNAL_SERVER_ERROR',
] satisfies WireErrorCode[]);

/** graphql-js's hints ("Did you mean …?") spell out the schema; hidden where introspection is. */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

/**
 * Validation and coercion errors carry no code from graphql-js, and Yoga refuses some requests
 * (a body that is not JSON, a missing query) with its own `BAD_REQUEST` and the parser's error
 * attached: clients get BAD_USER_INPUT, and nothing of the parser's internals. With
 * `hideSuggestions`, "Did you mean …?" hints are removed as well.
 */
export function withBadUserInputCode<E extends Error>(error: E, hideSuggestions: boolean): E | GraphQLError {
  if (!(error instanceof GraphQLError)) return error;
  // graphql-jit's coercion errors have no extensions object and read-only fields: rebuilt.
  if (!Object.isExtensible(error.extensions ?? Object.freeze({}))) return rebuiltAsBadUserInput(error, hideSuggestions);
  if (!CONTRACT_CODES.has(error.extensions.code)) {
    // Changed in place, keeping Yoga's status (400): with the parser's error gone, Yoga would
    // answer a `spec` error with 200 to clients that accept application/json.
    const extensions = error.extensions as Record<string, unknown> & { http?: { spec?: boolean } };
    extensions.code = 'BAD_USER_INPUT';
    delete extensions.originalError;
    if (extensions.http) extensions.http = { ...extensions.http, spec: false };
  }
  const message = hideSuggestions ? error.message.replace(SUGGESTION, '') : error.message;
  if (message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

function rebuiltAsBadUserInput(error: GraphQLError, hideSuggestions: boolean): GraphQLError {
  const message = hideSuggestions ? error.message.replace(SUGGESTION, '') : error.message;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    // Without a path it refused the request before any field ran (variables): 400, as Yoga
    // answers graphql-js's own.
    extensions: error.path ? { code: 'BAD_USER_INPUT' } : { code: 'BAD_USER_INPUT', http: { status: 400 } },
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

export interface WireErrorOptions {
  logger: Logger;
  /** Hide "Did you mean …?" hints (production). */
  hideSuggestions: boolean;
  /** Whether a failure means the database cannot be reached (see `storage/outage.ts`). */
  isOutage: (error: unknown) => boolean;
}

/** How every transport turns a failure into what the client sees. */
export function createWireErrors({ logger, hideSuggestions, isOutage }: WireErrorOptions) {
  // An outage fails every request: one log line a second says it, not thousands.
  const log = throttledLogger(logger);
  const unavailable = (error: unknown, graphQLError?: GraphQLError) => {
    log('warn', 'unavailable', 'database unavailable: answering 503', { error });
    return new GraphQLError(UNAVAILABLE_MESSAGE, {
      nodes: graphQLError?.nodes,
      path: graphQLError?.path,
      extensions: { code: 'UNAVAILABLE', http: UNAVAILABLE_HTTP },
    });
  };
  /**
   * Yoga's error masker. Yoga's own adds the original message and stack when
   * NODE_ENV=development; Gatehouse never does, so `isDev` is deliberately ignored.
   */
  const mask = (error: unknown, message: string): Error => {
    const graphQLError = error instanceof GraphQLError ? error : undefined;
    const original = graphQLError ? graphQLError.originalError : error;
    if (original instanceof GatehouseError && original.code === 'UNAVAILABLE')
      return unavailable(original, graphQLError);
    if (original instanceof GatehouseError) {
      return new GraphQLError(original.message, {
        nodes: graphQLError?.nodes,
        path: graphQLError?.path,
        extensions: { code: original.code, ...original.details },
      });
    }
    if (isOutage(original)) return unavailable(original, graphQLError);
    if (isRequestError(error)) return withBadUserInputCode(error, hideSuggestions);
    logger.error('unexpected error', { error: original });
    return maskError(error, message, false);
  };
  return {
    maskError: mask,
    /** A failure before an operation runs on a socket: what the client is sent instead. */
    forSocket: (error: unknown): GraphQLError => mask(error, UNEXPECTED_ERROR_MESSAGE) as GraphQLError,
    /** Answers a plain HTTP request (forward auth, metrics, health) that failed. */
    send(res: ServerResponse, error: unknown): void {
      if (res.headersSent) return void res.destroy();
      if (isOutage(error)) {
        unavailable(error);
        res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        return sendError(res, 503, 'UNAVAILABLE', UNAVAILABLE_MESSAGE);
      }
      logger.error('request failed', { error });
      sendError(res, 500, 'INTERNAL_SERVER_ERROR', UNEXPECTED_ERROR_MESSAGE);
    },
    isOutage,
  };
}

export type WireErrors = ReturnType<typeof createWireErrors>;
