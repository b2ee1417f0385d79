/**
 * What the tests reach in the app past its API (besides `TestServer.db`), in one place: when
 * src/ renames it, one line changes here.
 */
import type { App } from '../../src/app.js';
import { CLI_OPERATOR, SYSTEM_ORIGIN, type SessionEndReason } from '../../src/sessions/types.js';

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

/**
 * Ends a session with `reason` through the core, as the server itself does (origin SYSTEM):
 * for reasons that no API call gives, such as DEVICE_MISMATCH before its protocol exists.
 */
export function endSessionFor(server: { app: App }, sessionId: string, reason: SessionEndReason) {
  return server.app.services.ends.endSession(sessionId, reason, SYSTEM_ORIGIN);
}
