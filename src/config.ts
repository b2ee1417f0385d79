/**
 * Settings. This module is the only reader of the environment: everything else receives a
 * validated {@link Config}. A bad value throws a {@link ConfigError} naming the setting and the
 * value it got, so the process stops before it listens.
 */

import { OriginEntryError, parseAllowedOrigin } from './http/origins.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import {
  MAX_SESSION_LIMIT,
  SECOND_FACTOR_REQUIREMENTS,
  SESSION_LIMIT_STRATEGIES,
  type SecondFactorRequirement,
  type SessionLimitStrategy,
} from './sessions/policy.js';
import { SECRETS_KEY_BYTES } from './sessions/secrets-box.js';

export interface Config {
  /** `PORT`: TCP port to listen on. Default `4000`; `0` picks a free port (tests). */
  port: number;
  /** `HOST`: interface to listen on. Default `127.0.0.1`. */
  host: string;
  /** `NODE_ENV`. Default `development`. `production` turns on secure cookies by default. */
  nodeEnv: string;
  /**
   * `DATABASE_URL`: `sqlite:<path>`, `sqlite::memory:` or `postgres://…`.
   * Default `sqlite:./data/gatehouse.db` (the folder is created).
   */
  databaseUrl: string;
  /**
   * `REDIS_URL`: accepted for deployments that set it, and no longer used: session events cross
   * instances through the database (PostgreSQL LISTEN/NOTIFY, the SQLite end log). A warning at
   * start says so. Default unset.
   */
  redisUrl: string | undefined;
  /** `SESSION_MAX_AGE`: absolute lifetime of a session, in ms. Default `7d`. */
  sessionMaxAgeMs: number;
  /** `SESSION_IDLE_TIMEOUT`: a session unused this long ends, in ms. Default `24h`. */
  sessionIdleTimeoutMs: number;
  /** `MAX_SESSIONS_PER_USER`: active sessions allowed per user; `0` is no limit, `1` single login. Default `0`. */
  maxSessionsPerUser: number;
  /** `SESSION_LIMIT_STRATEGY`: what a login beyond the limit does. Default `revoke-oldest`. */
  sessionLimitStrategy: SessionLimitStrategy;
  /**
   * `REAUTH_WINDOW`: how recent a login or `reauthenticate` must be for step-up operations (ending
   * sessions, password changes and resets, disabling or deleting users, creating admins), in ms.
   * Default `15m`.
   */
  reauthWindowMs: number;
  /** `SWEEP_INTERVAL`: how often the sweeper runs, in ms. Default `1m`. */
  sweepIntervalMs: number;
  /** `SESSION_RETENTION`: how long ended or expired rows are kept before deletion, in ms. Default `30d`. */
  sessionRetentionMs: number;
  /** `AUTH_EVENT_RETENTION`: how long audit-log events are kept, in ms. Default `90d`. */
  authEventRetentionMs: number;
  /** `ADMIN_USERNAME`: admin created at start when no admin exists. Default unset (`admin`, random password). */
  adminUsername: string | undefined;
  /** `ADMIN_PASSWORD`: password for {@link Config.adminUsername}. Default unset. */
  adminPassword: string | undefined;
  /** `COOKIE_NAME`: session cookie name; gets the `__Host-` prefix when secure. Default `gatehouse_session`. */
  cookieName: string;
  /**
   * `COOKIE_SECURE`: `Secure` flag and `__Host-` prefix. Default on when `NODE_ENV=production`,
   * else off. Browsers drop such a cookie over plain HTTP (except on localhost): on with a `HOST`
   * off loopback and `TRUST_PROXY` off, the start logs a warning, and so does the first login
   * answered over plain HTTP to a browser elsewhere (see `http/plain-http.ts`).
   */
  cookieSecure: boolean;
  /**
   * `ALLOWED_ORIGINS`: comma-separated browser origins allowed besides the server's own, for CORS
   * and WebSocket upgrades: `https://app.example.com`, or `https://*.example.com` for every
   * subdomain of a domain you wholly control (one or more labels, same scheme and port; not
   * `example.com` itself). Normalised to lower case, punycode and no default port; a wildcard
   * anywhere but the whole leftmost label, or over a top-level domain, stops the start.
   * Default none.
   */
  allowedOrigins: string[];
  /**
   * `TRUST_PROXY`: take the client IP from `X-Forwarded-For`, and the browser's scheme from
   * `X-Forwarded-Proto` (for the plain-HTTP cookie warning). Default off.
   */
  trustProxy: boolean;
  /**
   * `GRAPHIQL`: serve GraphiQL on GET /graphql to a browser: `on`, `off`, or `admins` (only to a
   * browser signed in as an ADMIN; others are sent to the console). Default `on`, `admins` when
   * `NODE_ENV=production`.
   */
  graphiql: Access;
  /**
   * `GRAPHQL_INTROSPECTION`: answer introspection queries: `on`, `off`, or `admins` (only for
   * ADMIN viewers). Default `on`, `admins` when `NODE_ENV=production`.
   */
  introspection: Access;
  /**
   * `METRICS_TOKEN`: when set, `GET /metrics` needs `Authorization: Bearer <it>`. Unset: `/metrics`
   * is open outside production and answers 404 in production (where it is then not collected at
   * all). Default unset.
   */
  metricsToken: string | undefined;
  /** `LOG_LEVEL`: `debug`, `info`, `warn` or `error`; lines below it are dropped. Default `info`. */
  logLevel: LogLevel;
  /**
   * `WEBHOOK_RETRY_SCHEDULE`: the delays between a webhook delivery's attempts, comma-separated
   * durations, each stretched or shrunk by up to 10% at random so that receivers coming back are
   * not hit by every retry at once. One more attempt than delays is made; then the delivery is
   * FAILED. Default `5s,5m,30m,2h,5h,10h,10h` (8 attempts over about 33 hours).
   */
  webhookRetryScheduleMs: number[];
  /**
   * `WEBHOOK_TIMEOUT`: how long one delivery attempt may take, from connecting to the end of the
   * response, in ms; past it the attempt fails and is retried. Default `10s`.
   */
  webhookTimeoutMs: number;
  /**
   * `WEBHOOK_ALLOW_PRIVATE`: let webhooks reach loopback, private, link-local and other
   * non-public addresses (checked on the resolved address at every connection). Default on,
   * off when `NODE_ENV=production`.
   */
  webhookAllowPrivate: boolean;
  /**
   * `SECOND_FACTOR_TIMEOUT`: how long a right password waits for its second step (or, under
   * `REQUIRE_SECOND_FACTOR`, for the user to enroll one) before the pending login is void, in ms.
   * Default `5m`; from `30s` to `1h`.
   */
  secondFactorTimeoutMs: number;
  /**
   * `REQUIRE_SECOND_FACTOR`: who must have a second factor: `off`, `admins` or `all`. A covered
   * user without one who signs in gets a session that can only enroll one (and sign out).
   * Default `off`.
   */
  requireSecondFactor: SecondFactorRequirement;
  /**
   * `SECRETS_KEY`: 32 bytes, base64 (`openssl rand -base64 32`): encrypts TOTP secrets at rest
   * (AES-256-GCM). Default unset: on SQLite outside production a key is generated into the
   * database's folder (`secrets.key`, mode 0600) at first need; in production, and on
   * PostgreSQL (where instances must share it), enrolling an authenticator app is refused
   * without it, and a start with authenticator apps enrolled stops.
   */
  secretsKey: Buffer | undefined;
  /**
   * `WEBAUTHN_RP_ID`: the passkeys' relying-party id, a domain such as `example.com` that
   * passkeys are bound to (changing it later orphans them). Default unset: the host name the
   * request was sent to.
   */
  webauthnRpId: string | undefined;
  /**
   * `WEBAUTHN_ORIGINS`: comma-separated origins a passkey ceremony may come from, such as
   * `https://app.example.com`. Default unset: the origin the request was sent to, and
   * `ALLOWED_ORIGINS`.
   */
  webauthnOrigins: string[];
  /**
   * `DBSC`: device-bound sessions (W3C DBSC) for browsers that offer them. Off: logins send no
   * registration header, `/dbsc/*` answers 404 (browsers then drop their bindings), and bound
   * sessions are served with the session cookie alone, so turning it off locks no one out.
   * Default on.
   */
  dbsc: boolean;
  /**
   * `DBSC_BOUND_COOKIE_TTL`: lifetime of a bound session's short cookie, the window a thief with a
   * copied cookie jar has, in ms. At least `5m`: Chrome signs at most six proofs per nine minutes
   * per site and refreshes two minutes before expiry, so a shorter lifetime leaves the browser
   * without a cookie for part of each cycle. Default `10m`, at most `24h`.
   */
  dbscBoundCookieTtlMs: number;
}

/** Who must have a second factor (`REQUIRE_SECOND_FACTOR`): defined with the rules that apply it. */
export { SECOND_FACTOR_REQUIREMENTS, type SecondFactorRequirement };

/** Who may use a tool: everyone, no one, or ADMIN viewers only. */
export type Access = 'on' | 'off' | 'admins';

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly value: string,
    expected: string,
  ) {
    super(`Invalid setting ${setting}=${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses `250ms`, `30s`, `15m`, `24h`, `7d` (or a bare number of ms). Returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = DURATION_UNITS_MS[match[2] ?? 'ms'] ?? 1;
  const ms = Math.round(amount * unit);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

type Env = Record<string, string | undefined>;

/** A bearer token shorter than this could be guessed by trying. */
const METRICS_TOKEN_MIN_LENGTH = 16;

class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new ConfigError(name, value, `an integer from ${min} to ${max}`);
    }
    return parsed;
  }

  duration(name: string, fallback: string, minMs = 1, maxMs = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name) ?? fallback;
    const ms = parseDuration(value);
    if (ms === undefined || ms < minMs || ms > maxMs) {
      const bounds = maxMs === Number.MAX_SAFE_INTEGER ? `at least ${minMs}ms` : `from ${minMs}ms to ${maxMs}ms`;
      throw new ConfigError(name, value, `a duration such as 500ms, 30s, 15m, 24h or 7d (${bounds})`);
    }
    return ms;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (['1', 'true', 'on', 'yes'].includes(lower)) return true;
    if (['0', 'false', 'off', 'no'].includes(lower)) return false;
    throw new ConfigError(name, value, 'one of on/off, true/false, 1/0, yes/no');
  }

  /** `on`, `off` or `admins`; the boolean spellings still mean on and off. */
  access(name: string, fallback: Access): Access {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (value.toLowerCase() === 'admins') return 'admins';
    try {
      return this.boolean(name, false) ? 'on' : 'off';
    } catch {
      throw new ConfigError(name, value, 'on, off or admins');
    }
  }

  /** An optional secret: long enough to resist guessing; the error never repeats its value. */
  secret(name: string, minLength: number): string | undefined {
    const value = this.raw(name);
    if (value === undefined || value.length >= minLength) return value;
    throw new ConfigError(name, '[hidden]', `at least ${minLength} characters`);
  }

  /** Comma-separated durations, each at least `minMs`; at least one and at most `maxCount`. */
  durationList(name: string, fallback: string, minMs: number, maxCount: number): number[] {
    const value = this.raw(name) ?? fallback;
    const durations = value.split(',').map((part) => parseDuration(part));
    if (durations.length > maxCount || durations.some((ms) => ms === undefined || ms < minMs)) {
      throw new ConfigError(
        name,
        value,
        `1 to ${maxCount} comma-separated durations such as 5s,5m,30m (each at least ${minMs}ms)`,
      );
    }
    return durations as number[];
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, value, `one of ${allowed.join(', ')}`);
    }
    return value as T;
  }
}

/** The entries of a comma-separated setting, trimmed, empty ones dropped ('' when unset: none). */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function parseOrigins(reader: EnvReader): string[] {
  const value = reader.optionalString('ALLOWED_ORIGINS') ?? '';
  return commaList(value).map((origin) => {
    try {
      return parseAllowedOrigin(origin);
    } catch (error) {
      if (!(error instanceof OriginEntryError)) throw error;
      throw new ConfigError(
        'ALLOWED_ORIGINS',
        value,
        `comma-separated origins such as https://app.example.com or https://*.example.com (${error.message})`,
      );
    }
  });
}

function parseSecretsKey(reader: EnvReader): Buffer | undefined {
  const value = reader.optionalString('SECRETS_KEY');
  if (value === undefined) return undefined;
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : undefined;
  // The error never repeats the value: it is a secret even when malformed.
  if (key?.length !== SECRETS_KEY_BYTES) {
    throw new ConfigError('SECRETS_KEY', '[hidden]', `${SECRETS_KEY_BYTES} bytes, base64 (openssl rand -base64 32)`);
  }
  return key;
}

/** A bare domain name: what WebAuthn accepts as a relying-party id (no scheme, port or path). */
function parseRpId(reader: EnvReader): string | undefined {
  const value = reader.optionalString('WEBAUTHN_RP_ID');
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(lower)) {
    throw new ConfigError('WEBAUTHN_RP_ID', value, 'a domain name such as example.com (no scheme, port or path)');
  }
  return lower;
}

function parseWebauthnOrigins(reader: EnvReader): string[] {
  const value = reader.optionalString('WEBAUTHN_ORIGINS') ?? '';
  return commaList(value).map((origin) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError('WEBAUTHN_ORIGINS', value, 'comma-separated origins such as https://app.example.com');
    }
    return parsed.origin;
  });
}

function validateDatabaseUrl(value: string): string {
  if (value.startsWith('sqlite:') && value.length > 'sqlite:'.length) return value;
  if (/^postgres(ql)?:\/\//.test(value)) return value;
  throw new ConfigError('DATABASE_URL', value, 'sqlite:<path>, sqlite::memory: or postgres://…');
}

/** Reads and validates every setting. Throws {@link ConfigError} on the first bad value. */
export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const nodeEnv = read.string('NODE_ENV', 'development');
  const adminUsername = read.optionalString('ADMIN_USERNAME');
  const adminPassword = read.optionalString('ADMIN_PASSWORD');
  if ((adminUsername === undefined) !== (adminPassword === undefined)) {
    const missing = adminUsername === undefined ? 'ADMIN_USERNAME' : 'ADMIN_PASSWORD';
    throw new ConfigError(
      missing,
      '',
      'to be set together with ' + (missing === 'ADMIN_USERNAME' ? 'ADMIN_PASSWORD' : 'ADMIN_USERNAME'),
    );
  }
  const cookieName = read.string('COOKIE_NAME', 'gatehouse_session');
  // RFC 6265 token characters only: anything else would break the Cookie header.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    throw new ConfigError('COOKIE_NAME', cookieName, "a cookie name made of letters, digits and !#$%&'*+-.^_`|~");
  }
  return {
    port: read.integer('PORT', 4000, 0, 65535),
    host: read.string('HOST', '127.0.0.1'),
    nodeEnv,
    databaseUrl: validateDatabaseUrl(read.string('DATABASE_URL', 'sqlite:./data/gatehouse.db')),
    redisUrl: read.optionalString('REDIS_URL'),
    sessionMaxAgeMs: read.duration('SESSION_MAX_AGE', '7d', 1000),
    sessionIdleTimeoutMs: read.duration('SESSION_IDLE_TIMEOUT', '24h', 1000),
    maxSessionsPerUser: read.integer('MAX_SESSIONS_PER_USER', 0, 0, MAX_SESSION_LIMIT),
    sessionLimitStrategy: read.oneOf('SESSION_LIMIT_STRATEGY', 'revoke-oldest', SESSION_LIMIT_STRATEGIES),
    reauthWindowMs: read.duration('REAUTH_WINDOW', '15m', 1000),
    sweepIntervalMs: read.duration('SWEEP_INTERVAL', '1m', 100),
    sessionRetentionMs: read.duration('SESSION_RETENTION', '30d', 0),
    authEventRetentionMs: read.duration('AUTH_EVENT_RETENTION', '90d', 0),
    adminUsername,
    adminPassword,
    cookieName,
    cookieSecure: read.boolean('COOKIE_SECURE', nodeEnv === 'production'),
    allowedOrigins: parseOrigins(read),
    trustProxy: read.boolean('TRUST_PROXY', false),
    graphiql: read.access('GRAPHIQL', nodeEnv === 'production' ? 'admins' : 'on'),
    introspection: read.access('GRAPHQL_INTROSPECTION', nodeEnv === 'production' ? 'admins' : 'on'),
    metricsToken: read.secret('METRICS_TOKEN', METRICS_TOKEN_MIN_LENGTH),
    logLevel: read.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    webhookRetryScheduleMs: read.durationList('WEBHOOK_RETRY_SCHEDULE', '5s,5m,30m,2h,5h,10h,10h', 10, 20),
    webhookTimeoutMs: read.duration('WEBHOOK_TIMEOUT', '10s', 100),
    webhookAllowPrivate: read.boolean('WEBHOOK_ALLOW_PRIVATE', nodeEnv !== 'production'),
    secondFactorTimeoutMs: read.duration('SECOND_FACTOR_TIMEOUT', '5m', 30_000, 3_600_000),
    requireSecondFactor: read.oneOf('REQUIRE_SECOND_FACTOR', 'off', SECOND_FACTOR_REQUIREMENTS),
    secretsKey: parseSecretsKey(read),
    webauthnRpId: parseRpId(read),
    webauthnOrigins: parseWebauthnOrigins(read),
    dbsc: read.boolean('DBSC', true),
    dbscBoundCookieTtlMs: read.duration('DBSC_BOUND_COOKIE_TTL', '10m', 300_000, 86_400_000),
  };
}

/** Every environment variable Gatehouse reads (tests clear them from the environment they inherit). */
export function settingNames(): string[] {
  const names = new Set<string>();
  const recordingEnv = new Proxy<Env>(
    {},
    {
      get(_target, name) {
        if (typeof name === 'string') names.add(name);
        return undefined;
      },
    },
  );
  loadConfig(recordingEnv);
  return [...names];
}
