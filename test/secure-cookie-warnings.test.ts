/**
 * A browser drops a `Secure` cookie that comes over plain HTTP (except on its own machine), and
 * the user is signed out at once with no reason given. The real process says so in its log: at
 * start, when `COOKIE_SECURE` is on, `HOST` is not loopback and `TRUST_PROXY` is off; and at
 * the first login that is answered with a Secure cookie over plain HTTP to a browser elsewhere
 * (no TLS, no trusted `X-Forwarded-Proto: https`), once per process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { print } from 'graphql';
import { WhoamiDocument } from './generated/graphql.js';
import { waitFor } from './support/async.js';
import { rawRequest } from './support/http.js';
import { GatehouseProcess, killAllGatehouseProcesses } from './support/process.js';
import { signIn } from './support/sessions.js';

const BOUNDED = { timeout: 90_000 };
const ADMIN = { ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'ops-password-for-cookie-tests' };
const START_WARNING = /COOKIE_SECURE is on, HOST=.* TRUST_PROXY is off/;
const LOGIN_WARNING = /Secure cookie over plain HTTP/;

/**
 * This machine's first address off loopback: a server listening there is reached over a real
 * interface, so the peer it sees is not loopback. Undefined on a machine with none.
 */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

interface LogLine {
  level: string;
  message: string;
  ip?: string;
}

function warnings(proc: GatehouseProcess, pattern: RegExp): LogLine[] {
  return proc.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.level === 'warn' && pattern.test(line.message));
}

/**
 * Makes the process log one line of its own (a refused origin) and waits for it: every line
 * the requests before it caused is then in `stderr` too, so an absence means something.
 */
async function flushLog(proc: GatehouseProcess): Promise<void> {
  await rawRequest(proc.url, {
    headers: { origin: 'https://log-sentinel.example', 'content-type': 'application/json' },
    body: JSON.stringify({ query: print(WhoamiDocument) }),
  });
  await waitFor(`the sentinel in the log:\n${proc.stderr}`, () => proc.stderr.includes('log-sentinel.example'));
}

const login = (proc: GatehouseProcess, headers: Record<string, string> = {}) =>
  signIn(proc, ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD, headers);

describe('COOKIE_SECURE over plain HTTP: warnings in the log of the real process', () => {
  const dirs: string[] = [];
  const start = (settings: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cookie-'));
    dirs.push(dir);
    return GatehouseProcess.start({ DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`, ...ADMIN, ...settings });
  };

  after(async () => {
    await killAllGatehouseProcesses();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'HOST off loopback without TRUST_PROXY: a warning at start, and one (only) at the first login over it',
    { ...BOUNDED, skip: lanAddress === undefined && 'this machine has no address off loopback' },
    async () => {
      const proc = await start({ HOST: lanAddress!, COOKIE_SECURE: 'on' });
      const [startWarning, ...more] = warnings(proc, START_WARNING);
      assert.ok(startWarning, `no start warning:\n${proc.stderr}`);
      assert.equal(more.length, 0);
      assert.match(startWarning.message, new RegExp(`HOST=${lanAddress!.replaceAll('.', '\\.')}`));
      assert.match(startWarning.message, /TRUST_PROXY=on/);
      assert.match(startWarning.message, /HTTPS/);

      for (let attempt = 0; attempt < 2; attempt++) {
        const signedIn = await login(proc);
        // The cookie is sent all the same: the warning changes nothing of the answer.
        assert.match(signedIn.client.cookie ?? '', /^__Host-/);
      }
      await flushLog(proc);
      const loginWarnings = warnings(proc, LOGIN_WARNING);
      assert.equal(loginWarnings.length, 1, proc.stderr);
      assert.equal(loginWarnings[0]?.ip, lanAddress);
      assert.match(loginWarnings[0]?.message ?? '', /TRUST_PROXY=on/);
      assert.ok(!proc.stderr.includes('ops-password'), 'no password in the log');
    },
  );

  it(
    'TRUST_PROXY on: X-Forwarded-Proto: https and loopback browsers are quiet; the first plain-HTTP login warns, once',
    BOUNDED,
    async () => {
      const proc = await start({ HOST: '127.0.0.1', COOKIE_SECURE: 'on', TRUST_PROXY: 'on' });
      assert.deepEqual(warnings(proc, START_WARNING), []);
      await login(proc, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1' });
      await login(proc, { 'x-forwarded-proto': 'http,https', 'x-forwarded-for': '198.51.100.2' });
      await login(proc); // a browser on this machine: it keeps Secure cookies over http://localhost
      await login(proc, { 'x-forwarded-proto': 'http', 'x-forwarded-for': '203.0.113.9' });
      await login(proc, { 'x-forwarded-proto': 'http', 'x-forwarded-for': '203.0.113.10' });
      await flushLog(proc);
      // One line, and from the first plain-HTTP login: none of the ones before it warned.
      assert.deepEqual(
        warnings(proc, LOGIN_WARNING).map((line) => line.ip),
        ['203.0.113.9'],
        proc.stderr,
      );
    },
  );

  it('quiet when HOST is loopback, and when COOKIE_SECURE is off', BOUNDED, async () => {
    const settings = [
      { HOST: '127.0.0.1', COOKIE_SECURE: 'on' },
      ...(lanAddress ? [{ HOST: lanAddress, COOKIE_SECURE: 'off' }] : []),
    ];
    await Promise.all(
      settings.map(async (setting) => {
        const proc = await start(setting);
        await login(proc);
        await flushLog(proc);
        assert.deepEqual(warnings(proc, START_WARNING), [], JSON.stringify(setting));
        assert.deepEqual(warnings(proc, LOGIN_WARNING), [], JSON.stringify(setting));
      }),
    );
  });
});
