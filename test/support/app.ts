/**
 * What the tests reach in the app past its API (besides `TestServer.db`), in one place: when
 * src/ renames it, one line changes here.
 */
import type { App } from '../../src/app.js';
import { CLI_OPERATOR } from '../../src/sessions/types.js';

/**
 * Writes the queued `lastSeenAt` values now. A use is queued and written within a second of real
 * time; a manual clock skips that second, so a test that moves it writes them itself.
 */
export function flushLastSeen(server: { app: App }): Promise<void> {
  return server.app.services.lastSeen.flush();
}

/** One sweep now, with everything it reports. */
export function runSweeper(server: { app: App }) {
  return server.app.sweeper.runOnce();
}

/** Ends a session as `gatehouse sessions kick` does: through the core, as the operator. */
export function kickAsOperator(server: { app: App }, sessionId: string) {
  return server.app.services.ends.kick(CLI_OPERATOR, sessionId);
}

/** Calls `listener` with the id of each service token `server` hears revoked; returns the unsubscribe. */
export function onServiceTokenRevoked(server: { app: App }, listener: (tokenId: string) => void): () => void {
  return server.app.services.serviceTokens.onRevoked(listener);
}
