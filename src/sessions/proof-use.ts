/**
 * Using a second step's proof: an authenticator app's code (its time step accepted), a recovery
 * code (marked used) or a passkey's assertion (its counter moved on), with the throttle's
 * success and the events of the use. The proof is checked first (factor-codes.ts,
 * passkey-assertions.ts); what using it writes is left to the transaction it leads to.
 *
 * Safety rules:
 * - The use is written in the transaction that starts the session (session-start.ts), or in a
 *   transaction of its own under the user's lock for a step-up ({@link writeProofUse}): a
 *   sign-in commits once, and a start that fails leaves the proof unused and the pending login
 *   pending.
 * - Each write is conditional (a later time step, an unused code, a higher counter), so of two
 *   requests with one proof, on any instance, only one transaction can use it; the other rolls
 *   back with INVALID_SECOND_FACTOR, counted by the throttle as a wrong code.
 * - The attempt was counted by the throttle before the proof was checked, in a commit of its
 *   own: it must stay counted when the proof turns out wrong and everything after rolls back.
 */
import type { AuditLog } from './audit-log.js';
import type { AuthEventRecord } from './auth-events.js';
import { GatehouseError } from './errors.js';
import type { ProofWrites, SessionStore } from './store.js';

/** What using a checked proof writes, and what its transaction's failure means for it. */
export interface ProofUse {
  /**
   * Writes the use and the throttle's success in `tx`, and returns the events to insert with
   * them. Throws INVALID_SECOND_FACTOR (rolling `tx` back) when the proof was used meanwhile.
   */
  write(tx: ProofWrites): Promise<AuthEventRecord[]>;
  /**
   * The transaction rolled back with `error`: a use refused by {@link write} is audited as a
   * failure (and stays counted); any other refusal, after a right proof, gives the throttle its
   * attempt back, as for a right password.
   */
  rolledBack(error: GatehouseError): Promise<void>;
}

/** Writes `use` alone for `userId` (a step-up: no session starts), in one transaction under the user's lock. */
export async function writeProofUse(
  sessions: Pick<SessionStore, 'withUserLocked'>,
  audit: AuditLog,
  userId: string,
  use: ProofUse,
): Promise<void> {
  try {
    const events = await sessions.withUserLocked(userId, async (tx) => {
      const written = await use.write(tx);
      await tx.insertAuthEvents(written);
      return written;
    });
    audit.committed(events);
  } catch (error) {
    if (error instanceof GatehouseError) await use.rolledBack(error);
    throw error;
  }
}
