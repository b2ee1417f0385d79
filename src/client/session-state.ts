/**
 * Where this client's session stands, as one immutable snapshot that changes only as a whole:
 * what a UI renders from (React's `useSyncExternalStore` reads it as is) and what the client
 * decides on (a socket exists only while `status` is `signedIn`).
 */
import type {
  GatehouseLoginPayloadFragment,
  GatehouseSessionFragment,
  GatehouseUserFragment,
  LoginStep,
  SessionEndReason,
} from './generated.js';

/** A signed-in user: `id`, `username`, `role` (`ADMIN` or `USER`). */
export type User = GatehouseUserFragment;

/** A session: times are ISO strings as Gatehouse sends them; `current` is the one this client holds. */
export type Session = GatehouseSessionFragment;

/**
 * What a sign-in step answers: the user, the session and what it still needs (`nextStep`):
 * `DONE` (signed in), `SECOND_FACTOR` (call `verifySecondFactor`, or finish with a passkey),
 * or `ENROLL_SECOND_FACTOR` (the server requires a second factor this user has none of: add one,
 * then `refresh()`).
 */
export type LoginResult = GatehouseLoginPayloadFragment;

export interface SessionState {
  /**
   * - `loading`: not known yet (the client has not asked; `refresh()` asks).
   * - `signedOut`: no session.
   * - `secondStep`: a password sign-in waits for its second step, or for a second factor to be added (`nextStep`).
   * - `signedIn`: a complete session.
   */
  readonly status: 'loading' | 'signedOut' | 'secondStep' | 'signedIn';
  /** The signed-in user, or the one whose sign-in waits for its second step; null otherwise. */
  readonly user: User | null;
  /** This client's session (a pending one in `secondStep`); null when signed out. */
  readonly session: Session | null;
  /** In `secondStep`: `SECOND_FACTOR` or `ENROLL_SECOND_FACTOR`; null otherwise. */
  readonly nextStep: LoginStep | null;
  /**
   * Signed out because the session ended under this client (an admin's kick, expiry, a sign-out
   * elsewhere…): why, or null when unknown. Null after this client's own `logout()`, and once
   * signed in again.
   */
  readonly endedReason: SessionEndReason | null;
}

const EMPTY = { user: null, session: null, nextStep: null, endedReason: null } as const;

export const LOADING: SessionState = { status: 'loading', ...EMPTY };

export const signedOut = (endedReason: SessionEndReason | null = null): SessionState => ({
  status: 'signedOut',
  ...EMPTY,
  endedReason,
});

/** The state a sign-in step leaves: signed in, or waiting for the step it names. */
export const afterStep = ({ user, session, nextStep }: LoginResult): SessionState => ({
  status: nextStep === 'DONE' ? 'signedIn' : 'secondStep',
  user,
  session,
  nextStep: nextStep === 'DONE' ? null : nextStep,
  endedReason: null,
});

/** Listeners of one kind, each called with the same arguments; a listener that throws does not stop the others. */
export class Listeners<Args extends unknown[]> {
  private readonly listeners = new Set<(...args: Args) => void>();

  get size(): number {
    return this.listeners.size;
  }

  add(listener: (...args: Args) => void): () => void {
    // A wrapper, so the same function added twice is two listeners, each removed by its own call.
    const entry = (...args: Args) => listener(...args);
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  emit(...args: Args): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(...args);
      } catch (error) {
        // Reported, not swallowed: the app's bug must not keep other listeners from hearing.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
