import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import pg from 'pg';
import { SESSION_EVENTS_CHANNEL } from '../../migrations/20261130_05_announce_session_events.js';
import type { Logger, ThrottledLogger } from '../logger.js';
import { postgresConnectionSettings } from '../storage/postgres-connections.js';
import { PeerBarriers, type ControlMessage } from './peer-barriers.js';
import { inboxChannel, PostgresMembership } from './postgres-membership.js';
import { Trust, type EndPropagation, type PropagationHandlers } from './propagation.js';
import { parseAnnouncedEvent } from './types.js';

/** How often this instance proves the channel to itself (and renews its membership). */
const HEARTBEAT_INTERVAL_MS = 250;
/** Every server deletes the rows of servers long gone about once a minute. */
const PRUNE_EVERY_TICKS = 240;
/**
 * Without proof this long (20 heartbeats), the listening connection is taken for hung and
 * replaced. Trust lapsed long before (propagation.ts), so the cache is already off: what a
 * replacement costs (the cache emptied, watched sessions re-read) regaining trust costs anyway.
 */
const STUCK_LISTENER_MS = 5_000;
const RECONNECT_MIN_MS = 250;
/** Each try is one connection attempt; once the database is back, ends are heard within this. */
const RECONNECT_MAX_MS = 2_000;

/**
 * How the listening connection is named in pg_stat_activity, so an operator (or a fault test)
 * can find it: the process id and the start of the instance id, within PostgreSQL's 63 bytes.
 */
export function listenerName(instanceId: string): string {
  return `gatehouse-events:${process.pid}:${instanceId.slice(0, 8)}`;
}

export interface PostgresPropagationOptions {
  databaseUrl: string;
  /** Pool connections send heartbeats, barriers and acknowledgements. */
  db: Knex;
  logger: Logger;
  throttledLog: ThrottledLogger;
  /**
   * A server heartbeats (so barriers wait for it, and it proves its cache) and hears every end;
   * a script hears only the answers to its own barriers.
   */
  serving: boolean;
}

/**
 * End propagation over PostgreSQL LISTEN/NOTIFY. One channel carries the triggers' session
 * events and this protocol's heartbeats, barriers and leaves; each instance also has an inbox
 * channel ({@link inboxChannel}) where the acknowledgements of its own barriers arrive, so that
 * an acknowledgement goes to the one process that asked. PostgreSQL delivers the notifications
 * of different transactions in commit order to every listener, so a heartbeat received back
 * proves every earlier end received (rule 1 of propagation.ts).
 *
 * Membership ({@link PostgresMembership}). A server's heartbeat is one statement: it upserts the
 * server's row in `server_instances` with the database's `now()` and sends the heartbeat, so the
 * row commits with the notification. A barrier is one statement too, run after the ends it
 * covers have committed: it sends the barrier and reads the members, the servers whose row is
 * younger than `MEMBER_WINDOW_MS`. The sender then waits for those members' answers only, or
 * for the barrier's deadline ({@link PeerBarriers}). A process that has just started (the
 * command line) knows at once whom to wait for, without listening for a window first.
 *
 * Why rule 2 holds. Take a server S that, after the barrier resolved, serves from its cache on
 * the proof of heartbeat H (sent at most the trust deadline ago). If H committed after the end,
 * S received the end before H and has evicted it. Otherwise H committed before the end, hence
 * before the barrier's statement began, so that statement saw S's row at least as fresh as H:
 * - S was not a member: its row, so H, is older than the window at the statement's `now()`.
 *   The barrier resolved after that, so H was sent more than the trust deadline ago: S does not
 *   trust its cache. (Both ages are read on the database's clock; the window's margin over the
 *   deadline covers that clock's drift.)
 * - S was a member: it answered, which it does only after receiving the barrier, so after
 *   receiving (and applying) the end; or it did not, and the barrier waited past the deadline
 *   after the end, so again H is older than the trust deadline.
 * A row never moves back in time (GREATEST), so heartbeats committed out of order cannot hide a
 * member. A server that stops first stops trusting its cache, then deletes its row and says
 * `leave` in one statement; a barrier counts a leave as an answer. Rows of servers that died
 * are ignored by age, and deleted later.
 *
 * Under a single fault the bound is the deadline's: a member cut off from the database, or
 * whose listener hangs, is waited for until the deadline, by when it has stopped trusting; a
 * barrier that cannot be sent (the database unreachable) ends at its deadline too.
 */
export class PostgresPropagation implements EndPropagation {
  readonly instanceId = randomUUID();
  private readonly trust: Trust;
  private readonly membership: PostgresMembership;
  private readonly barriers: PeerBarriers;
  private handlers: PropagationHandlers | undefined;
  private listener: pg.Client | undefined;
  /** The listener's own socket: a hung one is destroyed, since it would never answer a goodbye. */
  private listenerSocket: Socket | undefined;
  private connectedBefore = false;
  /** When the current listening connection opened (`performance.now()`). */
  private listeningSince = 0;
  private reconnectDelayMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private ticks = 0;

  constructor(private readonly options: PostgresPropagationOptions) {
    this.trust = new Trust(options.logger, (trusted) => this.handlers?.trustChanged(trusted));
    this.membership = new PostgresMembership(options.db, this.instanceId);
    this.barriers = new PeerBarriers(this.instanceId, this.membership, options.throttledLog);
  }

  trusted(): boolean {
    // A server that is stopping may no longer be waited for (it has left): it serves from the database.
    return !this.closed && this.trust.trusted;
  }

  proofAgeMs(): number {
    return this.closed ? Number.POSITIVE_INFINITY : this.trust.proofAgeMs;
  }

  barrier(): Promise<void> {
    return this.barriers.barrier();
  }

  async start(handlers: PropagationHandlers): Promise<void> {
    this.handlers = handlers;
    await this.connect();
    this.timer = setInterval(() => this.tick(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
    this.tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (this.options.serving) await this.membership.leave().catch(() => undefined);
    this.barriers.close();
    await this.listener?.end().catch(() => undefined);
  }

  private tick(): void {
    if (!this.options.serving) return;
    this.trust.check();
    const silentForMs = Math.min(this.trust.proofAgeMs, performance.now() - this.listeningSince);
    if (this.listener && silentForMs > STUCK_LISTENER_MS) {
      this.options.throttledLog('warn', 'listener-stuck', 'session event listener silent: replacing it');
      this.replaceStuckListener(this.listener);
      return;
    }
    this.heartbeat().catch((error: unknown) =>
      this.options.throttledLog('warn', 'heartbeat', 'could not send a session-events heartbeat', { error }),
    );
  }

  /**
   * A heartbeat sent while not listening could never come back to prove anything: it would only
   * keep this server a member that barriers wait for in vain.
   */
  private heartbeat(): Promise<void> {
    if (!this.listener) return Promise.resolve();
    if (++this.ticks % PRUNE_EVERY_TICKS === 0) {
      this.membership
        .prune()
        .catch((error: unknown) =>
          this.options.throttledLog('warn', 'members', 'could not delete the rows of servers gone', { error }),
        );
    }
    return this.membership.heartbeat(performance.now());
  }

  private receive(payload: string | undefined): void {
    let message: unknown;
    try {
      message = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    const control = message as ControlMessage;
    if (control.k === 'hb' && control.from === this.instanceId) return this.trust.proven(control.t);
    if (control.k !== undefined) return this.barriers.receive(control);
    const event = parseAnnouncedEvent(message);
    if (event) this.handlers?.events([event]);
  }

  /** A server hears every end and its inbox; a script only its inbox. */
  private listenStatement(): string {
    const inbox = `LISTEN ${inboxChannel(this.instanceId)};`;
    return this.options.serving ? `LISTEN ${SESSION_EVENTS_CHANNEL}; ${inbox}` : inbox;
  }

  /**
   * Cuts a hung listener off and opens another at once. A graceful end waits for the peer's
   * answer, which a hung peer never sends (and each tick asked again, adding a listener each
   * time): its socket is destroyed instead, after its client is detached, so nothing it reports
   * later (its close, notifications held up in the network) reaches this instance.
   */
  private replaceStuckListener(stuck: pg.Client): void {
    this.listener = undefined;
    stuck.removeAllListeners();
    stuck.on('error', () => undefined);
    this.listenerSocket?.destroy();
    void this.connect();
  }

  /** Opens the listening connection; a reconnect means notifications may have been missed. */
  private async connect(): Promise<void> {
    let socket: Socket | undefined;
    const client = new pg.Client({
      ...postgresConnectionSettings(this.options.databaseUrl),
      application_name: listenerName(this.instanceId),
      stream: () => (socket = new Socket()),
    });
    client.on('notification', (notification) => this.receive(notification.payload));
    client.on('error', (error) =>
      this.options.throttledLog('warn', 'listener', 'session event listener failed', { error }),
    );
    client.on('end', () => this.reconnectLater(client));
    try {
      await client.connect();
      await client.query(this.listenStatement());
      if (this.closed) throw new Error('closed while connecting');
    } catch (error) {
      if (!this.closed) {
        this.options.throttledLog('warn', 'listener', 'session event listener could not connect', { error });
      }
      client.removeAllListeners('end');
      socket?.destroy();
      this.reconnectLater(client);
      return;
    }
    this.listener = client;
    this.listenerSocket = socket;
    this.listeningSince = performance.now();
    this.reconnectDelayMs = RECONNECT_MIN_MS;
    if (this.connectedBefore) this.handlers?.missed();
    this.connectedBefore = true;
  }

  private reconnectLater(client: pg.Client): void {
    if (this.listener === client) this.listener = undefined;
    if (this.closed) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(RECONNECT_MAX_MS, delay * 2);
    setTimeout(() => void this.connect(), delay).unref();
  }
}
