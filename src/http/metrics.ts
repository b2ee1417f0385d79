/**
 * Prometheus metrics on prom-client (`GET /metrics`): Node's default process and runtime series,
 * and Gatehouse's own, each named `gatehouse_*`. Histograms where a latency is measured; gauges
 * read at scrape time. One registry per app, so that several apps in one process (tests) keep
 * their series apart.
 *
 * Whose figures: most series are this process's own (its requests, logins, sockets, the audit
 * events it wrote, its pushes), to be summed over instances; what another instance or the
 * command line did is not in them. Two are the deployment's, the same on every instance, to be
 * aggregated with `max` (never summed): `gatehouse_active_sessions` (read from the database) and
 * `gatehouse_session_ends_total` (every end this instance heard of, from any process).
 *
 * Access (see {@link metricsAccess}): with `METRICS_TOKEN` set, only a bearer of it; unset, open
 * outside production and absent (404, and nothing observed) in production.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EndPropagation } from '../events/propagation.js';
import { AUTHENTICATION_METHODS } from '../sessions/assurance.js';
import type { AuthEventRecord, AuthEventType } from '../sessions/auth-events.js';
import type { SessionServices } from '../sessions/services.js';
import { SESSION_END_REASONS, type SessionEndReason } from '../sessions/types.js';
import { readBearerToken } from './cookies.js';

/** Request and login latencies: from well under a millisecond to a slow password hash. */
const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Sweeps and pushes can take longer than a request. */
const SLOW_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The methods second-factor series are labelled with. */
const SECOND_FACTOR_METHODS = AUTHENTICATION_METHODS.filter((method) => method !== 'PASSWORD');
/** Audit events that name the second factor (`method`) that completed them. */
const SECOND_FACTOR_SUCCESSES = new Set<AuthEventType>(['LOGIN_SUCCEEDED', 'REAUTHENTICATED']);

/** The reasons Chrome gives in `Secure-Session-Skipped`; anything else is `other`, so labels stay few. */
const SKIP_REASONS = new Set(['unreachable', 'server_error', 'quota_exceeded']);

/** The paths a request is counted under; anything else is `other`, so labels stay few. */
const ROUTES = new Set([
  '/graphql',
  '/auth/verify',
  '/dbsc/register',
  '/dbsc/refresh',
  '/healthz',
  '/readyz',
  '/metrics',
  '/console',
  '/',
]);

export class Metrics {
  readonly registry = new Registry();
  private readonly authEvents: Counter<'type' | 'reason'>;
  private readonly sessionEnds: Counter<'reason'>;
  private readonly requests: Histogram<'route' | 'status'>;
  private readonly logins: Histogram<'outcome'>;
  private readonly pushes: Histogram;
  private readonly sweeps: Histogram;
  private readonly sockets: Gauge;
  private readonly webhookAttempts: Histogram<'result'>;
  private readonly secondFactorFailures: Counter<'method'>;
  private readonly secondFactorSuccesses: Counter<'method'>;
  private readonly dbscRegistrations: Counter<'result'>;
  private readonly dbscRefreshes: Counter<'result'>;
  private readonly dbscSkipped: Counter<'reason'>;

  constructor(services: SessionServices, propagation: EndPropagation) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.authEvents = new Counter({
      name: 'gatehouse_auth_events_total',
      help:
        'Audit events written by this process, by type (and end reason): per process, sum over instances; ' +
        "the command line's are in gatehouse_session_ends_total and the audit log.",
      labelNames: ['type', 'reason'],
      registers,
    });
    this.sessionEnds = new Counter({
      name: 'gatehouse_session_ends_total',
      help:
        'Session ends from any process (this one, other instances, the command line, the sweeper, SQL), by reason, ' +
        'as this instance heard of them: the deployment-wide count, the same on every instance; aggregate with max, not sum.',
      labelNames: ['reason'],
      registers,
    });
    // Every reason from 0, so that a first end is an increase rather than a new series.
    for (const reason of SESSION_END_REASONS) this.sessionEnds.inc({ reason }, 0);
    this.requests = histogram(
      'gatehouse_http_request_duration_seconds',
      'HTTP requests, by route and status.',
      ['route', 'status'],
      LATENCY_BUCKETS_SECONDS,
      registers,
    );
    this.logins = histogram(
      'gatehouse_login_duration_seconds',
      'Login attempts, by outcome (the password hash included).',
      ['outcome'],
      LATENCY_BUCKETS_SECONDS,
      registers,
    );
    this.pushes = histogram(
      'gatehouse_session_end_push_seconds',
      'From a session end (its endedAt) to its live clients being told in this process.',
      [],
      SLOW_BUCKETS_SECONDS,
      registers,
    );
    this.sweeps = histogram('gatehouse_sweep_duration_seconds', 'Sweeper runs.', [], SLOW_BUCKETS_SECONDS, registers);
    this.webhookAttempts = histogram(
      'gatehouse_webhook_attempt_duration_seconds',
      'Webhook delivery attempts made by this process, by result: delivered, retrying or failed.',
      ['result'],
      SLOW_BUCKETS_SECONDS,
      registers,
    );
    this.secondFactorFailures = new Counter({
      name: 'gatehouse_second_factor_failures_total',
      help: 'Wrong second factors given to this process (SECOND_FACTOR_FAILED), by method: TOTP, RECOVERY_CODE, PASSKEY.',
      labelNames: ['method'],
      registers,
    });
    this.secondFactorSuccesses = new Counter({
      name: 'gatehouse_second_factor_successes_total',
      help: 'Logins and step-ups this process completed with a second factor or passkey, by method.',
      labelNames: ['method'],
      registers,
    });
    // Each method from 0, so that a first failure is an increase rather than a new series.
    for (const method of SECOND_FACTOR_METHODS) {
      this.secondFactorFailures.inc({ method }, 0);
      this.secondFactorSuccesses.inc({ method }, 0);
    }
    this.dbscRegistrations = new Counter({
      name: 'gatehouse_dbsc_registrations_total',
      help: 'DBSC registrations answered by this process, by result: bound, or why refused.',
      labelNames: ['result'],
      registers,
    });
    this.dbscRefreshes = new Counter({
      name: 'gatehouse_dbsc_refreshes_total',
      help: 'DBSC refreshes answered by this process: rotated, challenge, continue_false, mismatch, throttled, unavailable.',
      labelNames: ['result'],
      registers,
    });
    this.dbscSkipped = new Counter({
      name: 'gatehouse_dbsc_skipped_total',
      help: 'Requests whose browser said it skipped a DBSC refresh (Secure-Session-Skipped; a client claim, never trusted), by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.sockets = new Gauge({
      name: 'gatehouse_websocket_connections',
      help: 'Open WebSocket connections.',
      registers,
    });
    readAtScrapeTime(registers, services, propagation);
  }

  countAuthEvent(event: AuthEventRecord): void {
    this.authEvents.inc({ type: event.type, reason: event.reason ?? '' });
    if (event.method === null) return;
    if (event.type === 'SECOND_FACTOR_FAILED') this.secondFactorFailures.inc({ method: event.method });
    else if (SECOND_FACTOR_SUCCESSES.has(event.type)) this.secondFactorSuccesses.inc({ method: event.method });
  }

  /** One session end, wherever it happened (the session feed's `onEnded`). */
  countSessionEnd(reason: SessionEndReason | null): void {
    this.sessionEnds.inc({ reason: reason ?? '' });
  }

  /** One DBSC registration or refresh answered (http/dbsc.ts). */
  countDbsc(kind: 'register' | 'refresh', result: string): void {
    (kind === 'register' ? this.dbscRegistrations : this.dbscRefreshes).inc({ result });
  }

  /**
   * A `Secure-Session-Skipped` header (an SF list of tokens with parameters), counted by reason.
   * Only counted: a client may send it to look excused, and it never lets a request through.
   */
  countDbscSkipped(header: string): void {
    for (const item of header.split(',', 8)) {
      const token = item.split(';', 1)[0]!.trim();
      this.dbscSkipped.inc({ reason: SKIP_REASONS.has(token) ? token : 'other' });
    }
  }

  /** Times one HTTP request, counted when its response has been sent. */
  timeRequest(path: string, response: ServerResponse): void {
    const stop = this.requests.startTimer();
    const route = ROUTES.has(path) ? path : path.startsWith('/console/') ? '/console' : 'other';
    response.once('finish', () => stop({ route, status: String(response.statusCode) }));
  }

  observeLogin(outcome: string, seconds: number): void {
    this.logins.observe({ outcome }, seconds);
  }

  observePush(seconds: number): void {
    this.pushes.observe(Math.max(0, seconds));
  }

  observeSweep(seconds: number): void {
    this.sweeps.observe(seconds);
  }

  /** One webhook attempt: its count by result comes with the histogram (`_count`). */
  observeWebhookAttempt(status: 'DELIVERED' | 'PENDING' | 'FAILED', seconds: number): void {
    const result = status === 'DELIVERED' ? 'delivered' : status === 'PENDING' ? 'retrying' : 'failed';
    this.webhookAttempts.observe({ result }, seconds);
  }

  socketOpened(): void {
    this.sockets.inc();
  }

  socketClosed(): void {
    this.sockets.dec();
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The gauges read when Prometheus scrapes. */
function readAtScrapeTime(registers: Registry[], services: SessionServices, propagation: EndPropagation): void {
  gauge('gatehouse_active_sessions', 'Active sessions in the database.', registers, () =>
    services.sessions.countActive(),
  );
  gauge(
    'gatehouse_cached_sessions',
    'Validated sessions cached in this process.',
    registers,
    () => services.cache?.size ?? 0,
  );
  gauge(
    'gatehouse_watched_expiries',
    'Sessions whose expiry is watched for live clients.',
    registers,
    () => services.expiry.size,
  );
  gauge(
    'gatehouse_session_ends_proven',
    '1 while ends from other processes are proven to reach this one (the cache is trusted), else 0.',
    registers,
    () => (propagation.trusted() ? 1 : 0),
  );
}

function histogram<L extends string>(
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
  registers: Registry[],
) {
  return new Histogram<L>({ name, help, labelNames, buckets, registers });
}

function gauge(name: string, help: string, registers: Registry[], read: () => number | Promise<number>): Gauge {
  return new Gauge({
    name,
    help,
    registers,
    async collect() {
      this.set(await read());
    },
  });
}

/**
 * Who may read `/metrics`: `open`, `denied` (401: a token is set and this request lacks it) or
 * `absent` (404: production without a token). The token is compared in constant time.
 */
export function metricsAccess(
  req: IncomingMessage,
  settings: { metricsToken: string | undefined; production: boolean },
): 'open' | 'denied' | 'absent' {
  if (settings.metricsToken === undefined) return settings.production ? 'absent' : 'open';
  const offered = Buffer.from(readBearerToken(req.headers.authorization) ?? '');
  const expected = Buffer.from(settings.metricsToken);
  return offered.length === expected.length && timingSafeEqual(offered, expected) ? 'open' : 'denied';
}
