import type { Authenticator } from '../sessions/authenticator.js';
import type { Viewer } from '../sessions/types.js';
import { readBearerToken, type SessionCookie } from './cookies.js';

/** The two headers a request can carry credentials in. */
export interface CredentialHeaders {
  cookie?: string | null | undefined;
  authorization?: string | null | undefined;
}

/**
 * The one way a request becomes a viewer, for HTTP, SSE, WebSocket upgrades and forward auth
 * alike. A bearer token wins over the cookie: a client that sends one means it.
 */
export function createViewerResolver(authenticator: Authenticator, cookie: SessionCookie) {
  /** Synchronous on a cache hit (see {@link Authenticator.authenticate}): `await` it. */
  return function resolveViewer(headers: CredentialHeaders): Viewer | null | Promise<Viewer | null> {
    const token = readBearerToken(headers.authorization) ?? cookie.read(headers.cookie);
    return authenticator.authenticate(token);
  };
}

export type ViewerResolver = ReturnType<typeof createViewerResolver>;
