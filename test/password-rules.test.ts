/**
 * ASVS 5.0 6.2: a password made of the username or of the service's name, or one of the most
 * common passwords, is refused wherever a password is set: createUser, changePassword,
 * resetPassword, the command line's `users create` and `users reset-password`, and
 * ADMIN_PASSWORD when it creates the first admin. The refusal is BAD_USER_INPUT saying why (never
 * the list entry), the password appears in no log line, and passwords set before still work.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../src/logger.js';
import { commonPasswords, isMadeOf, passwordRefusal } from '../src/sessions/password-rules.js';
import { createArgon2Hasher } from '../src/sessions/passwords.js';
import { usernameSkeleton } from '../src/sessions/username-skeleton.js';
import {
  ChangePasswordDocument,
  CreateUserDocument,
  LoginDocument,
  MeDocument,
  ResetPasswordDocument,
} from './generated/graphql.js';
import { assertRefused, type TestClient } from './support/client.js';
import { createSqliteDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.js';
import { GatehouseProcess, killAllGatehouseProcesses, runCli } from './support/process.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createUser, passwordOf, signIn } from './support/sessions.js';

describe('isMadeOf: what "made of the username" means', () => {
  const cases: Array<[password: string, word: string, madeOf: boolean]> = [
    ['dana', 'dana', true],
    ['DANA', 'dana', true],
    ['Dana2024!', 'dana', true],
    ['2024-dana-2024', 'dana', true],
    ['anad!!!!', 'dana', true],
    ['danadana', 'dana', true],
    ['dana.anad', 'dana', true],
    ['ｄａｎａ１２３４', 'dana', true],
    ['d a n a 1 2', 'dana', true],
    ['dana-password', 'dana', false],
    ['d4n4d4n4', 'dana', false],
    ['danadan', 'dana', false],
    ['12345678', 'dana', false],
    ['dana.smith99', 'dana.smith', true],
    ['smith.dana99', 'dana.smith', false],
    ['bob99bob', 'bob99', true],
    ['2024!2024', '2024', true],
    ['20244202', '2024', true],
    ['2024abcd', '2024', false],
    ['Gatehouse1!', 'gatehouse', true],
    ['esuohetag', 'gatehouse', true],
    ['gatehouse-dana', 'gatehouse', false],
    ['страна2024', 'страна', true],
    ['СТРАНА', 'страна', true],
    ['!!!!!!!!', 'dana', false],
  ];
  for (const [password, word, madeOf] of cases) {
    it(`${JSON.stringify(password)} ${madeOf ? 'is' : 'is not'} made of ${JSON.stringify(word)}`, () => {
      assert.equal(isMadeOf(password, word), madeOf);
    });
  }
});

describe('the common-password list', () => {
  it('ships with the package, holds far more than the top 3,000, and is compared case-insensitively', async () => {
    const common = await commonPasswords();
    assert.ok(common.size > 3_000, `${common.size} entries`);
    for (const password of [
      'password',
      '12345678',
      'qwertyuiop',
      'iloveyou',
      'Password1',
      'PASSW0RD',
      'ｐａｓｓｗｏｒｄ',
    ]) {
      assert.equal(await passwordRefusal(password, 'someone'), 'COMMON_PASSWORD', password);
    }
    for (const password of ['admin-password-for-tests', 'a long passphrase', 'correct horse battery staple']) {
      assert.equal(await passwordRefusal(password, 'someone'), undefined, password);
    }
  });

  it('is read once per process', async () => {
    assert.equal(await commonPasswords(), await commonPasswords());
  });
});

/** A logger that keeps every line, rendered, for a search afterwards. */
function capturingLogger(lines: string[]): Logger {
  const keep = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${message} ${inspect(fields, { depth: 6 })}`);
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

const REFUSED: Array<[password: string, reason: string]> = [
  ['password', 'COMMON_PASSWORD'],
  ['12345678', 'COMMON_PASSWORD'],
  ['Iloveyou', 'COMMON_PASSWORD'],
  ['gatehouse2024', 'MADE_OF_SERVICE_NAME'],
];

for (const kind of DATABASE_KINDS) {
  describe(`where a password is set (${kind})`, () => {
    const lines: string[] = [];
    let server: TestServer;
    let admin: TestClient;
    before(async () => {
      server = await startTestServer({ database: kind, overrides: { logger: capturingLogger(lines) } });
      admin = await server.adminClient();
    });
    after(() => server?.stop());

    /** Why, in words that are the same whatever the password (so naming no list entry). */
    const MESSAGES: Record<string, string> = {
      COMMON_PASSWORD: 'Password is one of the most commonly used passwords: choose another',
      MADE_OF_USERNAME: 'Password must not be made of the username',
      MADE_OF_SERVICE_NAME: "Password must not be made of the service's name (gatehouse)",
    };

    /** BAD_USER_INPUT with the reason and its fixed message, and no log line with the password. */
    function assertPasswordRefused(result: Parameters<typeof assertRefused>[0], password: string, reason: string) {
      assertRefused(result, 'BAD_USER_INPUT', password);
      const [error] = result.errors!;
      assert.deepEqual([error!.message, error!.extensions?.reason], [MESSAGES[reason], reason], password);
      assert.deepEqual(
        lines.filter((line) => line.includes(password)),
        [],
        `${password} in the log`,
      );
    }

    it('createUser: common passwords, and passwords made of the username or "gatehouse", create no user', async () => {
      const refusals: Array<[username: string, password: string, reason: string]> = [
        ...REFUSED.map(([password, reason]): [string, string, string] => ['paula', password, reason]),
        ['paula', 'Paula2024!', 'MADE_OF_USERNAME'],
        ['paula', 'aluap!!!', 'MADE_OF_USERNAME'],
        ['paula', 'PaulaPaula', 'MADE_OF_USERNAME'],
      ];
      for (const [username, password, reason] of refusals) {
        assertPasswordRefused(await admin.request(CreateUserDocument, { username, password }), password, reason);
      }
      assert.equal(await server.db('users').where({ username_key: 'paula' }).first(), undefined);
      await createUser(admin, 'paula', 'paula-password');
    });

    it('changePassword: the same refusals; the current password keeps working', async () => {
      await createUser(admin, 'quinn');
      const { client } = await signIn(server, 'quinn');
      for (const [password, reason] of [...REFUSED, ['Quinn-2024', 'MADE_OF_USERNAME']] as const) {
        const result = await client.request(ChangePasswordDocument, {
          currentPassword: passwordOf('quinn'),
          newPassword: password,
        });
        assertPasswordRefused(result, password, reason);
      }
      assert.equal((await client.data(MeDocument)).me?.username, 'quinn', 'the session stays');
      await signIn(server, 'quinn');
    });

    it("resetPassword: the same refusals, checked against the target's username; its sessions stay", async () => {
      const userId = await createUser(admin, 'rosa');
      const { client } = await signIn(server, 'rosa');
      for (const [password, reason] of [...REFUSED, ['ROSA.rosa', 'MADE_OF_USERNAME']] as const) {
        const result = await admin.request(ResetPasswordDocument, { userId, newPassword: password });
        assertPasswordRefused(result, password, reason);
      }
      assert.equal((await client.data(MeDocument)).me?.username, 'rosa');
      const reset = await admin.request(ResetPasswordDocument, { userId, newPassword: 'admin-password-for-tests' });
      assert.equal(reset.errors, undefined, 'another username is not a rule: admin-… is fine for rosa');
    });

    it('a password set before the rules (only its hash is stored) still signs in', async () => {
      const hasher = createArgon2Hasher(1);
      try {
        const now = server.clock.now().getTime();
        await server.db('users').insert({
          ...{
            id: randomUUID(),
            username: 'olden',
            username_key: 'olden',
            username_skeleton: usernameSkeleton('olden'),
          },
          ...{ password_hash: await hasher.hash('password'), role: 'USER', created_at: now, updated_at: now },
        });
      } finally {
        await hasher.close();
      }
      const result = await server.client().request(LoginDocument, { username: 'olden', password: 'password' });
      assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    });
  });
}

describe('the command line and ADMIN_PASSWORD (SQLite)', () => {
  const databases: TestDatabase[] = [];
  const freshDatabase = () => {
    const database = createSqliteDatabase();
    databases.push(database);
    return database.url;
  };
  after(async () => {
    await killAllGatehouseProcesses();
    for (const database of databases) await database.drop();
  });

  it('users create and users reset-password refuse with the reason on stderr and exit 1', async () => {
    const env = { DATABASE_URL: freshDatabase() };
    const cli = (args: string[], stdin: string) => runCli(args, env, { stdin });
    for (const [args, password, why] of [
      [['users', 'create', 'sven'], 'qwerty123', /most commonly used/],
      [['users', 'create', 'sven'], 'Sven!2024', /made of the username/],
    ] as const) {
      const run = await cli([...args, '--password-stdin'], `${password}\n`);
      assert.equal(run.exit.code, 1, run.stderr);
      assert.match(run.stderr, why);
      assert.match(run.stderr, /BAD_USER_INPUT/);
      assert.ok(!`${run.stdout}${run.stderr}`.includes(password), run.stderr);
    }
    assert.equal((await cli(['users', 'create', 'sven', '--password-stdin'], 'sven-password\n')).exit.code, 0);
    const reset = await cli(['users', 'reset-password', 'sven', '--password-stdin'], 'sunshine1\n');
    assert.equal(reset.exit.code, 1, reset.stderr);
    assert.match(reset.stderr, /most commonly used/);
  });

  it('a common or username-made ADMIN_PASSWORD stops the first start, naming the setting; once an admin exists it is unused', async () => {
    for (const [username, password] of [
      ['ops', 'password1'],
      ['ops', 'OPS-2024'],
    ] as const) {
      const databaseUrl = freshDatabase();
      const proc = await GatehouseProcess.spawn({
        DATABASE_URL: databaseUrl,
        ADMIN_USERNAME: username,
        ADMIN_PASSWORD: password,
      });
      const exit = await proc.waitForExit(60_000);
      assert.notEqual(exit.code, 0, `${password}: ${JSON.stringify(exit)}`);
      assert.match(proc.stderr, /ADMIN_PASSWORD/, proc.stderr);
      assert.ok(!proc.stderr.includes(password), proc.stderr);
    }
    const databaseUrl = freshDatabase();
    const first = await GatehouseProcess.start({
      DATABASE_URL: databaseUrl,
      ADMIN_USERNAME: 'ops',
      ADMIN_PASSWORD: 'ops-password-for-rules',
    });
    first.kill('SIGTERM');
    await first.waitForExit();
    const again = await GatehouseProcess.start({
      DATABASE_URL: databaseUrl,
      ADMIN_USERNAME: 'ops',
      ADMIN_PASSWORD: 'password1',
    });
    await signIn(again, 'ops', 'ops-password-for-rules');
  });
});
