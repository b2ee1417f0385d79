import type { AuthEventRecord } from '../sessions/audit-log.js';
import type { SessionServices } from '../sessions/services.js';

/**
 * Prometheus text exposition for GET /metrics. Counters come from the audit events as they are
 * written; gauges are read at scrape time. Hand-written: a handful of series needs no client
 * library.
 */
export class Metrics {
  private readonly authEvents = new Map<string, number>();
  openWebSockets = 0;

  constructor(
    private readonly services: SessionServices,
    private readonly startedAt = Date.now(),
  ) {}

  /** Feed for the session lifecycle's `authEvent` listener. */
  countAuthEvent(event: AuthEventRecord): void {
    const labels = event.reason ? `type="${event.type}",reason="${event.reason}"` : `type="${event.type}"`;
    this.authEvents.set(labels, (this.authEvents.get(labels) ?? 0) + 1);
  }

  async render(): Promise<string> {
    const lines: string[] = [];
    const gauge = (name: string, help: string, value: number) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);

    lines.push(
      '# HELP gatehouse_auth_events_total Audit events written by this process, by type (and end reason).',
      '# TYPE gatehouse_auth_events_total counter',
    );
    for (const [labels, count] of [...this.authEvents].sort()) {
      lines.push(`gatehouse_auth_events_total{${labels}} ${count}`);
    }
    gauge('gatehouse_active_sessions', 'Active sessions in the database.', await this.services.sessions.countActive());
    gauge('gatehouse_cached_sessions', 'Validated sessions cached in this process.', this.services.cache?.size ?? 0);
    gauge('gatehouse_websocket_connections', 'Open WebSocket connections.', this.openWebSockets);
    gauge(
      'gatehouse_watched_expiries',
      'Sessions whose expiry is watched for live clients.',
      this.services.expiry.size,
    );
    gauge(
      'gatehouse_uptime_seconds',
      'Seconds since this process started.',
      Math.floor((Date.now() - this.startedAt) / 1000),
    );
    return lines.join('\n') + '\n';
  }
}
