import { unauthenticated } from '../sessions/errors.js';
import type { SessionService } from '../sessions/service.js';
import type { DeviceInfo, Viewer } from '../sessions/types.js';

/** What every resolver gets. Built per request (or per socket) by the context factory in `http/`. */
export interface GraphQLContext {
  /** The signed-in user and the session that made this request; null when anonymous. */
  viewer: Viewer | null;
  sessions: SessionService;
  /** Where this request came from, recorded on sessions it starts. */
  device: DeviceInfo;
  /** Sets the session cookie on this request's response. */
  setSessionCookie(token: string, expiresAt: Date): void;
  /** Clears the session cookie on this request's response. */
  clearSessionCookie(): void;
}

/** The viewer of a field whose `authScopes` already require a session. */
export function viewerOf(context: GraphQLContext): Viewer {
  if (!context.viewer) throw unauthenticated();
  return context.viewer;
}
