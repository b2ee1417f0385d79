import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import pg from 'pg';
import { SESSION_EVENTS_CHANNEL } from '../../migrations/20261130_05_announce_session_events.js';
import type { Logger, ThrottledLogger } from '../logger.js';
import { postgresConnectionSettings } from '../storage/postgres-connections.js';
import { PeerBarriers, type ControlMessage } from './peer-barriers.js';
import { Trust, type EndPropagation, type PropagationHandlers } from './propagation.js';
import { parseAnnouncedEvent } from './types.js';

/** How often this instance proves the channel to itself (and shows peers it is alive). */
const HEARTBEAT_INTERVAL_MS = 250;
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
  /** A server heartbeats (so peers wait for it, and it proves its cache); a script only listens. */
  serving: boolean;
}

/**
 * End propagation over PostgreSQL LISTEN/NOTIFY, one channel for everything: the triggers'
 * session events, and this protocol's heartbeats, barriers and acknowledgements. PostgreSQL
 * delivers the notifications of different transactions in commit order to every listener, so a
 * heartbeat received back proves every earlier end received (see propagation.ts).
 */
export class PostgresPropagation implements EndPropagation {
  readonly instanceId = randomUUID();
  private readonly trust: Trust;
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

  constructor(private readonly options: PostgresPropagationOptions) {
    this.trust = new Trust(options.logger, (trusted) => this.handlers?.trustChanged(trusted));
    this.barriers = new PeerBarriers(this.instanceId, (message) => this.send(message), options.throttledLog);
  }

  trusted(): boolean {
    return this.trust.trusted;
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
    await this.send({ k: 'leave', from: this.instanceId }).catch(() => undefined);
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
    this.send({ k: 'hb', from: this.instanceId, t: performance.now() }).catch((error: unknown) =>
      this.options.throttledLog('warn', 'heartbeat', 'could not send a session-events heartbeat', { error }),
    );
  }

  private async send(message: ControlMessage): Promise<void> {
    await this.options.db.raw('SELECT pg_notify(?, ?)', [SESSION_EVENTS_CHANNEL, JSON.stringify(message)]);
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
    this.barriers.deaf();
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
      await client.query(`LISTEN ${SESSION_EVENTS_CHANNEL}`);
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
    this.barriers.listening();
    this.reconnectDelayMs = RECONNECT_MIN_MS;
    if (this.connectedBefore) this.handlers?.missed();
    this.connectedBefore = true;
  }

  private reconnectLater(client: pg.Client): void {
    if (this.listener === client) this.listener = undefined;
    if (this.closed) return;
    this.barriers.deaf();
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(RECONNECT_MAX_MS, delay * 2);
    setTimeout(() => void this.connect(), delay).unref();
  }
}
