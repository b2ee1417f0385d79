import type { Knex } from 'knex';
import { SESSION_EVENTS_CHANNEL } from '../../migrations/20261130_05_announce_session_events.js';
import { MEMBER_WINDOW_MS, type BarrierChannel, type ControlMessage } from './peer-barriers.js';

/** Rows this much older than the window are deleted: servers that died without leaving. */
const MEMBER_RETENTION_MS = 600_000;

/** Where an instance hears what is meant for it alone: the acknowledgements of its barriers. */
export function inboxChannel(instanceId: string): string {
  return `gatehouse_inbox_${instanceId.replaceAll('-', '')}`;
}

const INSTANCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The protocol's statements on PostgreSQL (see postgres-propagation.ts for why they are safe):
 * each message is one statement, so a membership change commits with the notification that
 * goes with it. `server_instances` is migration 11; its times are the database's `now()`.
 */
export class PostgresMembership implements BarrierChannel {
  constructor(
    private readonly db: Knex,
    private readonly instanceId: string,
  ) {}

  /** Renews this server's row and sends its heartbeat. A row never moves back in time. */
  async heartbeat(sentAt: number): Promise<void> {
    await this.db.raw(
      `WITH member AS (
        INSERT INTO server_instances (id, heartbeat_at) VALUES (?, now())
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = GREATEST(server_instances.heartbeat_at, excluded.heartbeat_at))
      SELECT pg_notify(?, ?)`,
      [this.instanceId, SESSION_EVENTS_CHANNEL, this.message({ k: 'hb', from: this.instanceId, t: sentAt })],
    );
  }

  /** Deletes this server's row and tells pending barriers not to wait for it. */
  async leave(): Promise<void> {
    await this.db.raw('WITH gone AS (DELETE FROM server_instances WHERE id = ?) SELECT pg_notify(?, ?)', [
      this.instanceId,
      SESSION_EVENTS_CHANNEL,
      this.message({ k: 'leave', from: this.instanceId }),
    ]);
  }

  /** Deletes the rows of servers long gone. */
  async prune(): Promise<void> {
    await this.db.raw(`DELETE FROM server_instances WHERE heartbeat_at < now() - ? * interval '1 ms'`, [
      MEMBER_RETENTION_MS,
    ]);
  }

  async sendBarrier(id: string): Promise<readonly string[]> {
    const result: { rows: Array<{ members: string[] }> } = await this.db.raw(
      `SELECT pg_notify(?, ?), ARRAY(
        SELECT id FROM server_instances WHERE heartbeat_at > now() - ? * interval '1 ms') AS members`,
      [SESSION_EVENTS_CHANNEL, this.message({ k: 'barrier', from: this.instanceId, id }), MEMBER_WINDOW_MS],
    );
    return result.rows[0]?.members ?? [];
  }

  async acknowledge(to: string, id: string): Promise<void> {
    if (!INSTANCE_ID.test(to)) return;
    await this.db.raw('SELECT pg_notify(?, ?)', [
      inboxChannel(to),
      this.message({ k: 'ack', from: this.instanceId, id }),
    ]);
  }

  private message(message: ControlMessage): string {
    return JSON.stringify(message);
  }
}
