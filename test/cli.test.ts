/**
 * The `gatehouse` command line against running servers: every command's happy path, its bad
 * usage (exit 2) and its failures (exit 1); and a session ended from the command line is ended
 * in both running servers before the command returns (its next request anonymous, its live
 * clients told KICKED, the end counted in each server's metrics), without a warning, on SQLite,
 * on PostgreSQL, and on PostgreSQL with REDIS_URL set (accepted, unused).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { AuthEventsDocument, LoginDocument, MeDocument, SessionRevokedDocument } from './generated/graphql.js';
import { signInBound } from './support/bound-sessions.js';
import { errorCode, TestClient } from './support/client.js';
import { waitFor } from './support/async.js';
import { createPostgresDatabase, POSTGRES_URL, type TestDatabase } from './support/databases.js';
import { openSocket, subscribeWs } from './support/live.js';
import { OwnRedis } from './support/own-services.js';
import { GatehouseProcess, killAllGatehouseProcesses, runCli } from './support/process.js';

const ADMIN = { ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'ops-password-for-cli-tests' };

interface Setup {
  name: string;
  skip: string | false;
  settings(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>;
}

const SETUPS: Setup[] = [
  {
    name: 'SQLite',
    skip: false,
    async settings() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
      return {
        env: { DATABASE_URL: `sqlite:${join(dir, 'g.db')}` },
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: !POSTGRES_URL && 'TEST_POSTGRES_URL is not set',
    async settings() {
      const database: TestDatabase = await createPostgresDatabase();
      return { env: { DATABASE_URL: database.url }, cleanup: () => database.drop() };
    },
  },
  {
    name: 'PostgreSQL with REDIS_URL set',
    skip: !POSTGRES_URL && 'TEST_POSTGRES_URL is not set',
    async settings() {
      const [database, redis] = await Promise.all([createPostgresDatabase(), OwnRedis.create()]);
      return {
        env: { DATABASE_URL: database.url, REDIS_URL: redis.url },
        cleanup: async () => {
          await redis.stop();
          await database.drop();
        },
      };
    },
  },
];

async function signIn(server: GatehouseProcess, username: string, password: string) {
  const client = new TestClient(server.url);
  const { login } = await client.data(LoginDocument, { username, password });
  return { client, sessionId: login.session.id };
}

/** `{ me { id } }` on `server` with `cookie` (a session cookie taken from another server's client). */
async function meOn(server: GatehouseProcess, cookie: string | undefined) {
  return (await server.client(cookie ? { cookie } : {}).data(MeDocument)).me;
}

/** gatehouse_session_ends_total{reason="KICKED"} as `server` counts it. */
async function kicksCounted(server: GatehouseProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((sample) => sample.startsWith('gatehouse_session_ends_total{reason="KICKED"} '));
  return Number(line?.split(' ')[1] ?? NaN);
}

/** The one line a command prints with REDIS_URL set (it is accepted, and unused). */
const REDIS_NOTICE = /REDIS_URL is set but not needed/;

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

for (const setup of SETUPS) {
  describe(`gatehouse sessions kick, with two servers running (${setup.name})`, { skip: setup.skip }, () => {
    const KICKS = 3;
    let env: Record<string, string>;
    let cleanup = async () => {};
    let servers: GatehouseProcess[];
    before(async () => {
      ({ env, cleanup } = await setup.settings());
      const settings = { ...env, ...ADMIN, SWEEP_INTERVAL: '1h' };
      // One after the other: the first migrates the empty database.
      servers = [await GatehouseProcess.start(settings)];
      servers.push(await GatehouseProcess.start(settings));
    });
    after(async () => {
      await killAllGatehouseProcesses();
      await cleanup();
    });

    it('ends the session everywhere before it returns, without a warning: refused by both servers, both live clients told KICKED, counted by both, audited as the command line', async (t) => {
      const counted = await Promise.all(servers.map(kicksCounted));
      const kicked: string[] = [];
      const wallMs: number[] = [];
      for (let i = 0; i < KICKS; i++) {
        const { client, sessionId } = await signIn(servers[i % 2]!, ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD);
        for (const server of servers)
          assert.ok(await meOn(server, client.cookie), 'validated (and cached) by each server');
        const sockets = servers.map((server) => openSocket(server, { cookie: client.cookie }));
        await Promise.all(sockets.map((socket) => socket.connected));
        const revoked = sockets.map((socket) => subscribeWs(socket.client, SessionRevokedDocument));
        await new Promise((resolve) => setTimeout(resolve, 100));

        const startedAt = performance.now();
        const run = await runCli(['sessions', 'kick', sessionId], env);
        const returnedAt = performance.now();
        wallMs.push(returnedAt - startedAt);
        kicked.push(sessionId);
        assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
        assert.equal(run.stdout, `session ${sessionId}: KICKED\n`);
        const warnings = run.stderr
          .split('\n')
          .filter((line) => line !== '' && !(env.REDIS_URL && REDIS_NOTICE.test(line)));
        assert.deepEqual(warnings, [], 'nothing on stderr: no warning');
        const served = await Promise.all(servers.map((server) => meOn(server, client.cookie)));
        assert.deepEqual(served, [null, null], 'served by a server after the command returned');
        for (const subscription of revoked) {
          const [event] = await subscription.received(1, 1_000);
          assert.equal(event?.data?.sessionRevoked.reason, 'KICKED');
          assert.ok(subscription.arrivals[0]! <= returnedAt + 1_000);
        }
        for (const socket of sockets) assert.equal((await socket.closedWithin(1_000)).code, 4403);
      }

      const countedNow = await Promise.all(servers.map(kicksCounted));
      assert.deepEqual(
        countedNow.map((count, index) => count - counted[index]!),
        [KICKS, KICKS],
        'gatehouse_session_ends_total{reason="KICKED"}: every kick on every server',
      );
      const admin = await signIn(servers[0]!, ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD);
      const { authEvents } = await admin.client.data(AuthEventsDocument, { first: 50 });
      const ends = authEvents.edges
        .map(({ node }) => node)
        .filter((event) => event.type === 'SESSION_ENDED' && kicked.includes(event.sessionId ?? ''));
      assert.equal(ends.length, KICKS);
      for (const event of ends) {
        assert.deepEqual([event.reason, event.userAgent, event.actorUserId], ['KICKED', 'gatehouse-cli', null]);
      }
      t.diagnostic(
        `gatehouse sessions kick, wall time: median ${median(wallMs).toFixed(0)} ms of ${wallMs.map((ms) => ms.toFixed(0)).join(', ')}`,
      );
    });
  });
}

describe('gatehouse: every command, its usage and its failures (SQLite, a server running)', () => {
  let env: Record<string, string>;
  let cleanup = async () => {};
  let server: GatehouseProcess;
  const cli = (args: string[], stdin?: string) => runCli(args, env, stdin === undefined ? {} : { stdin });
  const ok = async (args: string[], stdin?: string) => {
    const run = await cli(args, stdin);
    assert.deepEqual(run.exit, { code: 0, signal: null }, `gatehouse ${args.join(' ')}: ${run.stderr}`);
    return run.stdout;
  };
  const json = async <T>(args: string[], stdin?: string) => JSON.parse(await ok([...args, '--json'], stdin)) as T;
  const exitOf = async (args: string[], stdin?: string) => (await cli(args, stdin)).exit.code;

  before(async () => {
    ({ env, cleanup } = await SETUPS[0]!.settings());
    server = await GatehouseProcess.start({ ...env, ...ADMIN, SWEEP_INTERVAL: '1h' });
  });
  after(async () => {
    await killAllGatehouseProcesses();
    await cleanup();
  });

  it('users create, list, set-limit, disable, enable, reset-password and delete: each as the API would', async () => {
    assert.match(await ok(['users', 'create', 'carl', '--password-stdin'], 'carl-password-1\n'), /^created carl \(/);
    assert.equal(
      await exitOf(['users', 'create', 'Carl', '--password-stdin'], 'another-password\n'),
      1,
      'a taken username',
    );
    assert.equal(await exitOf(['users', 'create', 'dina', '--password-stdin'], 'short\n'), 1, 'a too-short password');
    const listed = await json<Array<{ username: string; role: string; activeSessions: number }>>([
      'users',
      'list',
      '--search',
      'CAR',
    ]);
    assert.deepEqual(
      listed.map((user) => [user.username, user.role]),
      [['carl', 'USER']],
    );
    assert.equal((await json<{ sessionLimit: number }>(['users', 'set-limit', 'carl', '2'])).sessionLimit, 2);
    assert.equal(
      (await json<{ sessionLimit: string }>(['users', 'set-limit', 'carl', 'none'])).sessionLimit,
      'default',
    );

    const carl = await signIn(server, 'carl', 'carl-password-1');
    assert.equal((await json<{ disabled: boolean }>(['users', 'disable', 'carl'])).disabled, true);
    assert.equal((await carl.client.data(MeDocument)).me, null, 'its session ended with the disable');
    const refused = await new TestClient(server.url).request(LoginDocument, {
      username: 'carl',
      password: 'carl-password-1',
    });
    assert.equal(errorCode(refused), 'ACCOUNT_DISABLED');
    assert.equal((await json<{ disabled: boolean }>(['users', 'enable', 'carl'])).disabled, false);

    const again = await signIn(server, 'carl', 'carl-password-1');
    await ok(['users', 'reset-password', 'carl', '--password-stdin'], 'carl-password-2\n');
    assert.equal((await again.client.data(MeDocument)).me, null, 'a reset ends every session');
    await signIn(server, 'carl', 'carl-password-2');

    assert.match(await ok(['users', 'delete', 'carl', '--yes']), /^deleted carl/);
    assert.equal(await exitOf(['users', 'delete', 'carl', '--yes']), 1, 'no such user any more');
  });

  it('sessions count, list, revoke-user and revoke-all', async () => {
    await ok(['users', 'create', 'erin', '--password-stdin'], 'erin-password-1\n');
    const [first, second] = [
      await signIn(server, 'erin', 'erin-password-1'),
      await signIn(server, 'erin', 'erin-password-1'),
    ];
    assert.equal((await json<{ activeSessions: number }>(['sessions', 'count', '--user', 'erin'])).activeSessions, 2);
    const listed = await json<Array<{ id: string; user: string }>>(['sessions', 'list', '--user', 'erin']);
    assert.deepEqual(new Set(listed.map((row) => row.id)), new Set([first.sessionId, second.sessionId]));
    assert.match(await ok(['sessions', 'list']), /^id\s+user\s+signedIn/);
    assert.equal((await json<{ ended: number }>(['sessions', 'revoke-user', 'erin'])).ended, 2);
    for (const { client } of [first, second]) assert.equal((await client.data(MeDocument)).me, null);

    const third = await signIn(server, 'erin', 'erin-password-1');
    const total = (await json<{ activeSessions: number }>(['sessions', 'count'])).activeSessions;
    assert.ok(total >= 1);
    assert.equal(await exitOf(['sessions', 'revoke-all']), 2, 'without --yes');
    assert.equal((await json<{ ended: number }>(['sessions', 'revoke-all', '--yes'])).ended, total);
    assert.equal((await third.client.data(MeDocument)).me, null);
    assert.equal((await json<{ activeSessions: number }>(['sessions', 'count'])).activeSessions, 0);
  });

  it('sessions list: a device-bound session says bound yes (JSON: bound, boundAt), any other -', async () => {
    await ok(['users', 'create', 'gwen', '--password-stdin'], 'gwen-password-1\n');
    const bound = await signInBound(server, 'gwen', 'gwen-password-1');
    const unbound = await signIn(server, 'gwen', 'gwen-password-1');
    const listed = await json<Array<{ id: string; bound: boolean; boundAt: string | null }>>([
      'sessions',
      'list',
      '--user',
      'gwen',
    ]);
    assert.deepEqual(
      new Map(listed.map((row) => [row.id, [row.bound, row.boundAt]])),
      new Map([
        [bound.sessionId, [true, bound.boundAt.toISOString()]],
        [unbound.sessionId, [false, null]],
      ]),
    );
    const [header, ...lines] = (await ok(['sessions', 'list', '--user', 'gwen'])).trimEnd().split('\n');
    assert.match(header!, /^id\s+user\s+signedIn\s+lastSeen\s+expires\s+ip\s+bound\s+device$/);
    const boundColumn = (id: string) => lines.find((line) => line.startsWith(id))?.split(/\s+/)[6];
    assert.equal(boundColumn(bound.sessionId), 'yes');
    assert.equal(boundColumn(unbound.sessionId), '-');

    const filter = await cli(['sessions', 'list', '--bound']);
    assert.equal(filter.exit.code, 2, 'no option filters by binding');
    assert.match(filter.stderr, /^gatehouse sessions list: Unknown option '--bound'/);
    assert.match(filter.stderr, /Column bound: yes for a session bound to its device/);
    assert.equal((await json<{ ended: number }>(['sessions', 'revoke-user', 'gwen'])).ended, 2);
  });

  it('service-tokens create, list and revoke: the token printed once, the running server refusing it within a second', async () => {
    const created = await ok(['service-tokens', 'create', '--name', 'billing api', '--scope', 'READ_SESSIONS']);
    const [line, note, token, end] = created.split('\n');
    assert.match(line!, /^created service token billing api \([0-9a-f-]{36}\), READ_SESSIONS\.$/);
    assert.deepEqual([note, end], ['Its token, shown only this once:', '']);
    assert.match(token!, /^ghs_[A-Za-z0-9_-]{43}$/);
    const both = await json<{ id: string; scopes: string[]; token: string }>([
      ...['service-tokens', 'create', '--name', 'audit', '--scope', 'VERIFY_SESSIONS', '--scope', 'READ_SESSIONS'],
    ]);
    assert.deepEqual(both.scopes, ['VERIFY_SESSIONS', 'READ_SESSIONS']);

    const service = server.client({ authorization: `Bearer ${token}` });
    await service.data('{ sessionStats { activeSessions } }');
    type Listed = Array<{ id: string; name: string; createdBy: null; lastUsedAt: string | null }>;
    // The server writes last use behind, within a second: the list shows it once written.
    const listed = await waitFor('the list to show the last use', async () => {
      const rows = await json<Listed>(['service-tokens', 'list']);
      return rows.find((row) => row.name === 'billing api')?.lastUsedAt ? rows : undefined;
    });
    const billing = listed.find((row) => row.name === 'billing api')!;
    assert.ok(billing.lastUsedAt, 'listed with its last use');
    assert.equal(billing.createdBy, null, 'created from the command line');
    assert.ok(!JSON.stringify(listed).includes(token!.slice(4)), 'the list never shows a token');
    const [header] = (await ok(['service-tokens', 'list'])).split('\n');
    assert.match(header!, /^id\s+scopes\s+createdAt\s+createdBy\s+lastUsedAt\s+revokedAt\s+name$/);

    assert.equal(
      await ok(['service-tokens', 'revoke', billing.id]),
      `revoked service token billing api (${billing.id})\n`,
    );
    const returnedAt = performance.now();
    await waitFor(
      'the server to refuse the revoked token',
      async () => errorCode(await service.request('{ sessionStats { activeSessions } }')) === 'UNAUTHENTICATED',
    );
    const refusedMs = performance.now() - returnedAt;
    assert.ok(refusedMs < 1_000, `refused ${refusedMs.toFixed(0)} ms after the command returned`);
    assert.equal(
      await ok(['service-tokens', 'revoke', billing.id]),
      `revoked service token billing api (${billing.id})\n`,
    );
    assert.ok(!(await json<Array<{ id: string }>>(['service-tokens', 'list'])).some((row) => row.id === billing.id));
    const all = await json<Array<{ id: string; revokedAt: string | null }>>(['service-tokens', 'list', '--all']);
    const revokedAt = all.find((row) => row.id === billing.id)?.revokedAt;
    const revokedJson = await json<{ revokedAt: string }>(['service-tokens', 'revoke', billing.id]);
    assert.ok(revokedAt, 'listed with --all, with its revokedAt');
    assert.equal(revokedJson.revokedAt, revokedAt, 'revoke --json names it as list does');

    const usage: Array<[string[], RegExp]> = [
      [['service-tokens', 'create', '--scope', 'READ_SESSIONS'], /--name is required/],
      [['service-tokens', 'create', '--name', 'x'], /give at least one --scope/],
      [['service-tokens', 'create', '--name', 'x', '--scope', 'ADMIN'], /unknown scope 'ADMIN'/],
      [['service-tokens', 'revoke'], /expected ID/],
    ];
    for (const [args, message] of usage) {
      const run = await cli(args);
      assert.equal(run.exit.code, 2, args.join(' '));
      assert.match(run.stderr, message);
    }
    const failures: Array<[string[], RegExp]> = [
      [
        ['service-tokens', 'create', '--name', 'audit', '--scope', 'READ_SESSIONS'],
        /already exists \(BAD_USER_INPUT\)/,
      ],
      [['service-tokens', 'create', '--name', ' ', '--scope', 'READ_SESSIONS'], /must not be empty \(BAD_USER_INPUT\)/],
      [['service-tokens', 'revoke', 'no-such-token'], /No such service token \(NOT_FOUND\)/],
    ];
    for (const [args, message] of failures) {
      const run = await cli(args);
      assert.equal(run.exit.code, 1, args.join(' '));
      assert.match(run.stderr, message);
    }
  });

  it('counts in words: 1 session, 2 sessions', async () => {
    await ok(['users', 'create', 'finn', '--password-stdin'], 'finn-password-1\n');
    await signIn(server, 'finn', 'finn-password-1');
    assert.equal(await ok(['sessions', 'count', '--user', 'finn']), '1 active session of finn\n');
    assert.equal(await ok(['sessions', 'revoke-user', 'finn']), 'ended 1 session of finn\n');
    assert.equal(await ok(['sessions', 'count', '--user', 'finn']), '0 active sessions of finn\n');
    await signIn(server, 'finn', 'finn-password-1');
    await signIn(server, 'finn', 'finn-password-1');
    assert.equal(await ok(['sessions', 'count', '--user', 'finn']), '2 active sessions of finn\n');
    assert.equal(await ok(['sessions', 'revoke-user', 'finn']), 'ended 2 sessions of finn\n');
  });

  it('an unknown command is named, with the nearest ones when it looks like a slip: exit 2, then the usage', async () => {
    const cases: Array<[args: string[], message: string]> = [
      [['bogus'], "unknown command 'bogus'"],
      [['bogus', 'thing'], "unknown command 'bogus'"],
      [['sweap'], "unknown command 'sweap'; did you mean 'sweep'?"],
      [['kick', 'x'], "unknown command 'kick'; did you mean 'sessions kick'?"],
      [['sesions', 'kick', 'x'], "unknown command 'sesions kick'; did you mean 'sessions kick'?"],
      [['users', 'lsit'], "unknown command 'users lsit'; did you mean 'users list'?"],
      [['users', 'bogus'], "unknown command 'users bogus'"],
      [['list'], "unknown command 'list'; did you mean 'users list' or 'sessions list' or 'service-tokens list'?"],
      [['service-token', 'list'], "unknown command 'service-token list'; did you mean 'service-tokens list'?"],
      [['service-tokens'], "'service-tokens' needs one more word: create, list, revoke"],
      [
        ['users'],
        "'users' needs one more word: list, create, disable, enable, delete, set-limit, reset-password, reset-factors",
      ],
      [['--json'], 'options come after the command: gatehouse <command> --json'],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      assert.equal(run.exit.code, 2, `gatehouse ${args.join(' ')}`);
      assert.equal(run.stdout, '');
      const [first, empty, usage] = run.stderr.split('\n');
      assert.deepEqual([first, empty, usage], [`gatehouse: ${message}`, '', 'usage: gatehouse <command> [options]']);
    }
    const bare = await cli([]);
    assert.equal(bare.exit.code, 2);
    assert.match(bare.stderr, /^usage: gatehouse <command>/, 'no command at all: the usage alone');
  });

  it('migrate and sweep', async () => {
    assert.match(await ok(['migrate']), /^migrated: \d+ applied, 0 pending/);
    assert.match(await ok(['sweep']), /^expired \d+ sessions?, deleted \d+ old rows? and \d+ old audit events?\n$/);
  });

  it('bad usage exits 2 with the usage on stderr; --help exits 0', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['users'],
      ['users', 'disable'],
      ['users', 'list', '--bogus'],
      ['users', 'set-limit', 'x', 'lots'],
      ['sessions', 'kick', 'a', 'b'],
    ]) {
      const run = await cli(args);
      assert.equal(run.exit.code, 2, `gatehouse ${args.join(' ')}`);
      assert.match(run.stderr, /usage: gatehouse/, `gatehouse ${args.join(' ')}`);
    }
    assert.match(await ok(['--help']), /usage: gatehouse <command>/);
    assert.match(await ok(['users', '--help']), /usage: gatehouse <command>/, 'a group: the commands');
    for (const command of [['users', 'create'], ['sessions', 'revoke-all'], ['migrate']]) {
      assert.match(await ok([...command, '--help']), new RegExp(`usage: gatehouse ${command.join(' ')}`));
    }
  });

  it('failures exit 1 with the reason on stderr: a bad setting, an unknown session, an unreachable database', async () => {
    const badSetting = await runCli(['sessions', 'count'], { ...env, SESSION_MAX_AGE: 'soon' });
    assert.equal(badSetting.exit.code, 1);
    assert.match(badSetting.stderr, /SESSION_MAX_AGE/);
    const unknown = await cli(['sessions', 'kick', '00000000-0000-4000-8000-000000000000']);
    assert.equal(unknown.exit.code, 1);
    assert.match(unknown.stderr, /No such session \(NOT_FOUND\)/);
    const down = await runCli(['sessions', 'count'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    assert.equal(down.exit.code, 1);
    assert.match(down.stderr, /cannot be reached/);
  });
});
