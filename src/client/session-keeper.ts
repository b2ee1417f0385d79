/**
 * The client's session state and the socket that goes with it, kept together because each
 * decides the other. Rules, in the order they are kept:
 * - A socket exists only while the state is `signedIn`, and belongs to that session: a state for
 *   another session (a new login) or no session retires it first (session-socket.ts).
 * - It is held open while anyone listens for the end (`onSessionEnded`) or subscribes; with no
 *   one, it closes (graphql-ws's lazy client), and opens again when someone comes.
 * - When the socket learns the session ended, the state turns `signedOut` with the reason before
 *   the end listeners hear it, so they read the new state. Each session's end is told once.
 * - A socket retired by this client (its own logout, a new login) tells nothing: that end is the
 *   client's own doing. Once disposed, nothing opens again.
 */
import { GatehouseError } from './errors.js';
import type { SessionEndReason } from './generated.js';
import type { TypedDocument } from './http.js';
import { SessionSocket, type Sink } from './session-socket.js';
import { Listeners, LOADING, signedOut, type SessionState } from './session-state.js';

/** Why the session ended (the reason, or null when unknown) and which session it was. */
export interface SessionEndedEvent {
  sessionId: string;
  reason: SessionEndReason | null;
  /** When it ended, as Gatehouse said (ISO); null when learnt from the socket's close alone. */
  at: string | null;
}

export type SessionEndedListener = (reason: SessionEndReason | null, event: SessionEndedEvent) => void;

export class SessionKeeper {
  private current: SessionState = LOADING;
  private readonly stateListeners = new Listeners<[]>();
  private readonly endListeners = new Listeners<[SessionEndReason | null, SessionEndedEvent]>();
  private socket: SessionSocket | undefined;
  /** The end listeners' hold on the socket, while there are both. */
  private listening: (() => void) | undefined;
  private disposed = false;

  /**
   * Bumped by every change of state and every retired socket: an answer asked for before it
   * moved (a `refresh()` across a login, a logout or an end) is older than the state, and dropped.
   */
  private changes = 0;

  constructor(
    /** The `ws:`/`wss:` URL of /graphql. */
    private readonly socketUrl: string,
    private readonly webSocketImpl: unknown,
    /** The id of the session the cookie holds now, over HTTP (null: none); rejects when unreachable. */
    private readonly currentSessionId: () => Promise<string | null>,
  ) {}

  /** Compare before and after a question: a different value means the state moved meanwhile. */
  get version(): number {
    return this.changes;
  }

  get state(): SessionState {
    return this.current;
  }

  set(next: SessionState): void {
    if (this.disposed) return; // whatever answer was still on its way
    this.changes++;
    if (next.status !== 'signedIn' || next.session?.id !== this.current.session?.id) this.retireSocket();
    this.current = next;
    if (next.status === 'signedIn' && next.session && !this.socket) this.socket = this.openSocket(next.session.id);
    this.holdSocketIfListened();
    this.stateListeners.emit();
  }

  onStateChange(listener: () => void): () => void {
    return this.stateListeners.add(listener);
  }

  onSessionEnded(listener: SessionEndedListener): () => void {
    const remove = this.endListeners.add(listener);
    this.holdSocketIfListened();
    return () => {
      remove();
      this.holdSocketIfListened();
    };
  }

  subscribe<Data, Variables>(
    document: TypedDocument<Data, Variables>,
    variables: Variables | undefined,
    sink: Sink<Data>,
  ): () => void {
    if (this.socket) return this.socket.subscribe(document, variables, sink);
    sink.error?.(new GatehouseError('UNAUTHENTICATED', 'Sign in first: a socket opened now would be anonymous'));
    return () => {};
  }

  /** Closes the socket without telling an end: the client is about to end or replace the session itself. */
  retireSocket(): void {
    this.changes++;
    this.socket?.dispose();
    this.socket = undefined;
    this.listening = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.retireSocket();
    this.stateListeners.clear();
    this.endListeners.clear();
  }

  private openSocket(sessionId: string): SessionSocket {
    const stillSignedIn = async () => (await this.currentSessionId()) === sessionId;
    const opened: SessionSocket = new SessionSocket(this.socketUrl, this.webSocketImpl, stillSignedIn, (reason, at) => {
      if (this.socket !== opened) return;
      this.socket = undefined; // ended, and disposed by itself
      this.listening = undefined;
      this.set(signedOut(reason));
      this.endListeners.emit(reason, { sessionId, reason, at });
    });
    return opened;
  }

  private holdSocketIfListened(): void {
    if (this.socket && this.endListeners.size > 0) this.listening ??= this.socket.use();
    else if (this.endListeners.size === 0) {
      this.listening?.();
      this.listening = undefined;
    }
  }
}
