import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseDuration, settingNames, type Config } from '../src/config.js';
import { DAY, HOUR, MINUTE, SECOND } from './support/clock.js';

/** Asserts that `env` is refused with a ConfigError naming `setting` and, in its message, `value`. */
function assertRejected(env: Record<string, string>, setting: string, value: string): void {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.setting, setting);
      assert.equal(error.value, value);
      assert.ok(error.message.includes(setting), error.message);
      assert.ok(error.message.includes(value), error.message);
      return true;
    },
    `${JSON.stringify(env)} should be rejected`,
  );
}

/** The fields of `config` that `like` has. */
function pick(config: Config, like: Partial<Config>): Partial<Config> {
  return Object.fromEntries(Object.keys(like).map((key) => [key, config[key as keyof Config]]));
}

describe('parseDuration', () => {
  it('reads each unit', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30s'), 30 * SECOND);
    assert.equal(parseDuration('15m'), 15 * MINUTE);
    assert.equal(parseDuration('24h'), 24 * HOUR);
    assert.equal(parseDuration('7d'), 7 * DAY);
    assert.equal(parseDuration('0s'), 0);
  });

  it('takes a bare number as milliseconds, fractions of a unit, and surrounding spaces', () => {
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration('1.5h'), 90 * MINUTE);
    assert.equal(parseDuration(' 7d '), 7 * DAY);
  });

  it('returns undefined for anything malformed', () => {
    for (const text of [
      '',
      'soon',
      'd',
      '-1s',
      '7w',
      '7D',
      '1y',
      '1e3',
      '7d12h',
      'Infinity',
      'NaN',
      '0x10',
      '1.s',
      '99999999999999999999d',
    ]) {
      assert.equal(parseDuration(text), undefined, JSON.stringify(text));
    }
  });
});

describe('loadConfig', () => {
  it('applies the defaults from DESIGN.md', () => {
    // The settings DESIGN.md's table lists; later settings are checked where they are added.
    const expected: Partial<Config> = {
      port: 4000,
      host: '127.0.0.1',
      nodeEnv: 'development',
      databaseUrl: 'sqlite:./data/gatehouse.db',
      redisUrl: undefined,
      sessionMaxAgeMs: 7 * DAY,
      sessionIdleTimeoutMs: 24 * HOUR,
      maxSessionsPerUser: 0,
      sessionLimitStrategy: 'revoke-oldest',
      sweepIntervalMs: MINUTE,
      sessionRetentionMs: 30 * DAY,
      adminUsername: undefined,
      adminPassword: undefined,
      cookieName: 'gatehouse_session',
      cookieSecure: false,
      allowedOrigins: [],
      trustProxy: false,
    };
    assert.deepEqual(pick(loadConfig({}), expected), expected);
  });

  it('treats empty and blank values as unset', () => {
    assert.deepEqual(loadConfig({ SESSION_MAX_AGE: '', PORT: '  ', COOKIE_SECURE: '' }), loadConfig({}));
  });

  it('reads every setting', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      NODE_ENV: 'test',
      DATABASE_URL: 'postgres://gatehouse@db:5432/gatehouse',
      REDIS_URL: 'redis://cache:6379',
      SESSION_MAX_AGE: '12h',
      SESSION_IDLE_TIMEOUT: '30m',
      MAX_SESSIONS_PER_USER: '1',
      SESSION_LIMIT_STRATEGY: 'deny-new',
      SWEEP_INTERVAL: '10s',
      SESSION_RETENTION: '2d',
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: 'root-password',
      COOKIE_NAME: 'sid',
      COOKIE_SECURE: 'on',
      ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:3000',
      TRUST_PROXY: 'true',
    });
    const expected: Partial<Config> = {
      port: 0,
      host: '0.0.0.0',
      nodeEnv: 'test',
      databaseUrl: 'postgres://gatehouse@db:5432/gatehouse',
      redisUrl: 'redis://cache:6379',
      sessionMaxAgeMs: 12 * HOUR,
      sessionIdleTimeoutMs: 30 * MINUTE,
      maxSessionsPerUser: 1,
      sessionLimitStrategy: 'deny-new',
      sweepIntervalMs: 10 * SECOND,
      sessionRetentionMs: 2 * DAY,
      adminUsername: 'root',
      adminPassword: 'root-password',
      cookieName: 'sid',
      cookieSecure: true,
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000'],
      trustProxy: true,
    };
    assert.deepEqual(pick(config, expected), expected);
  });

  it('accepts the DATABASE_URL forms DESIGN.md names', () => {
    for (const url of ['sqlite:./data/x.db', 'sqlite::memory:', 'postgres://u@h/db', 'postgresql://u:p@h:5432/db']) {
      assert.equal(loadConfig({ DATABASE_URL: url }).databaseUrl, url);
    }
  });

  it('turns COOKIE_SECURE on by default in production, and lets it be turned off', () => {
    assert.equal(loadConfig({ NODE_ENV: 'production' }).cookieSecure, true);
    assert.equal(loadConfig({ NODE_ENV: 'production', COOKIE_SECURE: 'off' }).cookieSecure, false);
    assert.equal(loadConfig({ NODE_ENV: 'development' }).cookieSecure, false);
    assert.equal(loadConfig({ COOKIE_SECURE: 'yes' }).cookieSecure, true);
  });

  it('rejects each bad value with a ConfigError naming the setting and the value', () => {
    const bad: Array<[string, string]> = [
      ['SESSION_MAX_AGE', 'soon'],
      ['SESSION_MAX_AGE', '-5m'],
      ['SESSION_MAX_AGE', '0s'],
      ['SESSION_IDLE_TIMEOUT', '1 fortnight'],
      ['SWEEP_INTERVAL', '1w'],
      ['SESSION_RETENTION', 'forever'],
      ['PORT', 'http'],
      ['PORT', '65536'],
      ['PORT', '-1'],
      ['MAX_SESSIONS_PER_USER', '-1'],
      ['MAX_SESSIONS_PER_USER', '1.5'],
      ['MAX_SESSIONS_PER_USER', 'one'],
      ['SESSION_LIMIT_STRATEGY', 'kick-oldest'],
      ['COOKIE_SECURE', 'maybe'],
      ['TRUST_PROXY', 'sometimes'],
      ['COOKIE_NAME', 'my cookie'],
      ['COOKIE_NAME', 'a;b'],
      ['DATABASE_URL', 'mysql://x'],
      ['DATABASE_URL', 'sqlite:'],
      ['DATABASE_URL', './data/gatehouse.db'],
      ['ALLOWED_ORIGINS', 'not a url'],
      ['ALLOWED_ORIGINS', 'https://app.example.com/path'],
    ];
    for (const [setting, value] of bad) assertRejected({ [setting]: value }, setting, value);
  });

  it('rejects ADMIN_USERNAME without ADMIN_PASSWORD, and the reverse', () => {
    for (const [env, missing] of [
      [{ ADMIN_USERNAME: 'root' }, 'ADMIN_PASSWORD'],
      [{ ADMIN_PASSWORD: 'root-password' }, 'ADMIN_USERNAME'],
    ] as const) {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) =>
          error instanceof ConfigError && error.setting === missing && error.message.includes(missing),
      );
    }
  });

  it('reads process.env by default', () => {
    const saved = process.env.SESSION_IDLE_TIMEOUT;
    process.env.SESSION_IDLE_TIMEOUT = '45m';
    try {
      assert.equal(loadConfig().sessionIdleTimeoutMs, 45 * MINUTE);
    } finally {
      if (saved === undefined) delete process.env.SESSION_IDLE_TIMEOUT;
      else process.env.SESSION_IDLE_TIMEOUT = saved;
    }
  });
});

describe('settingNames', () => {
  it("reads DBSC and DBSC_BOUND_COOKIE_TTL: on and 10m by default, at least 5m (Chrome's signing quota)", () => {
    assert.deepEqual(pick(loadConfig({}), { dbsc: true, dbscBoundCookieTtlMs: 10 * MINUTE }), {
      dbsc: true,
      dbscBoundCookieTtlMs: 10 * MINUTE,
    });
    const config = loadConfig({ DBSC: 'off', DBSC_BOUND_COOKIE_TTL: '5m' });
    assert.deepEqual(pick(config, { dbsc: false, dbscBoundCookieTtlMs: 0 }), {
      dbsc: false,
      dbscBoundCookieTtlMs: 5 * MINUTE,
    });
    assertRejected({ DBSC_BOUND_COOKIE_TTL: '3m' }, 'DBSC_BOUND_COOKIE_TTL', '3m');
    assertRejected({ DBSC_BOUND_COOKIE_TTL: '2d' }, 'DBSC_BOUND_COOKIE_TTL', '2d');
    assertRejected({ DBSC_BOUND_COOKIE_TTL: 'soon' }, 'DBSC_BOUND_COOKIE_TTL', 'soon');
    assertRejected({ DBSC: 'sometimes' }, 'DBSC', 'sometimes');
  });

  it('lists every variable loadConfig reads, and nothing else', () => {
    const names = settingNames();
    for (const name of ['PORT', 'DATABASE_URL', 'ALLOWED_ORIGINS', 'GRAPHQL_INTROSPECTION', 'REDIS_URL']) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(new Set(names).size, names.length);
    // Nothing else: a variable outside the list changes nothing.
    assert.deepEqual(loadConfig({ UNRELATED_SETTING: 'x' }), loadConfig({}));
  });
});
