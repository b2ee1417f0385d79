/**
 * Operations: Prometheus metrics (parsed as the exposition format, and who may read them) and
 * logs (JSON lines with public ids, and no secret in the real process's output).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  ActiveSessionsDocument,
  ChangePasswordDocument,
  KickSessionDocument,
  LoginDocument,
  LogoutDocument,
  MeDocument,
  ReauthenticateDocument,
  SessionRevokedDocument,
} from './generated/graphql.js';
import { createLogger } from '../src/logger.js';
import { runSweeper } from './support/app.js';
import { TestClient } from './support/client.js';
import { openSocket, subscribeWs } from './support/live.js';
import { GatehouseProcess, killAllGatehouseProcesses } from './support/process.js';
import { startTestServer, type TestServer } from './support/server.js';
import { signInBound } from './support/bound-sessions.js';
import { createUser, signIn } from './support/sessions.js';

/** One sample line of the Prometheus text format: name, optional labels, a number. */
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;

interface Sample {
  name: string;
  labels: string;
  value: number;
}

function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = SAMPLE.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    samples.push({ name: match[1]!, labels: match[2] ?? '', value: Number(match[3]) });
  }
  return samples;
}

const find = (samples: Sample[], name: string, labels = '') =>
  samples.filter((sample) => sample.name === name && sample.labels.includes(labels));

describe('metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('GET /metrics is Prometheus text with the default series and every gatehouse_* series fed', async () => {
    const admin = await server.adminClient();
    await admin.data(MeDocument);
    await createUser(admin, 'mira');
    const mira = await signIn(server, 'mira');
    const socket = openSocket(server, { cookie: mira.client.cookie });
    await socket.connected;
    const revoked = subscribeWs(socket.client, SessionRevokedDocument);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await admin.data(KickSessionDocument, { sessionId: mira.session.id });
    await revoked.received(1);
    await runSweeper(server);
    await new TestClient(server.url).request(LoginDocument, { username: 'mira', password: 'wrong-password' });
    // The end log's poll (every 100 ms) brings this server's own end back to it: counted once still.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(await response.text());
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.ok(find(samples, name).length > 0, name);
    }
    const one = (name: string, labels = '') => find(samples, name, labels)[0]?.value;
    assert.equal(one('gatehouse_active_sessions'), 1, 'the admin');
    assert.ok(one('gatehouse_http_request_duration_seconds_count', 'route="/graphql",status="200"')! >= 4);
    assert.equal(one('gatehouse_login_duration_seconds_count', 'outcome="succeeded"'), 2);
    assert.equal(one('gatehouse_login_duration_seconds_count', 'outcome="INVALID_CREDENTIALS"'), 1);
    assert.equal(one('gatehouse_auth_events_total', 'type="SESSION_ENDED",reason="KICKED"'), 1);
    assert.equal(one('gatehouse_session_end_push_seconds_count'), 1, 'the kicked session had a live client');
    assert.equal(one('gatehouse_session_ends_total', 'reason="KICKED"'), 1, 'its own end, and not its echo');
    assert.equal(one('gatehouse_session_ends_total', 'reason="LOGOUT"'), 0, 'every reason from 0');
    assert.equal(one('gatehouse_sweep_duration_seconds_count'), 1);
    assert.equal(one('gatehouse_session_ends_proven'), 1);
    assert.ok(find(samples, 'gatehouse_websocket_connections').length === 1);
    assert.ok(find(samples, 'gatehouse_cached_sessions').length === 1);
    await socket.dispose();
  });

  it('gatehouse_device_bound_sessions: the active sessions bound to their device, read with the active count in one query', async () => {
    const admin = await server.adminClient();
    await createUser(admin, 'nora');
    const [bound, ended] = [await signInBound(server, 'nora'), await signInBound(server, 'nora')];
    await signIn(server, 'nora');
    await admin.data(KickSessionDocument, { sessionId: ended.sessionId });

    const statements: string[] = [];
    const listener = (query: { sql: string }) => statements.push(query.sql);
    server.db.on('query', listener);
    const samples = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
    server.db.removeListener('query', listener);
    const one = (name: string) => find(samples, name)[0]?.value;
    assert.equal(one('gatehouse_device_bound_sessions'), 1, 'the bound one; not the ended one, nor the unbound');
    const { activeSessions } = await admin.data(ActiveSessionsDocument, { first: 1 });
    assert.equal(one('gatehouse_active_sessions'), activeSessions.totalCount);
    assert.equal(statements.filter((sql) => /\bsessions\b/.test(sql)).length, 1, statements.join('\n'));

    await admin.data(KickSessionDocument, { sessionId: bound.sessionId });
    const after = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
    assert.equal(find(after, 'gatehouse_device_bound_sessions')[0]?.value, 0, 'its end: bound sessions 0');
    const stillActive = find(after, 'gatehouse_active_sessions')[0]?.value;
    assert.equal(stillActive, activeSessions.totalCount - 1, 'the unbound one and the admins’ still count');
  });
});

describe('who may read /metrics', () => {
  const servers: TestServer[] = [];
  after(() => Promise.all(servers.map((server) => server.stop())));
  const start = async (env: Record<string, string>) => {
    const server = await startTestServer({ env });
    servers.push(server);
    return server;
  };
  const status = (server: TestServer, authorization?: string) =>
    fetch(`${server.url}/metrics`, authorization ? { headers: { authorization } } : {}).then((r) => r.status);

  it('open outside production; 404 in production without METRICS_TOKEN; with it, only its bearer', async () => {
    const token = 'a-metrics-token-of-some-length';
    const development = await start({});
    const production = await start({ NODE_ENV: 'production', COOKIE_SECURE: 'off' });
    const guarded = await start({ NODE_ENV: 'production', COOKIE_SECURE: 'off', METRICS_TOKEN: token });
    assert.equal(await status(development), 200);
    assert.equal(await status(production), 404);
    assert.equal(await status(production, `Bearer ${token}`), 404);
    assert.equal(await status(guarded), 401);
    assert.equal(await status(guarded, 'Bearer wrong-token-of-same-size!!'), 401);
    assert.equal(await status(guarded, `Bearer ${token}x`), 401);
    assert.equal(await status(guarded, `Bearer ${token}`), 200);
  });
});

describe('logs', () => {
  it('the logger censors secret fields wherever they are, and writes one JSON line each', () => {
    let written = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ level: 'debug', destination });
    logger.info('request', {
      password: 'hunter2',
      headers: { cookie: 'gatehouse_session=abc', authorization: 'Bearer xyz' },
      req: { headers: { cookie: 'c', 'set-cookie': 's' } },
      session: { token: 't0ken', tokenHash: 'h4sh' },
      userId: 'kept',
    });
    const line = JSON.parse(written) as Record<string, unknown>;
    assert.deepEqual(line.headers, { cookie: '[redacted]', authorization: '[redacted]' });
    assert.equal(line.password, '[redacted]');
    assert.deepEqual(line.session, { token: '[redacted]', tokenHash: '[redacted]' });
    assert.equal(line.userId, 'kept');
    for (const secret of ['hunter2', 'abc', 'xyz', 't0ken', 'h4sh']) assert.ok(!written.includes(secret), secret);
  });

  it('the real process at LOG_LEVEL=debug writes no cookie, token or password, and logs logins, ends and throttling with public ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-logs-'));
    const secrets = {
      admin: 'an-admin-password-to-find',
      user: 'a-user-password-to-find',
      next: 'the-next-password-to-find',
    };
    try {
      const proc = await GatehouseProcess.start({
        DATABASE_URL: `sqlite:${join(dir, 'g.db')}`,
        ADMIN_USERNAME: 'ops',
        ADMIN_PASSWORD: secrets.admin,
        LOG_LEVEL: 'debug',
      });
      const admin = new TestClient(proc.url);
      const { login } = await admin.data(LoginDocument, { username: 'ops', password: secrets.admin });
      const token = admin.token!;
      await admin.data(MeDocument);
      await admin.request(MeDocument, undefined, { headers: { authorization: `Bearer ${token}` } });
      await admin.data(ReauthenticateDocument, { password: secrets.admin });
      await admin.data(ChangePasswordDocument, { currentPassword: secrets.admin, newPassword: secrets.next });
      const guesser = new TestClient(proc.url);
      for (let i = 0; i < 7; i++)
        await guesser.request(LoginDocument, { username: 'ops', password: `${secrets.user}-${i}` });
      await admin.data(LogoutDocument);
      await new Promise((resolve) => setTimeout(resolve, 200));

      const lines = proc.stderr.split('\n').filter((line) => line !== '');
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const secret of [token, secrets.admin, secrets.user, secrets.next, `gatehouse_session=${token}`]) {
        assert.ok(!proc.stderr.includes(secret) && !proc.stdout.includes(secret), `leaked: ${secret}`);
      }
      const byMessage = (message: string) => entries.filter((entry) => entry.message === message);
      assert.ok(byMessage('login succeeded').some((entry) => entry.sessionId === login.session.id));
      assert.ok(
        byMessage('session ended').some((entry) => entry.sessionId === login.session.id && entry.reason === 'LOGOUT'),
      );
      const throttled = byMessage('login rate limited');
      assert.ok(
        throttled.length > 0 && throttled.every((entry) => entry.level === 'warn' && typeof entry.ip === 'string'),
      );
      assert.ok(entries.every((entry) => typeof entry.time === 'string' && typeof entry.level === 'string'));
    } finally {
      await killAllGatehouseProcesses();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
