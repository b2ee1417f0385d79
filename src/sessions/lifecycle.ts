import type { Logger } from '../logger.js';
import type { AuthEventRecord } from './auth-events.js';
import type { SessionRecord, UserRecord } from './types.js';

/** Told after a session starts or ends, once the change is committed. Must not throw. */
export interface SessionLifecycleListener {
  sessionStarted?(session: SessionRecord, user: UserRecord): void;
  sessionEnded?(session: SessionRecord): void;
  /** Every audit event, as it is written (metrics count them). */
  authEvent?(event: AuthEventRecord): void;
  /** A login attempt finished: `succeeded`, or the error code that refused it, and how long it took. */
  loginFinished?(outcome: string, durationMs: number): void;
}

/**
 * Fans committed changes out to whoever listens (the event bus, metrics). A listener that
 * throws is logged and skipped: the change has happened, and the other listeners must hear it.
 */
export class SessionLifecycle {
  private readonly listeners: SessionLifecycleListener[] = [];

  constructor(private readonly logger: Logger) {}

  addListener(listener: SessionLifecycleListener): void {
    this.listeners.push(listener);
  }

  started(session: SessionRecord, user: UserRecord): void {
    this.notify((listener) => listener.sessionStarted?.(session, user));
  }

  ended(session: SessionRecord): void {
    this.notify((listener) => listener.sessionEnded?.(session));
  }

  authEvent(event: AuthEventRecord): void {
    this.notify((listener) => listener.authEvent?.(event));
  }

  loginFinished(outcome: string, durationMs: number): void {
    this.notify((listener) => listener.loginFinished?.(outcome, durationMs));
  }

  private notify(call: (listener: SessionLifecycleListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (error) {
        this.logger.error('session listener failed', { error });
      }
    }
  }
}
