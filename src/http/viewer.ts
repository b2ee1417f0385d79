import type { Authenticator } from '../sessions/authenticator.js';
import type { PendingLogins } from '../sessions/pending-logins.js';
import { isServiceBearer, isWellFormedToken } from '../sessions/tokens.js';
import type { PendingLogin, Viewer } from '../sessions/types.js';
import { readBearerToken, type SessionCookie } from './cookies.js';

/** The two headers a request can carry credentials in. */
export interface CredentialHeaders {
  cookie?: string | null | undefined;
  authorization?: string | null | undefined;
  /**
   * A session whose device the transport proved when it connected: a WebSocket that its upgrade
   * signed in (bound cookie and all). Its later operations carry the upgrade's cookies, whose
   * bound cookie rotates away within minutes, so only that session's being alive is checked again.
   */
  deviceProvenFor?: string | undefined;
}

/** The token a request carries. A bearer token wins over the cookie: a client that sends one means it. */
const tokenOf = (headers: CredentialHeaders, cookie: SessionCookie) =>
  readBearerToken(headers.authorization) ?? cookie.read(headers.cookie);

/**
 * The service token a request carries (`Authorization: Bearer ghs_…`, well-formed or not: '' when
 * the header is garbled past `ghs_`), or undefined when it carries none. Such a request is a
 * service's and never a session's: it is asked of the service tokens only. One falsy test for
 * the cookie's hot path, which carries no Authorization.
 */
export function serviceTokenOf(headers: CredentialHeaders): string | undefined {
  const { authorization } = headers;
  if (!authorization || !isServiceBearer(authorization)) return undefined;
  const token = readBearerToken(authorization) ?? '';
  // One session token in 16.7 million begins with `ghs_` by chance; at 43 characters it is a
  // session's shape, which no service token has: it stays a session's.
  return isWellFormedToken(token) ? undefined : token;
}

/**
 * The one way a request becomes a viewer, for HTTP, SSE, WebSocket upgrades and forward auth
 * alike. A pending login's token makes no viewer (see {@link createPendingLoginResolver}).
 */
export function createViewerResolver(authenticator: Authenticator, cookie: SessionCookie, bound?: SessionCookie) {
  /** Synchronous on a cache hit (see {@link Authenticator.authenticate}): `await` it. */
  return function resolveViewer(headers: CredentialHeaders): Viewer | null | Promise<Viewer | null> {
    // The bound cookie (DBSC) is read from the same header only for a bound session.
    return authenticator.authenticate(tokenOf(headers, cookie), headers.cookie, bound, headers.deviceProvenFor);
  };
}

export type ViewerResolver = ReturnType<typeof createViewerResolver>;

/**
 * The pending login a request carries, from the same cookie or bearer token: only GraphQL asks
 * (forward auth, live feeds and the console never see one). Null at once, without a query, for
 * a token of any other shape.
 */
export function createPendingLoginResolver(pendingLogins: PendingLogins, cookie: SessionCookie) {
  return function resolvePendingLogin(headers: CredentialHeaders): PendingLogin | null | Promise<PendingLogin | null> {
    return pendingLogins.resolve(tokenOf(headers, cookie));
  };
}

export type PendingLoginResolver = ReturnType<typeof createPendingLoginResolver>;
