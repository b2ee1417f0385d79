import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { print } from 'graphql';
import {
  LoginDocument,
  LogoutDocument,
  MeDocument,
  TypenameDocument,
  WhoamiDocument,
  type LoginMutation,
} from './generated/graphql.js';
import { sleep, within } from './support/async.js';
import { GatehouseProcess, killAllGatehouseProcesses } from './support/process.js';
import { assertAnonymous, signIn } from './support/sessions.js';

const ADMIN = { username: 'ops', password: 'ops-password-for-process-tests' };
const GENERATED_PASSWORD_LINE = /^.*password: (\S+)$/m;

describe('the real process (node --import tsx src/main.ts)', () => {
  const dirs: string[] = [];
  /** A database file in a fresh folder that `after` removes. */
  const freshDatabase = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-process-'));
    dirs.push(dir);
    return join(dir, 'gatehouse.db');
  };

  after(async () => {
    await killAllGatehouseProcesses();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a bad setting stops the start: non-zero exit, a message naming the setting and its value', async () => {
    const cases: Array<{ env: Record<string, string>; setting: string; value: string }> = [
      { env: { SESSION_MAX_AGE: 'soon' }, setting: 'SESSION_MAX_AGE', value: 'soon' },
      { env: { MAX_SESSIONS_PER_USER: '-1' }, setting: 'MAX_SESSIONS_PER_USER', value: '-1' },
      { env: { DATABASE_URL: 'mysql://x' }, setting: 'DATABASE_URL', value: 'mysql://x' },
    ];
    await Promise.all(
      cases.map(async ({ env, setting, value }) => {
        const path = freshDatabase();
        const proc = await GatehouseProcess.spawn({ DATABASE_URL: `sqlite:${path}`, ...ADMIN_ENV, ...env });
        const exit = await proc.waitForExit();
        assert.notEqual(exit.code, 0, `${setting}: exit ${JSON.stringify(exit)}`);
        assert.equal(exit.signal, null);
        assert.ok(proc.stderr.includes(setting), `${setting}: stderr was ${proc.stderr}`);
        assert.ok(proc.stderr.includes(value), `${setting}: stderr was ${proc.stderr}`);
        // A message for an operator, not a crash dump.
        assert.ok(!proc.stderr.includes('    at '), `${setting}: stack trace in ${proc.stderr}`);
        // It stopped before touching the database.
        assert.equal(existsSync(path), false);
      }),
    );
  });

  it('the first start without ADMIN_* prints a password that signs admin in; a second start prints none', async () => {
    const path = freshDatabase();
    const first = await GatehouseProcess.start({ DATABASE_URL: `sqlite:${path}` });
    const [line, password] = await first.waitForStdout(GENERATED_PASSWORD_LINE);
    assert.ok(password && password.length >= 16, line);
    assert.ok(line.includes('admin'), line);
    assert.equal(first.stdout.match(/password/g)?.length, 1, first.stdout);
    // Printed once, on stdout: not in the structured logs.
    assert.ok(!first.stderr.includes(password));

    const admin = await signIn(first, 'admin', password);
    const { me } = await admin.client.data(MeDocument);
    assert.equal(me?.username, 'admin');
    assert.equal(me?.role, 'ADMIN');
    const wrong = await first.client().request(LoginDocument, { username: 'admin', password: 'guess' });
    assert.equal(wrong.errors?.[0]?.extensions?.code, 'INVALID_CREDENTIALS');

    first.kill('SIGTERM');
    assert.equal((await first.waitForExit()).code, 0);
    // Stored only as a hash.
    assert.equal(readFileSync(path).includes(password), false);

    const second = await GatehouseProcess.start({ DATABASE_URL: `sqlite:${path}` });
    // The admin is not recreated and no new password is printed; the first one still works.
    const again = await signIn(second, 'admin', password);
    assert.equal((await again.client.data(MeDocument)).me?.role, 'ADMIN');
    second.kill('SIGTERM');
    assert.equal((await second.waitForExit()).code, 0);
    assert.equal(second.stdout.includes('password'), false, second.stdout);
  });

  it('durability: a logout acknowledged just before kill -9 stays ended; another session survives', async () => {
    const path = freshDatabase();
    const first = await GatehouseProcess.start({ DATABASE_URL: `sqlite:${path}`, ...ADMIN_ENV });
    const a = await signIn(first, ADMIN.username, ADMIN.password);
    const b = await signIn(first, ADMIN.username, ADMIN.password);
    assert.notEqual(a.session.id, b.session.id);
    // What a.client holds now: the logout clears its jar.
    const [aCookie, aToken] = [a.client.cookie ?? '', a.client.token];

    assert.equal((await a.client.data(LogoutDocument)).logout, true);
    first.kill('SIGKILL');
    const exit = await first.waitForExit();
    assert.equal(exit.signal, 'SIGKILL');

    const second = await GatehouseProcess.start({ DATABASE_URL: `sqlite:${path}`, ...ADMIN_ENV });
    await assertAnonymous(second.client({ cookie: aCookie }), 'the logged-out cookie');
    await assertAnonymous(second.client({ authorization: `Bearer ${aToken}` }), 'the logged-out token');

    const replayB = second.client({ cookie: b.client.cookie ?? '' });
    const whoB = await replayB.data(WhoamiDocument);
    assert.equal(whoB.me?.username, ADMIN.username);
    assert.equal(whoB.currentSession?.id, b.session.id);

    second.kill('SIGTERM');
    assert.equal((await second.waitForExit()).code, 0);
  });

  it('SIGTERM: stops accepting, finishes the request in flight, closes the database and exits 0', async () => {
    const path = freshDatabase();
    const proc = await GatehouseProcess.start({ DATABASE_URL: `sqlite:${path}`, ...ADMIN_ENV });
    assert.ok(existsSync(`${path}-wal`), 'WAL file expected while running');

    // A login whose body is still arriving when SIGTERM comes: in flight, and it needs the database.
    const body = JSON.stringify({ query: print(LoginDocument), variables: ADMIN });
    const half = Math.floor(body.length / 2);
    const inFlight = request(`${proc.url}/graphql`, {
      method: 'POST',
      // No keep-alive here: the next test covers a kept-alive connection.
      agent: false,
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        'content-length': Buffer.byteLength(body),
      },
    });
    const response = new Promise<{ status: number; setCookie: string[]; text: string }>((resolve, reject) => {
      inFlight.on('error', reject);
      inFlight.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [], text }));
        res.on('error', reject);
      });
    });
    inFlight.write(body.slice(0, half));
    await sleep(200); // the server has the request's headers

    proc.kill('SIGTERM');
    await sleep(300);
    assert.equal(proc.running, true, 'exited with a request in flight');
    // No new connections once stopping.
    await assert.rejects(fetch(`${proc.url}/healthz`, { signal: AbortSignal.timeout(2000) }));

    inFlight.end(body.slice(half));
    const done = await within(response, 5000, 'the in-flight response');
    assert.equal(done.status, 200, done.text);
    const answer = JSON.parse(done.text) as { data?: LoginMutation; errors?: unknown };
    assert.equal(answer.errors, undefined, done.text);
    assert.equal(answer.data?.login.user.username, ADMIN.username);
    assert.equal(done.setCookie.length, 1);

    // Promptly: well before main.ts's 10 s forced exit (which exits 1).
    const exit = await proc.waitForExit(3000);
    assert.deepEqual(exit, { code: 0, signal: null }, proc.stderr);
    assert.ok(!/"level":"error"/.test(proc.stderr), proc.stderr);
    // The last connection closed cleanly: SQLite checkpointed and removed the WAL file.
    assert.equal(existsSync(`${path}-wal`), false);
  });

  it('SIGTERM: a kept-alive connection is released after its in-flight request, and the process exits promptly', async () => {
    const path = freshDatabase();
    const proc = await GatehouseProcess.start({ DATABASE_URL: `sqlite:${path}`, ...ADMIN_ENV });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = JSON.stringify({ query: print(TypenameDocument) });
      const send = (slow: boolean) =>
        new Promise<{ status: number; at: number }>((resolve, reject) => {
          const req = request(`${proc.url}/graphql`, {
            agent,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          });
          req.on('error', reject);
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, at: Date.now() }));
          });
          if (!slow) return void req.end(body);
          req.write(body.slice(0, 5));
          setTimeout(() => req.end(body.slice(5)), 400);
        });
      const inFlight = send(true);
      await sleep(150);
      proc.kill('SIGTERM');
      const first = await within(inFlight, 5000, 'the in-flight response');
      assert.equal(first.status, 200);
      // Steady traffic on the same kept-alive connection, as from a reverse proxy, must not keep
      // the process alive: it should exit 0 within 2 s of the in-flight response.
      const deadline = first.at + 2000;
      while (proc.running && Date.now() < deadline) {
        await send(false).catch(() => undefined);
        await sleep(100);
      }
      await proc.waitForExit(Math.max(1, deadline - Date.now()));
      assert.equal(proc.exit?.code, 0);
    } finally {
      agent.destroy();
      proc.kill('SIGKILL');
    }
  });
});

const ADMIN_ENV = { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password };
