/**
 * Security tests (issue 5): hostile input, brute force, CSRF/CORS, headers, introspection and
 * the audit log, each against a real server over real HTTP and a real database. docs/security.md
 * maps the OWASP ASVS 5.0 requirements to the tests below by name.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { print } from 'graphql';
import type { App } from '../src/app.js';
import {
  AuthEventsDocument,
  ChangePasswordDocument,
  CreateUserDocument,
  KickSessionDocument,
  LoginDocument,
  LogoutDocument,
  MeDocument,
  RevokeOtherSessionsDocument,
  RevokeUserSessionsDocument,
  SetUserSessionLimitDocument,
  SchemaTypeNamesDocument,
  SessionTypeFieldsDocument,
  TypenameDocument,
  WhoamiDocument,
  type AuthEventsQuery,
  type Role,
} from './generated/graphql.js';
import { runSweeper } from './support/app.js';
import { assertRefused, errorCode, TestClient, type GraphQLResponse } from './support/client.js';
import { ManualClock } from './support/clock.js';
import { healthz, rawRequest, type RawRequest, type RawResponse } from './support/http.js';
import { tryUpgrade } from './support/live.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.js';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  QUIET_SWEEPER,
  startAppOn,
  startTestServer,
  type TestServer,
} from './support/server.js';
import { createUser, findSessionRow, passwordOf, sessionRow, signIn, type SignedIn } from './support/sessions.js';

/** Every test is bounded: a hung request fails its test instead of the run. */
const BOUNDED = { timeout: 60_000 };
/** The throttle window (src/sessions/throttle.ts): one hour. */
const THROTTLE_WINDOW_MS = 3_600_000;

/** Who the request is: what the raw-HTTP cases below send, as the generated document prints. */
const ME_QUERY = print(WhoamiDocument);

// ---------------------------------------------------------------------------------------------
// Raw HTTP: what a hostile client can send that fetch() would not (or would fix up for us).
// ---------------------------------------------------------------------------------------------

/** A JSON GraphQL POST with exactly these headers (plus the content type). */
function rawGraphql(baseUrl: string, headers: OutgoingHttpHeaders, query = ME_QUERY): Promise<RawResponse> {
  return rawRequest(baseUrl, {
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string; [key: string]: unknown } }>;
}

function parseGraphql(response: RawResponse): GraphQLBody {
  try {
    return JSON.parse(response.body) as GraphQLBody;
  } catch {
    assert.fail(`not JSON (status ${response.status}): ${response.body.slice(0, 200)}`);
  }
}

function tally(codes: ReadonlyArray<string | undefined>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[String(code)] = (counts[String(code)] ?? 0) + 1;
  return counts;
}

function retryAfterSeconds(result: GraphQLResponse<unknown>): number {
  const value = result.errors?.[0]?.extensions?.retryAfterSeconds;
  assert.equal(typeof value, 'number', `retryAfterSeconds missing: ${JSON.stringify(result.errors)}`);
  return value as number;
}

/** A query `levels` fields deep: me { sessions { user { sessions … { id } } } }. */
function deepQuery(levels: number): string {
  let inner = 'id';
  for (let level = levels - 2; level >= 1; level--) inner = `${level % 2 === 1 ? 'sessions' : 'user'} { ${inner} }`;
  return `{ me { ${inner} } }`;
}

const loginField = (alias: string, username: string, password: string) =>
  `${alias}: login(username: ${JSON.stringify(username)}, password: ${JSON.stringify(password)}) { user { id } }`;

/** A Gatehouse on an existing `database`, with the sweeper kept quiet like the suites here. */
const startQuietAppOn = (database: TestDatabase, clock: ManualClock, env: Record<string, string> = {}) =>
  startAppOn(database, clock, { ...QUIET_SWEEPER, ...env });

// ---------------------------------------------------------------------------------------------
// Database state: what "nothing lost" means.
// ---------------------------------------------------------------------------------------------

interface Snapshot {
  userIds: Set<string>;
  sessionIds: Set<string>;
  loginEvents: number;
  throttles: string;
}

async function snapshot(server: TestServer): Promise<Snapshot> {
  const users = (await server.db('users').select('id')) as Array<{ id: string }>;
  const sessions = (await server.db('sessions').select('id')) as Array<{ id: string }>;
  const loginEvents = (await server
    .db('auth_events')
    .whereIn('type', ['LOGIN_SUCCEEDED', 'LOGIN_FAILED', 'LOGIN_RATE_LIMITED'])
    .count({ count: '*' })
    .first()) as { count: number | string } | undefined;
  const throttles = (await server.db('login_throttles').select().orderBy('key')) as unknown[];
  return {
    userIds: new Set(users.map((row) => row.id)),
    sessionIds: new Set(sessions.map((row) => row.id)),
    loginEvents: Number(loginEvents?.count ?? 0),
    throttles: JSON.stringify(throttles),
  };
}

for (const kind of DATABASE_KINDS) {
  // -------------------------------------------------------------------------------------------
  describe(`security: bad input (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;
    /** Signed in before the suite; every case checks that it still works afterwards. */
    let keeper: SignedIn;

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      await createUser(admin.client, 'keeper');
      keeper = await signIn(server, 'keeper');
    });
    after(() => server.stop());

    /**
     * Runs one hostile case, then checks that the server is up, the keeper's session still
     * works, and no user or session row was lost (or added, beyond `added`).
     */
    async function hostile(
      label: string,
      attack: () => Promise<void>,
      added: { users: number; sessions: number } = { users: 0, sessions: 0 },
    ): Promise<void> {
      const beforeState = await snapshot(server);
      await attack();
      assert.equal(await healthz(server), 200, `${label}: /healthz`);
      const whoami = await keeper.client.data(WhoamiDocument);
      assert.equal(whoami.me?.id, keeper.user.id, `${label}: the keeper is no longer signed in`);
      assert.equal(whoami.currentSession?.id, keeper.session.id, `${label}: the keeper's session changed`);
      const afterState = await snapshot(server);
      for (const id of beforeState.userIds) assert.ok(afterState.userIds.has(id), `${label}: user ${id} lost`);
      for (const id of beforeState.sessionIds) assert.ok(afterState.sessionIds.has(id), `${label}: session ${id} lost`);
      assert.equal(afterState.userIds.size, beforeState.userIds.size + added.users, `${label}: users row count`);
      assert.equal(
        afterState.sessionIds.size,
        beforeState.sessionIds.size + added.sessions,
        `${label}: sessions row count`,
      );
    }

    it('malformed JSON: 400 with a code, and nothing else happens', BOUNDED, async () => {
      for (const body of ['{"query": "{ me { id } }"', '{query: me}', '', '\u0000\u0001', '[', 'null']) {
        await hostile(`malformed ${JSON.stringify(body)}`, async () => {
          const response = await rawRequest(server.url, {
            headers: { 'content-type': 'application/json', cookie: keeper.client.cookie ?? '' },
            body,
          });
          assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.body}`);
          const parsed = parseGraphql(response);
          assert.equal(parsed.data ?? null, null);
          assert.equal(typeof parsed.errors?.[0]?.extensions?.code, 'string', response.body);
        });
      }
    });

    it('a 5 MB body is refused with 413 before it is read', BOUNDED, async () => {
      await hostile('5 MB body', async () => {
        const body = JSON.stringify({ query: ME_QUERY, variables: { padding: 'x'.repeat(5 * 1024 * 1024) } });
        const response = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: keeper.client.cookie ?? '' },
          body,
          signal: AbortSignal.timeout(20_000),
        });
        assert.equal(response.status, 413);
        const parsed = (await response.json()) as GraphQLBody;
        assert.equal(parsed.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      });
    });

    it('a chunked body without Content-Length is refused with 411', BOUNDED, async () => {
      await hostile('chunked body', async () => {
        const json = JSON.stringify({ query: ME_QUERY });
        const response = await rawRequest(server.url, {
          headers: { 'content-type': 'application/json', cookie: keeper.client.cookie ?? '' },
          chunks: [json.slice(0, 10), json.slice(10)],
        });
        assert.equal(response.status, 411, response.body);
        assert.equal(parseGraphql(response).errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      });
    });

    it(
      'a body cut off halfway (the client goes away) leaves the server up and the next request answered',
      BOUNDED,
      async () => {
        await hostile('half a body', async () => {
          const json = JSON.stringify({ query: ME_QUERY });
          const { port } = new URL(server.url);
          const socket = connect(Number(port), '127.0.0.1');
          await once(socket, 'connect');
          socket.write(
            `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
              `Content-Length: ${json.length}\r\n\r\n${json.slice(0, json.length >> 1)}`,
          );
          await new Promise((resolve) => setTimeout(resolve, 50));
          socket.destroy();
          await once(socket, 'close');
        });
      },
    );

    it('a batched request (a JSON array) is refused: batching is off', BOUNDED, async () => {
      await hostile('batch', async () => {
        const response = await rawRequest(server.url, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([
            { query: `mutation { ${loginField('a', 'keeper', 'guess-1')} }` },
            { query: `mutation { ${loginField('a', 'keeper', 'guess-2')} }` },
          ]),
        });
        assert.equal(response.status, 400, response.body);
        assert.equal(parseGraphql(response).data ?? null, null);
      });
    });

    it('a 30-level query is BAD_USER_INPUT (depth limit 10); 10 levels still work', BOUNDED, async () => {
      await hostile('30 levels', async () => {
        const result = await keeper.client.request(deepQuery(30));
        assertRefused(result, 'BAD_USER_INPUT', '30 levels');
        assert.match(result.errors?.[0]?.message ?? '', /depth limit of 10/i);
      });
      // The limit is not refusing everything: a legitimate deep query is answered.
      const ok = await keeper.client.request(deepQuery(10));
      assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    });

    it('200 aliases are BAD_USER_INPUT (alias limit 15)', BOUNDED, async () => {
      await hostile('200 aliases', async () => {
        const query = `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
        const result = await keeper.client.request(query);
        assertRefused(result, 'BAD_USER_INPUT', '200 aliases');
        assert.match(result.errors?.[0]?.message ?? '', /aliases limit of 15/i);
      });
    });

    it(
      '11 directives, 2,100 tokens and a costly (but shallow, alias-free) query are BAD_USER_INPUT',
      BOUNDED,
      async () => {
        await hostile('directives/tokens/cost', async () => {
          const directives = await keeper.client.request(`{ me { id ${'@include(if: true) '.repeat(11)}} }`);
          assertRefused(directives, 'BAD_USER_INPUT', 'directives');
          assert.match(directives.errors?.[0]?.message ?? '', /directives limit of 10/i);

          const tokens = await keeper.client.request(`{ me { ${'id '.repeat(2_100)}} }`);
          assertRefused(tokens, 'BAD_USER_INPUT', 'tokens');
          assert.match(tokens.errors?.[0]?.message ?? '', /token limit of 2000/i);

          // Depth 9, no alias, ~430 tokens: only the cost analysis stands in its way.
          const costly = await keeper.client.request(
            `{ me { sessions { user { sessions { user { sessions { user { sessions { ${'id '.repeat(400)}} } } } } } } } }`,
          );
          assertRefused(costly, 'BAD_USER_INPUT', 'cost');
          assert.match(costly.errors?.[0]?.message ?? '', /cost limit of 5000/i);
        });
      },
    );

    it('20 aliased logins in one mutation are BAD_USER_INPUT, and not one login is attempted', BOUNDED, async () => {
      await hostile('20 aliased logins', async () => {
        const beforeState = await snapshot(server);
        const attacker = server.client();
        const query = `mutation { ${Array.from({ length: 20 }, (_, i) => loginField(`l${i}`, 'keeper', `guess-${i}`)).join(' ')} }`;
        const result = await attacker.request(query);
        assertRefused(result, 'BAD_USER_INPUT', '20 logins');
        assert.equal(attacker.cookie, undefined);
        const afterState = await snapshot(server);
        assert.equal(afterState.loginEvents, beforeState.loginEvents, 'a login was attempted (audit log)');
        assert.equal(afterState.throttles, beforeState.throttles, 'a login was attempted (throttle counters)');
      });
    });

    it(
      'two logins (aliases, fragments, inline fragments, or with changePassword) are BAD_USER_INPUT; none runs',
      BOUNDED,
      async () => {
        const documents = {
          'two aliases': `mutation { ${loginField('a', 'keeper', passwordOf('keeper'))} ${loginField('b', 'keeper', 'guess')} }`,
          'login inside two fragments': `mutation { ...A ...B }
          fragment A on Mutation { ${loginField('a', 'keeper', 'guess-a')} }
          fragment B on Mutation { ${loginField('b', 'keeper', 'guess-b')} }`,
          'login inside a fragment twice (nested)': `mutation { ...A }
          fragment A on Mutation { ${loginField('a', 'keeper', 'guess-a')} ...B }
          fragment B on Mutation { ${loginField('b', 'keeper', 'guess-b')} }`,
          'inline fragments': `mutation { ... on Mutation { ${loginField('a', 'keeper', 'guess-a')} } ... on Mutation { ${loginField('b', 'keeper', 'guess-b')} } }`,
          'login and changePassword': `mutation { ${loginField('a', 'keeper', 'guess-a')} changePassword(currentPassword: "guess-b", newPassword: "new-password-123") }`,
        };
        for (const [label, query] of Object.entries(documents)) {
          await hostile(label, async () => {
            const beforeState = await snapshot(server);
            const result = await keeper.client.request(query);
            assertRefused(result, 'BAD_USER_INPUT', label);
            assert.match(result.errors?.[0]?.message ?? '', /only one login/i, label);
            const afterState = await snapshot(server);
            assert.equal(afterState.loginEvents, beforeState.loginEvents, `${label}: a login was attempted`);
            assert.equal(afterState.throttles, beforeState.throttles, `${label}: a failure was counted`);
          });
        }
        // The rule counts fields, not spreads: one login spread twice is one login (merged by GraphQL).
        const once = await server
          .client()
          .request(
            `mutation { ...A ...A } fragment A on Mutation { ${loginField('a', 'keeper', passwordOf('keeper'))} }`,
          );
        assert.equal(once.errors, undefined, JSON.stringify(once.errors));
      },
    );

    it(
      'garbage cookies and bearer tokens of every shape are anonymous with HTTP 200, never a 500',
      BOUNDED,
      async () => {
        const storedHash = createHash('sha256')
          .update(keeper.client.token ?? '')
          .digest('hex');
        const garbage: Record<string, string> = {
          empty: '',
          '8 KB': 'x'.repeat(8 * 1024),
          // Sent as raw bytes by node:http (latin1 = one byte per char): UTF-8 of Cyrillic and an emoji.
          'non-ASCII UTF-8 bytes': Buffer.from('ключ-🔑-é', 'utf8').toString('latin1'),
          'invalid UTF-8 bytes': Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28]).toString('latin1'),
          'SQL-looking': "' OR '1'='1' --",
          'SQL-looking, token-length': "x' OR 1=1; DROP TABLE sessions; --aaaaaaaaa".slice(0, 43),
          'path-like': '../../../../etc/passwd',
          'absolute path': '/dev/zero',
          'well-formed but unknown': randomBytes(32).toString('base64url'),
          // What a stolen database dump holds: the hash does not sign anyone in.
          'the stored token_hash': storedHash,
          'a real token with one character more': `${keeper.client.token}A`,
          'a real token one character short': (keeper.client.token ?? '').slice(0, -1),
        };
        for (const [label, value] of Object.entries(garbage)) {
          await hostile(label, async () => {
            const placements: OutgoingHttpHeaders[] = [
              { cookie: `gatehouse_session=${value}` },
              { cookie: value === '' ? 'gatehouse_session' : value },
              { cookie: `gatehouse_session=${value}; gatehouse_session=other-${label.length}` },
              { authorization: `Bearer ${value}` },
              { authorization: value },
            ];
            for (const headers of placements) {
              const where = `${label} in ${JSON.stringify(headers).slice(0, 80)}`;
              const response = await rawGraphql(server.url, headers);
              assert.equal(response.status, 200, `${where}: ${response.body.slice(0, 200)}`);
              const parsed = parseGraphql(response);
              assert.equal(parsed.errors, undefined, `${where}: ${JSON.stringify(parsed.errors)}`);
              assert.deepEqual(parsed.data, { me: null, currentSession: null }, where);
              const verify = await rawRequest(server.url, { method: 'GET', path: '/auth/verify', headers });
              assert.equal(verify.status, 401, `${where}: /auth/verify`);
            }
          });
        }
        await hostile('a 20 KB cookie: over the 16 KB header limit of Node, 431', async () => {
          const response = await rawGraphql(server.url, { cookie: `gatehouse_session=${'x'.repeat(20 * 1024)}` });
          assert.equal(response.status, 431);
        });
        await hostile('Bearer without a token, and several cookies of one name', async () => {
          for (const headers of [
            { authorization: 'Bearer' },
            { authorization: 'Bearer ' },
            { authorization: 'Bearer    ' },
            { authorization: 'Basic Og==' },
            { cookie: 'gatehouse_session=; gatehouse_session=' },
            { cookie: 'gatehouse_session=a; gatehouse_session=b; gatehouse_session=c' },
            { cookie: ';;;=;gatehouse_session;=gatehouse_session' },
          ] as OutgoingHttpHeaders[]) {
            const response = await rawGraphql(server.url, headers);
            assert.equal(response.status, 200, JSON.stringify(headers));
            assert.deepEqual(
              parseGraphql(response),
              { data: { me: null, currentSession: null } },
              JSON.stringify(headers),
            );
          }
        });
      },
    );

    it(
      'SQL-looking usernames: INVALID_CREDENTIALS at login, BAD_USER_INPUT at createUser; the tables are intact',
      BOUNDED,
      async () => {
        const sqlNames = ["' OR 1=1 --", "admin'--", 'admin" OR ""="', "x'); DROP TABLE users; --"];
        for (const username of sqlNames) {
          await hostile(`login ${username}`, async () => {
            const result = await server.client().request(LoginDocument, { username, password: "' OR '1'='1" });
            assertRefused(result, 'INVALID_CREDENTIALS', username);
          });
          await hostile(`createUser ${username}`, async () => {
            const result = await admin.client.request(CreateUserDocument, {
              username: username,
              password: 'a-long-enough-password',
            });
            assertRefused(result, 'BAD_USER_INPUT', username);
          });
        }
        // The admin still signs in: the users table was not touched.
        await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      },
    );

    it(
      'overlong usernames and passwords are BAD_USER_INPUT at createUser and at login, without a password hash',
      BOUNDED,
      async () => {
        const create = (username: string, password: string) =>
          admin.client.request(CreateUserDocument, { username, password });
        await hostile('createUser 65-character username', async () => {
          assertRefused(await create('u'.repeat(65), 'a-long-enough-password'), 'BAD_USER_INPUT');
        });
        await hostile('createUser 257-character password', async () => {
          assertRefused(await create('longpass', 'p'.repeat(257)), 'BAD_USER_INPUT');
        });
        await hostile('createUser 2-character username and 7-character password', async () => {
          assertRefused(await create('ab', 'a-long-enough-password'), 'BAD_USER_INPUT');
          assertRefused(await create('shorty', '1234567'), 'BAD_USER_INPUT');
        });
        await hostile(
          'createUser at the limits (64 and 256 characters) is accepted',
          async () => {
            const result = await create('u'.repeat(64), 'p'.repeat(256));
            assert.equal(result.errors, undefined, JSON.stringify(result.errors));
          },
          { users: 1, sessions: 0 },
        );
        for (const [label, username, password] of [
          ['login 8 KB username', 'u'.repeat(8 * 1024), 'whatever-password'],
          ['login 8 KB password', 'keeper', 'p'.repeat(8 * 1024)],
        ] as const) {
          await hostile(label, async () => {
            const beforeState = await snapshot(server);
            assertRefused(
              await server.client().request(LoginDocument, { username, password }),
              'BAD_USER_INPUT',
              label,
            );
            // Refused before the throttle and the hash: nothing was counted or logged.
            const afterState = await snapshot(server);
            assert.equal(afterState.throttles, beforeState.throttles, label);
            assert.equal(afterState.loginEvents, beforeState.loginEvents, label);
          });
        }
      },
    );

    it('Alice and alice cannot both exist; ALICE and fullwidth ａｌｉｃｅ sign in as alice', BOUNDED, async () => {
      let aliceId = '';
      await hostile(
        'createUser alice',
        async () => {
          aliceId = await createUser(admin.client, 'alice');
        },
        { users: 1, sessions: 0 },
      );
      for (const username of ['Alice', 'ALICE', 'ａｌｉｃｅ', ' alice ', 'Ａｌｉｃｅ']) {
        await hostile(`createUser ${username}`, async () => {
          const result = await admin.client.request(CreateUserDocument, {
            username: username,
            password: 'another-password',
          });
          assertRefused(result, 'BAD_USER_INPUT', username);
        });
      }
      for (const username of ['ALICE', 'ａｌｉｃｅ']) {
        await hostile(
          `login ${username}`,
          async () => {
            const signedIn = await signIn(server, username, passwordOf('alice'));
            assert.equal(signedIn.user.id, aliceId);
            assert.equal(signedIn.user.username, 'alice');
          },
          { users: 0, sessions: 1 },
        );
      }
      // The impostor's password never became alice's.
      assertRefused(
        await server.client().request(LoginDocument, { username: 'Alice', password: 'another-password' }),
        'INVALID_CREDENTIALS',
      );
      const rows = (await server.db('users').where({ username_key: 'alice' })) as unknown[];
      assert.equal(rows.length, 1);
    });

    it(
      'a NUL byte in the login username is BAD_USER_INPUT before any query (PostgreSQL text cannot hold one)',
      BOUNDED,
      async () => {
        await hostile('NUL in username', async () => {
          const beforeState = await snapshot(server);
          const result = await server
            .client()
            .request(LoginDocument, { username: 'kee\u0000per', password: 'whatever-pw' });
          assertRefused(result, 'BAD_USER_INPUT', 'NUL');
          const afterState = await snapshot(server);
          assert.equal(afterState.throttles, beforeState.throttles);
          assert.equal(afterState.loginEvents, beforeState.loginEvents);
        });
      },
    );

    it(
      'a username that NFKC expands past 64 characters (U+FDFA becomes 18) is BAD_USER_INPUT at login and at createUser',
      BOUNDED,
      async () => {
        await hostile('U+FDFA at login', async () => {
          const username = '\uFDFA'.repeat(200);
          assert.ok(username.normalize('NFKC').length > 3_000);
          const result = await server.client().request(LoginDocument, { username, password: 'whatever-pw' });
          assertRefused(result, 'BAD_USER_INPUT', 'U+FDFA × 200');
        });
        await hostile('U+FDFA at createUser', async () => {
          // 60 characters as typed (under the limit of 64), 1,080 once normalised.
          const result = await admin.client.request(CreateUserDocument, {
            username: '\uFDFA'.repeat(60),
            password: 'a-long-enough-password',
          });
          assertRefused(result, 'BAD_USER_INPUT', 'U+FDFA × 60');
        });
      },
    );

    it('a variable of the wrong type (a NoSQL-style object for a String) is 400 BAD_USER_INPUT', BOUNDED, async () => {
      await hostile('object variable', async () => {
        const username = { $gt: '' } as unknown as string;
        const result = await server.client().request(LoginDocument, { username, password: 'whatever-pw' });
        assert.equal(result.status, 400);
        assertRefused(result, 'BAD_USER_INPUT', 'object variable');
      });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe(`security: brute force (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      // TRUST_PROXY lets each test act from its own client IP (X-Forwarded-For), so the per-IP
      // counter of one test does not leak into the next.
      server = await startTestServer({ database: kind, env: { ...QUIET_SWEEPER, TRUST_PROXY: 'on' } });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    });
    after(() => server.stop());

    const from = (ip: string) => server.client({ 'x-forwarded-for': ip });
    const attempt = (ip: string, username: string, password: string) =>
      from(ip).request(LoginDocument, { username, password });

    async function loginEventCount(type: string, filter: Record<string, string>): Promise<number> {
      const row = (await server
        .db('auth_events')
        .where({ type, ...filter })
        .count({ count: '*' })
        .first()) as { count: number | string } | undefined;
      return Number(row?.count ?? 0);
    }

    it(
      '40 wrong passwords for one account from one client end in RATE_LIMITED; even the right password waits; after the window it works; other accounts are unaffected',
      BOUNDED,
      async () => {
        const ip = '198.51.100.40';
        const brunoId = await createUser(admin.client, 'bruno');
        await createUser(admin.client, 'carla');
        const attacker = from(ip);
        const results: Array<GraphQLResponse<unknown>> = [];
        for (let i = 0; i < 40; i++) {
          const result = await attacker.request(LoginDocument, { username: 'bruno', password: `wrong-${i}` });
          assert.equal(result.status, 200);
          assert.deepEqual(result.headers.getSetCookie(), [], `attempt ${i} set a cookie`);
          results.push(result);
        }
        const codes = results.map((result) => errorCode(result));
        assert.deepEqual(tally(codes), { INVALID_CREDENTIALS: 5, RATE_LIMITED: 35 });
        assert.deepEqual(codes.slice(0, 5), Array(5).fill('INVALID_CREDENTIALS'));
        assert.deepEqual(codes.slice(5), Array(35).fill('RATE_LIMITED'));
        const last = results[39];
        assert.ok(last);
        assert.ok(retryAfterSeconds(last) > 0);
        // Only the 5 verified attempts count as failures; the refused ones are logged as such.
        assert.equal(await loginEventCount('LOGIN_FAILED', { user_id: brunoId }), 5);
        assert.equal(await loginEventCount('LOGIN_RATE_LIMITED', { username: 'bruno' }), 35);

        // While limited, the right password is refused too, from this client or any other.
        for (const otherIp of [ip, '198.51.100.41']) {
          const right = await attempt(otherIp, 'bruno', passwordOf('bruno'));
          assertRefused(right, 'RATE_LIMITED', `right password from ${otherIp}`);
          assert.deepEqual(right.headers.getSetCookie(), []);
        }
        assert.equal((await server.db('sessions').where({ user_id: brunoId })).length, 0);

        // Another account signs in from the very same client during the lockout.
        const carla = await signIn(server, 'carla', passwordOf('carla'), { 'x-forwarded-for': ip });
        assert.equal((await carla.client.data(MeDocument)).me?.username, 'carla');

        // Past the window, the right password works.
        server.clock.advance(THROTTLE_WINDOW_MS + 1_000);
        const bruno = await signIn(server, 'bruno', passwordOf('bruno'), { 'x-forwarded-for': ip });
        assert.equal(bruno.user.id, brunoId);
      },
    );

    it('a successful login clears the account counter: the next wrong passwords start from zero', BOUNDED, async () => {
      const ip = '198.51.100.50';
      await createUser(admin.client, 'dora');
      for (let i = 0; i < 5; i++) assertRefused(await attempt(ip, 'dora', `wrong-${i}`), 'INVALID_CREDENTIALS');
      const limited = await attempt(ip, 'dora', 'wrong-5');
      assertRefused(limited, 'RATE_LIMITED');
      // The real user only waits out the current delay, not the hour.
      server.clock.advance(retryAfterSeconds(limited) * 1_000);
      await signIn(server, 'dora', passwordOf('dora'), { 'x-forwarded-for': ip });
      assert.equal((await server.db('login_throttles').where({ key: 'account:dora' })).length, 0);
      // Without the reset the second of these would already be RATE_LIMITED.
      for (let i = 0; i < 5; i++) {
        assertRefused(await attempt(ip, 'dora', `again-${i}`), 'INVALID_CREDENTIALS', `after success, attempt ${i}`);
      }
      const again = await attempt(ip, 'dora', 'again-5');
      assertRefused(again, 'RATE_LIMITED');
      assert.equal(retryAfterSeconds(again), 1);
    });

    it(
      'each further failure doubles the delay (1 s … 512 s, then 15 min): an attacker who waits out every delay gets 17 guesses in the hour, far under 100',
      BOUNDED,
      async () => {
        const ip = '198.51.100.60';
        await createUser(admin.client, 'emil');
        const start = server.clock.now().getTime();
        const delays: number[] = [];
        let guesses = 0;
        for (let i = 0; server.clock.now().getTime() - start < THROTTLE_WINDOW_MS; i++) {
          assert.ok(i < 200, 'runaway loop');
          const result = await attempt(ip, 'emil', `guess-${i}`);
          if (errorCode(result) === 'INVALID_CREDENTIALS') {
            guesses++;
            continue;
          }
          assertRefused(result, 'RATE_LIMITED');
          const seconds = retryAfterSeconds(result);
          delays.push(seconds);
          server.clock.advance(seconds * 1_000);
        }
        assert.deepEqual(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert.equal(guesses, 17);
        assert.ok(guesses <= 100);
        // And after the last delay the real user gets in.
        await signIn(server, 'emil', passwordOf('emil'), { 'x-forwarded-for': '198.51.100.61' });
      },
    );

    it(
      'an unknown username is throttled exactly like a real one: the lockout does not reveal which accounts exist',
      BOUNDED,
      async () => {
        await createUser(admin.client, 'fiona');
        const seen: Record<string, Array<[string | undefined, string | undefined, unknown]>> = {};
        for (const [username, ip] of [
          ['fiona', '198.51.100.70'],
          ['ghost-fiona', '198.51.100.71'],
        ] as const) {
          seen[username] = [];
          for (let i = 0; i < 8; i++) {
            const result = await attempt(ip, username, `guess-${i}`);
            seen[username].push([errorCode(result), result.errors?.[0]?.message, result.errors?.[0]?.extensions]);
          }
        }
        assert.deepEqual(seen['ghost-fiona'], seen['fiona']);
        assert.equal(seen['fiona']?.[5]?.[0], 'RATE_LIMITED');
      },
    );

    it(
      'per-IP throttling across many accounts: 25 unknown usernames from one X-Forwarded-For end in RATE_LIMITED',
      BOUNDED,
      async () => {
        const ip = '203.0.113.50';
        await createUser(admin.client, 'gus');
        const codes: Array<string | undefined> = [];
        for (let i = 0; i < 25; i++) codes.push(errorCode(await attempt(ip, `nobody-${i}`, 'guess')));
        assert.deepEqual(codes.slice(0, 20), Array(20).fill('INVALID_CREDENTIALS'));
        assert.deepEqual(codes.slice(20), Array(5).fill('RATE_LIMITED'));
        // From that address even a real user with the right password waits…
        assertRefused(await attempt(ip, 'gus', passwordOf('gus')), 'RATE_LIMITED');
        // …and entries the client adds in front of the proxy's own do not change the address.
        assertRefused(
          await server
            .client({ 'x-forwarded-for': `10.9.8.7, ${ip}` })
            .request(LoginDocument, { username: 'gus', password: passwordOf('gus') }),
          'RATE_LIMITED',
        );
        // From another address the same user signs in.
        await signIn(server, 'gus', passwordOf('gus'), { 'x-forwarded-for': '203.0.113.51' });
      },
    );

    it(
      'throttling holds under concurrency: 40 simultaneous logins for 40 accounts from one IP get at most 20 password checks; 40 simultaneous guesses at one account get 5',
      BOUNDED,
      async () => {
        const ip = '203.0.113.60';
        const perIp = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(ip, `parallel-${i}`, 'guess')));
        const ipCounts = tally(perIp.map((result) => errorCode(result)));
        assert.ok((ipCounts.INVALID_CREDENTIALS ?? 0) <= 20, `password checks: ${JSON.stringify(ipCounts)}`);
        assert.equal((ipCounts.INVALID_CREDENTIALS ?? 0) + (ipCounts.RATE_LIMITED ?? 0), 40, JSON.stringify(ipCounts));

        await createUser(admin.client, 'hector');
        const perAccount = await Promise.all(
          Array.from({ length: 40 }, (_, i) => attempt(`203.0.113.${100 + i}`, 'hector', `guess-${i}`)),
        );
        assert.deepEqual(tally(perAccount.map((result) => errorCode(result))), {
          INVALID_CREDENTIALS: 5,
          RATE_LIMITED: 35,
        });
      },
    );

    it(
      'usernames that NFKC expands (U+FDFA) buy no unthrottled password checks and no internal errors',
      BOUNDED,
      async () => {
        const ip = '203.0.113.70';
        const codes: Array<string | undefined> = [];
        for (let i = 0; i < 25; i++) codes.push(errorCode(await attempt(ip, `${'\uFDFA'.repeat(200)}${i}`, 'guess')));
        const counts = tally(codes);
        assert.ok((counts.INVALID_CREDENTIALS ?? 0) <= 20, JSON.stringify(counts));
        for (const code of codes) {
          assert.ok(
            ['BAD_USER_INPUT', 'INVALID_CREDENTIALS', 'RATE_LIMITED'].includes(code ?? ''),
            JSON.stringify(counts),
          );
        }
      },
    );
  });

  // -------------------------------------------------------------------------------------------
  describe(`security: throttle counters survive a restart (${kind})`, () => {
    let database: TestDatabase;
    const running = new Set<App>();

    before(async () => {
      database = await createTestDatabase(kind);
    });
    after(async () => {
      for (const app of running) await app.stop();
      await database.drop();
    });

    async function startOn(clock: ManualClock): Promise<{ app: App; url: string }> {
      const started = await startQuietAppOn(database, clock);
      running.add(started.app);
      return started;
    }

    async function stop(app: App): Promise<void> {
      running.delete(app);
      await app.stop();
    }

    it(
      'an account rate-limited before a restart is still rate-limited, with the same delay, after it',
      BOUNDED,
      async () => {
        const clock = new ManualClock();
        const first = await startOn(clock);
        const adminClient = new TestClient(first.url);
        await adminClient.data(LoginDocument, { username: ADMIN_USERNAME, password: ADMIN_PASSWORD });
        await createUser(adminClient, 'rita');
        const attacker = new TestClient(first.url);
        const guess = (i: number) => attacker.request(LoginDocument, { username: 'rita', password: `wrong-${i}` });
        for (let i = 0; i < 5; i++) assertRefused(await guess(i), 'INVALID_CREDENTIALS');
        // Wait out three delays, so the state is more than "5 failures": the next delay is 8 s.
        for (let i = 5; i < 8; i++) {
          const limited = await guess(100 + i);
          assertRefused(limited, 'RATE_LIMITED');
          clock.advance(retryAfterSeconds(limited) * 1_000);
          assertRefused(await guess(i), 'INVALID_CREDENTIALS');
        }
        const beforeRestart = await guess(99);
        assert.equal(retryAfterSeconds(beforeRestart), 8);
        await stop(first.app);

        // A new app, new process state, same database and the same time.
        const clockAfter = new ManualClock(clock.now());
        const second = await startOn(clockAfter);
        const rita = new TestClient(second.url);
        const stillLimited = await rita.request(LoginDocument, { username: 'rita', password: passwordOf('rita') });
        assertRefused(stillLimited, 'RATE_LIMITED', 'after restart');
        assert.equal(retryAfterSeconds(stillLimited), 8);
        clockAfter.advance(8_000);
        assert.equal(
          errorCode(await rita.request(LoginDocument, { username: 'rita', password: passwordOf('rita') })),
          undefined,
        );
        await stop(second.app);
      },
    );
  });

  // -------------------------------------------------------------------------------------------
  if (kind === 'postgres') {
    describe('security: throttling across two instances on one database (postgres)', () => {
      let database: TestDatabase;
      const instances: Array<{ app: App; url: string }> = [];

      before(async () => {
        database = await createTestDatabase('postgres');
        // One after the other: both migrate and make sure the admin exists.
        instances.push(await startQuietAppOn(database, new ManualClock(), { TRUST_PROXY: 'on' }));
        instances.push(await startQuietAppOn(database, new ManualClock(), { TRUST_PROXY: 'on' }));
      });
      after(async () => {
        for (const { app } of instances) await app.stop();
        await database.drop();
      });

      it(
        '40 simultaneous logins from one IP, spread over both instances, get at most 20 password checks',
        BOUNDED,
        async () => {
          const results = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              new TestClient(instances[i % 2]?.url ?? '', { 'x-forwarded-for': '203.0.113.80' }).request(
                LoginDocument,
                { username: `spread-${i}`, password: 'guess' },
              ),
            ),
          );
          const counts = tally(results.map((result) => errorCode(result)));
          assert.ok((counts.INVALID_CREDENTIALS ?? 0) <= 20, `password checks: ${JSON.stringify(counts)}`);
        },
      );
    });
  }

  // -------------------------------------------------------------------------------------------
  describe(`security: audit log (${kind})`, () => {
    const ADMIN_IP = '198.51.100.1';
    const URSULA_IP = '203.0.113.5';
    const ATTACKER_IP = '192.0.2.66';
    const URSULA_PASSWORD = `ursula-${randomBytes(6).toString('hex')}`;
    const URSULA_NEW_PASSWORD = `ursula-new-${randomBytes(6).toString('hex')}`;
    const WRONG_PASSWORDS = Array.from({ length: 6 }, () => `wrong-${randomBytes(9).toString('hex')}`);

    let server: TestServer;
    let admin: SignedIn;
    let ursulaId = '';
    /** Every token handed out in this suite: none may reach the database. */
    const tokens: string[] = [];
    /** Session ids by role in the sequence. */
    const s: Record<string, string> = {};
    let events: AuthEventNode[] = [];

    before(async () => {
      server = await startTestServer({
        database: kind,
        env: { ...QUIET_SWEEPER, TRUST_PROXY: 'on', SESSION_LIMIT_STRATEGY: 'deny-new' },
      });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD, {
        'x-forwarded-for': ADMIN_IP,
        'user-agent': 'admin-console/1.0',
      });
      tokens.push(admin.client.token ?? '');
    });
    after(() => server.stop());

    async function ursulaSignsIn(label: string, password = URSULA_PASSWORD): Promise<SignedIn> {
      const signedIn = await signIn(server, 'ursula', password, {
        'x-forwarded-for': URSULA_IP,
        'user-agent': 'ursula-laptop/2.0',
      });
      tokens.push(signedIn.client.token ?? '');
      s[label] = signedIn.session.id;
      return signedIn;
    }

    /** Exactly one event has all of `expected`'s fields (null included); returns it. */
    function expectEvent(expected: Partial<AuthEventNode>, label: string): AuthEventNode {
      const keys = Object.keys(expected) as Array<keyof AuthEventNode>;
      const matches = events.filter((event) => keys.every((key) => event[key] === expected[key]));
      const sameType = events.filter((event) => event.type === expected.type);
      assert.equal(
        matches.length,
        1,
        `${label}: ${matches.length} events match ${JSON.stringify(expected)}; of that type: ${JSON.stringify(sameType, null, 1)}`,
      );
      return matches[0] as AuthEventNode;
    }

    it('records every event kind with the right user, session, reason, actor, IP and user agent', BOUNDED, async () => {
      // USER_CREATED
      ursulaId = await createUser(admin.client, 'ursula', URSULA_PASSWORD);
      // LOGIN_FAILED ×5, then LOGIN_RATE_LIMITED
      const attacker = server.client({ 'x-forwarded-for': ATTACKER_IP, 'user-agent': 'attacker/0.1' });
      for (const password of WRONG_PASSWORDS.slice(0, 5)) {
        assertRefused(await attacker.request(LoginDocument, { username: 'ursula', password }), 'INVALID_CREDENTIALS');
      }
      const limited = await attacker.request(LoginDocument, { username: 'ursula', password: WRONG_PASSWORDS[5] ?? '' });
      assertRefused(limited, 'RATE_LIMITED');
      server.clock.advance(retryAfterSeconds(limited) * 1_000);
      // LOGIN_SUCCEEDED
      await ursulaSignsIn('first');
      // SESSION_ENDED LOGOUT
      const loggingOut = await ursulaSignsIn('loggedOut');
      assert.equal((await loggingOut.client.data(LogoutDocument)).logout, true);
      // SESSION_ENDED KICKED by the admin
      await ursulaSignsIn('kicked');
      await admin.client.data(KickSessionDocument, { sessionId: s.kicked ?? '' });
      // SESSION_ENDED USER_SESSIONS_REVOKED by the admin (first, revokedA, revokedB)
      await ursulaSignsIn('revokedA');
      await ursulaSignsIn('revokedB');
      assert.equal((await admin.client.data(RevokeUserSessionsDocument, { userId: ursulaId })).revokeUserSessions, 3);
      // SESSION_ENDED USER_SESSIONS_REVOKED by ursula herself
      const main = await ursulaSignsIn('main');
      await ursulaSignsIn('otherDevice');
      assert.equal((await main.client.data(RevokeOtherSessionsDocument)).revokeOtherSessions, 1);
      // PASSWORD_CHANGED, and SESSION_ENDED PASSWORD_CHANGED for her other session
      await ursulaSignsIn('beforePasswordChange');
      const changed = await main.client.data(ChangePasswordDocument, {
        currentPassword: URSULA_PASSWORD,
        newPassword: URSULA_NEW_PASSWORD,
      });
      assert.equal(changed.changePassword, true);
      // SESSION_LIMIT_CHANGED, then SESSION_LIMIT_REACHED (deny-new, one session is open: main)
      await admin.client.data(SetUserSessionLimitDocument, { userId: ursulaId, limit: 1 });
      const denied = await server
        .client({ 'x-forwarded-for': URSULA_IP, 'user-agent': 'ursula-phone/3.0' })
        .request(LoginDocument, { username: 'ursula', password: URSULA_NEW_PASSWORD });
      assertRefused(denied, 'SESSION_LIMIT');
      // SESSION_ENDED EXPIRED by the sweeper: main idles out (24 h) while the admin stays active.
      server.clock.advance(12 * 3_600_000);
      await admin.client.data(MeDocument);
      server.clock.advance(12 * 3_600_000 + 60_000);
      const swept = await runSweeper(server);
      assert.equal(swept.expired, 1);

      events = await allEvents(admin.client);
      const adminId = admin.user.id;
      const byAdmin = { actorUserId: adminId, ipAddress: ADMIN_IP, userAgent: 'admin-console/1.0' };
      const byUrsula = { actorUserId: ursulaId, ipAddress: URSULA_IP, userAgent: 'ursula-laptop/2.0' };

      expectEvent({ type: 'USER_CREATED', userId: ursulaId, sessionId: null, reason: null, ...byAdmin }, 'created');
      const failed = events.filter((event) => event.type === 'LOGIN_FAILED' && event.userId === ursulaId);
      assert.equal(failed.length, 5);
      for (const event of failed) {
        assert.deepEqual(pick(event, ['username', 'sessionId', 'actorUserId', 'ipAddress', 'userAgent', 'reason']), {
          username: 'ursula',
          sessionId: null,
          actorUserId: null,
          ipAddress: ATTACKER_IP,
          userAgent: 'attacker/0.1',
          reason: null,
        });
      }
      expectEvent(
        { type: 'LOGIN_RATE_LIMITED', username: 'ursula', sessionId: null, actorUserId: null, ipAddress: ATTACKER_IP },
        'rate limited',
      );
      const succeeded = expectEvent(
        { type: 'LOGIN_SUCCEEDED', sessionId: s.first, userId: ursulaId, actorUserId: null, ipAddress: URSULA_IP },
        'login',
      );
      assert.equal(succeeded.userAgent, 'ursula-laptop/2.0');
      expectEvent(
        { type: 'SESSION_ENDED', sessionId: s.loggedOut, userId: ursulaId, reason: 'LOGOUT', ...byUrsula },
        'logout',
      );
      expectEvent(
        { type: 'SESSION_ENDED', sessionId: s.kicked, userId: ursulaId, reason: 'KICKED', ...byAdmin },
        'kick',
      );
      // revokeUserSessions (three sessions at once): see the next test.
      expectEvent(
        {
          type: 'SESSION_ENDED',
          sessionId: s.otherDevice,
          userId: ursulaId,
          reason: 'USER_SESSIONS_REVOKED',
          ...byUrsula,
        },
        'revokeOtherSessions',
      );
      expectEvent(
        { type: 'PASSWORD_CHANGED', userId: ursulaId, sessionId: s.main, reason: null, ...byUrsula },
        'password',
      );
      expectEvent(
        {
          type: 'SESSION_ENDED',
          sessionId: s.beforePasswordChange,
          userId: ursulaId,
          reason: 'PASSWORD_CHANGED',
          ...byUrsula,
        },
        'password ends the others',
      );
      expectEvent({ type: 'SESSION_LIMIT_CHANGED', userId: ursulaId, sessionId: null, ...byAdmin }, 'limit changed');
      expectEvent(
        {
          type: 'SESSION_LIMIT_REACHED',
          userId: ursulaId,
          sessionId: null,
          actorUserId: ursulaId,
          ipAddress: URSULA_IP,
          userAgent: 'ursula-phone/3.0',
        },
        'limit reached',
      );
      expectEvent(
        {
          type: 'SESSION_ENDED',
          sessionId: s.main,
          userId: ursulaId,
          reason: 'EXPIRED',
          actorUserId: null,
          ipAddress: null,
          userAgent: null,
        },
        'expiry',
      );
      // Every event kind of the schema appeared.
      assert.deepEqual([...new Set(events.map((event) => event.type))].sort(), [
        'LOGIN_FAILED',
        'LOGIN_RATE_LIMITED',
        'LOGIN_SUCCEEDED',
        'PASSWORD_CHANGED',
        'SESSION_ENDED',
        'SESSION_LIMIT_CHANGED',
        'SESSION_LIMIT_REACHED',
        'USER_CREATED',
      ]);
      // Timestamps are the (test) clock's, in UTC ISO-8601.
      for (const event of events) assert.match(event.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it(
      'ending several sessions at once (revokeUserSessions of 3) records one SESSION_ENDED per session, with the admin as actor',
      BOUNDED,
      async () => {
        assert.ok(ursulaId, 'runs after the sequence');
        const byAdmin = { actorUserId: admin.user.id, ipAddress: ADMIN_IP, userAgent: 'admin-console/1.0' };
        for (const label of ['first', 'revokedA', 'revokedB']) {
          expectEvent(
            {
              type: 'SESSION_ENDED',
              sessionId: s[label],
              userId: ursulaId,
              reason: 'USER_SESSIONS_REVOKED',
              ...byAdmin,
            },
            `revokeUserSessions ${label}`,
          );
        }
      },
    );

    it(
      'LOGIN_RATE_LIMITED against an existing account names the user, so authEvents(userId:) shows the attack',
      BOUNDED,
      async () => {
        assert.ok(ursulaId, 'runs after the sequence');
        const { authEvents } = await admin.client.data(AuthEventsDocument, {
          userId: ursulaId,
          first: 100,
        });
        const limited = authEvents.edges
          .map((edge) => edge.node)
          .filter((event) => event.type === 'LOGIN_RATE_LIMITED');
        assert.equal(limited.length, 1, JSON.stringify(limited));
        assert.equal(limited[0]?.userId, ursulaId);
        assert.equal(limited[0]?.ipAddress, ATTACKER_IP);
      },
    );

    it(
      'authEvents is ADMIN only: a USER (even for their own id) is FORBIDDEN, anonymous is UNAUTHENTICATED',
      BOUNDED,
      async () => {
        await createUser(admin.client, 'viktor');
        const viktor = await signIn(server, 'viktor');
        tokens.push(viktor.client.token ?? '');
        for (const variables of [{}, { userId: viktor.user.id }]) {
          assertRefused(
            await viktor.client.request(AuthEventsDocument, variables),
            'FORBIDDEN',
            JSON.stringify(variables),
          );
          assertRefused(
            await server.client().request(AuthEventsDocument, variables),
            'UNAUTHENTICATED',
            JSON.stringify(variables),
          );
        }
      },
    );

    it(
      'pages by first/after: newest first, no duplicates, none missing, totalCount on every page; filters by userId',
      BOUNDED,
      async () => {
        const everything = await allEvents(admin.client);
        assert.ok(everything.length > 20, `only ${everything.length} events`);
        for (const userId of [undefined, ursulaId]) {
          const expected = userId ? everything.filter((event) => event.userId === userId) : everything;
          const seen: AuthEventNode[] = [];
          let after: string | undefined;
          for (let page = 0; ; page++) {
            assert.ok(page < 50, 'runaway pagination');
            const result = await admin.client.data(AuthEventsDocument, {
              first: 4,
              ...(after ? { after } : {}),
              ...(userId ? { userId } : {}),
            });
            const connection = result.authEvents;
            assert.equal(connection.totalCount, expected.length);
            assert.ok(connection.edges.length <= 4);
            seen.push(...connection.edges.map((edge) => edge.node));
            if (!connection.pageInfo.hasNextPage) break;
            after = connection.pageInfo.endCursor ?? undefined;
            assert.ok(after);
          }
          assert.deepEqual(
            seen.map((event) => event.id),
            expected.map((event) => event.id),
          );
          assert.equal(new Set(seen.map((event) => event.id)).size, seen.length);
          const times = seen.map((event) => Date.parse(event.createdAt));
          assert.deepEqual(
            times,
            [...times].sort((a, b) => b - a),
            'newest first',
          );
        }
        assertRefused(await admin.client.request(AuthEventsDocument, { after: 'not-a-cursor' }), 'BAD_USER_INPUT');
        assertRefused(await admin.client.request(AuthEventsDocument, { first: 0 }), 'BAD_USER_INPUT');
        assertRefused(await admin.client.request(AuthEventsDocument, { first: 101 }), 'BAD_USER_INPUT');
      },
    );

    it('the audit log holds no token and no password, typed wrong or right', BOUNDED, async () => {
      const rows = JSON.stringify(await server.db('auth_events').select());
      assert.ok(rows.includes('ursula-laptop/2.0'), 'the scan is not reading the rows');
      const secrets = [...tokens, ADMIN_PASSWORD, URSULA_PASSWORD, URSULA_NEW_PASSWORD, ...WRONG_PASSWORDS];
      assert.ok(tokens.length >= 10);
      for (const secret of secrets) {
        assert.ok(secret.length >= 16, 'a secret too short to scan for');
        assert.equal(rows.includes(secret), false, `auth_events holds ${secret.slice(0, 6)}…`);
      }
    });

    if (kind === 'sqlite') {
      it(
        'the SQLite database file and its -wal file contain neither any raw token nor any password used',
        BOUNDED,
        async () => {
          const path = server.database.sqlitePath;
          assert.ok(path);
          const files = [path, `${path}-wal`]
            .filter((file) => existsSync(file))
            .map((file) => ({ file, bytes: readFileSync(file) }));
          assert.ok(
            files.some(({ file }) => file.endsWith('-wal')),
            'no -wal file: the scan would miss recent writes',
          );
          const all = Buffer.concat(files.map(({ bytes }) => bytes));
          // Positive controls: the scan sees the audit rows and the token hashes.
          assert.ok(all.includes('ursula-laptop/2.0'), 'audit rows not found in the files');
          for (const token of tokens) {
            assert.ok(all.includes(createHash('sha256').update(token).digest('hex')), 'a token hash is missing');
          }
          for (const secret of [...tokens, ADMIN_PASSWORD, URSULA_PASSWORD, URSULA_NEW_PASSWORD, ...WRONG_PASSWORDS]) {
            for (const { file, bytes } of files) {
              assert.equal(bytes.includes(secret), false, `${secret.slice(0, 6)}… found in ${file}`);
            }
          }
          for (const token of tokens) {
            const raw = Buffer.from(token, 'base64url');
            for (const { file, bytes } of files) assert.equal(bytes.includes(raw), false, `raw token bytes in ${file}`);
          }
        },
      );
    }
  });

  // -------------------------------------------------------------------------------------------
  describe(`security: audit retention (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      server = await startTestServer({ database: kind, env: { ...QUIET_SWEEPER, AUTH_EVENT_RETENTION: '2h' } });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    });
    after(() => server.stop());

    it('the sweeper deletes events older than AUTH_EVENT_RETENTION and keeps the newer ones', BOUNDED, async () => {
      const fail = (username: string) =>
        server.client().request(LoginDocument, { username, password: 'wrong-password' });
      assertRefused(await fail('old-attempt'), 'INVALID_CREDENTIALS');
      server.clock.advance(3_600_000);
      assertRefused(await fail('new-attempt'), 'INVALID_CREDENTIALS');
      const before = await allEvents(admin.client);
      assert.ok(before.some((event) => event.username === 'old-attempt'));
      const cutoffAfterSweep = server.clock.now().getTime() + 3_600_000 + 1_000 - 2 * 3_600_000;
      const oldCount = before.filter((event) => Date.parse(event.createdAt) < cutoffAfterSweep).length;
      assert.ok(oldCount >= 3, `only ${oldCount} old events`);

      server.clock.advance(3_600_000 + 1_000);
      const result = await runSweeper(server);
      assert.equal(result.deletedAuthEvents, oldCount);
      const rows = (await server.db('auth_events').select('username', 'created_at')) as Array<{
        username: string | null;
        created_at: number | string;
      }>;
      assert.ok(
        rows.every((row) => Number(row.created_at) >= cutoffAfterSweep),
        'an expired event survived',
      );
      assert.deepEqual(
        rows.filter((row) => row.username !== null).map((row) => row.username),
        ['new-attempt'],
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
describe('security: X-Forwarded-For is ignored without TRUST_PROXY (sqlite)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ env: QUIET_SWEEPER });
  });
  after(() => server.stop());

  it('a client that sends a new X-Forwarded-For with every guess is still throttled per IP', BOUNDED, async () => {
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 22; i++) {
      const result = await server
        .client({ 'x-forwarded-for': `192.0.2.${i + 1}` })
        .request(LoginDocument, { username: `spoof-${i}`, password: 'guess' });
      codes.push(errorCode(result));
    }
    assert.deepEqual(codes.slice(0, 20), Array(20).fill('INVALID_CREDENTIALS'));
    assert.deepEqual(codes.slice(20), ['RATE_LIMITED', 'RATE_LIMITED']);
    const logged = (await server.db('auth_events').where({ type: 'LOGIN_FAILED' }).distinct('ip_address')) as Array<{
      ip_address: string;
    }>;
    assert.deepEqual(
      logged.map((row) => row.ip_address),
      ['127.0.0.1'],
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe('security: CSRF and CORS (sqlite)', () => {
  let server: TestServer;
  let corsServer: TestServer;
  let admin: SignedIn;

  before(async () => {
    [server, corsServer] = await Promise.all([
      startTestServer({ env: QUIET_SWEEPER }),
      startTestServer({ env: { ...QUIET_SWEEPER, ALLOWED_ORIGINS: 'https://app.example' } }),
    ]);
    admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
  });
  after(() => Promise.all([server.stop(), corsServer.stop()]));

  async function assertStillSignedIn(victim: SignedIn, label: string): Promise<void> {
    const whoami = await victim.client.data(WhoamiDocument);
    assert.equal(whoami.currentSession?.id, victim.session.id, `${label}: the victim was logged out`);
    const row = await findSessionRow(server, victim.session.id);
    assert.equal(row?.endedAt, null, `${label}: the session row was ended`);
  }

  it(
    'cross-site form, multipart, text/plain and type-less POSTs with the cookie are 415 and log no one out',
    BOUNDED,
    async () => {
      await createUser(admin.client, 'victim');
      const victim = await signIn(server, 'victim');
      const cookie = victim.client.cookie ?? '';
      const boundary = '----evilboundary';
      const attacks: Record<string, { contentType?: string; body: string }> = {
        'form-urlencoded': {
          contentType: 'application/x-www-form-urlencoded',
          body: new URLSearchParams({ query: 'mutation{logout}' }).toString(),
        },
        'form-urlencoded, braces unencoded': {
          contentType: 'application/x-www-form-urlencoded',
          body: 'query=mutation{logout}',
        },
        'multipart/form-data': {
          contentType: `multipart/form-data; boundary=${boundary}`,
          body: [
            `--${boundary}`,
            'Content-Disposition: form-data; name="operations"',
            '',
            '{"query":"mutation{logout}"}',
            `--${boundary}`,
            'Content-Disposition: form-data; name="map"',
            '',
            '{}',
            `--${boundary}--`,
            '',
          ].join('\r\n'),
        },
        'text/plain with a JSON body': { contentType: 'text/plain', body: '{"query":"mutation{logout}"}' },
        'text/plain;charset=UTF-8': { contentType: 'text/plain;charset=UTF-8', body: '{"query":"mutation{logout}"}' },
        'no Content-Type (sendBeacon with a Blob)': { body: '{"query":"mutation{logout}"}' },
      };
      for (const [label, { contentType, body }] of Object.entries(attacks)) {
        const response = await rawRequest(server.url, {
          headers: {
            cookie,
            origin: 'https://evil.example',
            referer: 'https://evil.example/page',
            'sec-fetch-site': 'cross-site',
            ...(contentType ? { 'content-type': contentType } : {}),
          },
          body,
        });
        assert.equal(response.status, 415, `${label}: ${response.body}`);
        assert.equal(response.headers['set-cookie'], undefined, `${label}: a cookie was set or cleared`);
        assert.equal(response.headers['access-control-allow-origin'], undefined);
        await assertStillSignedIn(victim, label);
      }
    },
  );

  it('GET ?query=mutation{logout} with the cookie is 405 and logs no one out', BOUNDED, async () => {
    const victim = await signIn(server, 'victim');
    for (const path of ['/graphql?query=mutation%7Blogout%7D', '/graphql?query=mutation{logout}']) {
      for (const accept of ['application/json', 'text/html', '*/*']) {
        const response = await rawRequest(server.url, {
          method: 'GET',
          path,
          headers: { cookie: victim.client.cookie ?? '', accept },
        });
        if (accept === 'text/html') {
          // A browser navigation gets at most the GraphiQL page (development), which runs nothing.
          assert.ok(response.status === 405 || /graphiql/i.test(response.body), `${path}: ${response.status}`);
        } else {
          assert.equal(response.status, 405, `${path} (${accept}): ${response.body}`);
        }
        assert.equal(response.headers['set-cookie'], undefined);
        await assertStillSignedIn(victim, `${path} ${accept}`);
      }
    }
  });

  it('positive control: the same cookie and document as a JSON POST do log out', BOUNDED, async () => {
    const victim = await signIn(server, 'victim');
    const response = await rawRequest(server.url, {
      headers: { cookie: victim.client.cookie ?? '', 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation{logout}' }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(parseGraphql(response), { data: { logout: true } });
    assert.equal((await sessionRow(server, victim.session.id)).endReason, 'LOGOUT');
  });

  it(
    'CORS: without ALLOWED_ORIGINS a foreign origin gets no Access-Control-Allow-Origin, on the preflight or the POST',
    BOUNDED,
    async () => {
      for (const origin of ['https://evil.example', 'null', server.url.replace('127.0.0.1', 'localhost')]) {
        const preflight = await rawRequest(server.url, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
        assert.equal(preflight.headers['access-control-allow-origin'], undefined, `${origin}: preflight`);
        assert.equal(preflight.headers['access-control-allow-credentials'], undefined, `${origin}: preflight`);
        const post = await rawGraphql(server.url, { origin, cookie: admin.client.cookie ?? '' });
        assert.equal(post.headers['access-control-allow-origin'], undefined, `${origin}: POST`);
        assert.equal(post.headers['access-control-allow-credentials'], undefined, `${origin}: POST`);
      }
    },
  );

  it(
    'CORS: with ALLOWED_ORIGINS=https://app.example that origin (only) gets ACAO and Allow-Credentials: true',
    BOUNDED,
    async () => {
      const preflight = await rawRequest(corsServer.url, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      assert.ok(preflight.status === 200 || preflight.status === 204, String(preflight.status));
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
      assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
      assert.match(String(preflight.headers['access-control-allow-methods']), /\bPOST\b/);
      assert.match(String(preflight.headers['access-control-allow-headers']), /content-type/i);

      const post = await rawGraphql(corsServer.url, { origin: 'https://app.example' });
      assert.equal(post.status, 200);
      assert.equal(post.headers['access-control-allow-origin'], 'https://app.example');
      assert.equal(post.headers['access-control-allow-credentials'], 'true');

      for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'http://app.example', 'null']) {
        const foreignPreflight = await rawRequest(corsServer.url, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
        assert.equal(foreignPreflight.headers['access-control-allow-origin'], undefined, `${origin}: preflight`);
        const foreignPost = await rawGraphql(corsServer.url, { origin });
        assert.equal(foreignPost.headers['access-control-allow-origin'], undefined, `${origin}: POST`);
        assert.equal(foreignPost.headers['access-control-allow-credentials'], undefined, `${origin}: POST`);
      }
    },
  );
});

// ---------------------------------------------------------------------------------------------
describe('security: WebSocket handshake origin check (sqlite)', () => {
  let server: TestServer;
  let victim: SignedIn;

  before(async () => {
    server = await startTestServer({ env: { ...QUIET_SWEEPER, ALLOWED_ORIGINS: 'https://app.example' } });
    const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    await createUser(admin.client, 'wanda');
    victim = await signIn(server, 'wanda');
  });
  after(() => server.stop());

  /** Opens a graphql-transport-ws socket with these headers: 'open', or the refusal's HTTP status. */
  async function upgrade(headers: Record<string, string>): Promise<number | 'open'> {
    const outcome = await tryUpgrade(server, headers);
    if (!outcome.accepted) return outcome.status;
    outcome.socket.close();
    return 'open';
  }

  it(
    'an upgrade from a foreign Origin is refused (403) even with a valid cookie; allowed, own and absent origins connect',
    BOUNDED,
    async () => {
      const cookie = victim.client.cookie ?? '';
      for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'null', 'http://app.example']) {
        assert.equal(await upgrade({ origin, cookie }), 403, origin);
      }
      assert.equal(await upgrade({ origin: 'https://app.example', cookie }), 'open');
      assert.equal(await upgrade({ origin: server.url, cookie }), 'open');
      // Non-browser clients send no Origin; they carry no ambient cookie to abuse.
      assert.equal(await upgrade({ cookie }), 'open');
    },
  );
});

// ---------------------------------------------------------------------------------------------
describe('security: response headers (sqlite)', () => {
  let server: TestServer;
  let admin: SignedIn;

  before(async () => {
    server = await startTestServer({ env: QUIET_SWEEPER });
    admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
  });
  after(() => server.stop());

  function assertProtectiveHeaders(headers: Headers | IncomingHttpHeaders, label: string): void {
    const get = (name: string) =>
      headers instanceof Headers ? headers.get(name) : ((headers[name] as string | undefined) ?? null);
    assert.equal(get('cache-control'), 'no-store', `${label}: Cache-Control`);
    assert.equal(get('x-content-type-options'), 'nosniff', `${label}: X-Content-Type-Options`);
    assert.equal(get('referrer-policy'), 'no-referrer', `${label}: Referrer-Policy`);
  }

  it(
    'login, me, currentSession and logout responses have Cache-Control: no-store and X-Content-Type-Options: nosniff',
    BOUNDED,
    async () => {
      const client = server.client();
      const login = await client.request(LoginDocument, { username: ADMIN_USERNAME, password: ADMIN_PASSWORD });
      assert.equal(login.headers.getSetCookie().length, 1);
      assertProtectiveHeaders(login.headers, 'login');
      assertProtectiveHeaders((await client.request(MeDocument)).headers, 'me');
      assertProtectiveHeaders((await client.request(WhoamiDocument)).headers, 'me + currentSession');
      assertProtectiveHeaders(
        (await client.request(LoginDocument, { username: 'x', password: 'y' })).headers,
        'failed login',
      );
      assertProtectiveHeaders((await client.request(LogoutDocument)).headers, 'logout');
    },
  );

  it('/auth/verify (200 with the viewer, and 401) has Cache-Control: no-store and nosniff', BOUNDED, async () => {
    const ok = await rawRequest(server.url, {
      method: 'GET',
      path: '/auth/verify',
      headers: { cookie: admin.client.cookie ?? '' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-user-id'], admin.user.id);
    assertProtectiveHeaders(ok.headers, '/auth/verify 200');
    const bearer = await rawRequest(server.url, {
      method: 'GET',
      path: '/auth/verify',
      headers: { authorization: `Bearer ${admin.client.token}` },
    });
    assert.equal(bearer.status, 200);
    assertProtectiveHeaders(bearer.headers, '/auth/verify 200 (bearer)');
    const denied = await rawRequest(server.url, { method: 'GET', path: '/auth/verify' });
    assert.equal(denied.status, 401);
    assertProtectiveHeaders(denied.headers, '/auth/verify 401');
  });

  it('refusals (413, 411, 415, 405, 400) carry nosniff and no-store too', BOUNDED, async () => {
    const cases: Array<[string, RawRequest, number]> = [
      ['413', { headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) } }, 413],
      ['411', { headers: { 'content-type': 'application/json' }, chunks: ['{"query":', '"{ me { id } }"}'] }, 411],
      ['415', { headers: { 'content-type': 'text/plain' }, body: '{}' }, 415],
      ['405', { method: 'GET', path: '/graphql?query=mutation%7Blogout%7D' }, 405],
      ['400', { headers: { 'content-type': 'application/json' }, body: '{' }, 400],
    ];
    for (const [label, request, status] of cases) {
      const response = await rawRequest(server.url, request);
      assert.equal(response.status, status, label);
      assertProtectiveHeaders(response.headers, label);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('security: introspection, GraphiQL and field suggestions (sqlite)', () => {
  let production: TestServer;
  let productionWithIntrospection: TestServer;
  let development: TestServer;

  before(async () => {
    [production, productionWithIntrospection, development] = await Promise.all([
      // Production defaults to `admins` for both (test/graphiql.test.ts); here both are off.
      startTestServer({
        env: { ...QUIET_SWEEPER, NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'off', GRAPHIQL: 'off' },
      }),
      startTestServer({ env: { ...QUIET_SWEEPER, NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'on' } }),
      startTestServer({ env: QUIET_SWEEPER }),
    ]);
  });
  after(() => Promise.all([production.stop(), productionWithIntrospection.stop(), development.stop()]));

  const TYPOS = {
    field: '{ mee { id } }',
    'nested field': '{ me { usernam } }',
    argument: 'mutation { login(usernam: "a", password: "b") { user { id } } }',
    type: 'query($id: Sesion) { me { id } }',
  };

  async function graphiql(server: TestServer) {
    const response = await fetch(`${server.url}/graphql`, {
      headers: { accept: 'text/html' },
      redirect: 'manual',
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
  }

  it('GRAPHQL_INTROSPECTION=off: introspection is refused with BAD_USER_INPUT', BOUNDED, async () => {
    for (const query of [SchemaTypeNamesDocument, SessionTypeFieldsDocument]) {
      const result = await production.client().request(query);
      assertRefused(result, 'BAD_USER_INPUT', print(query));
      assert.match(result.errors?.[0]?.message ?? '', /introspection/i);
    }
    // __typename is not introspection: clients (Apollo, urql) add it everywhere.
    assert.deepEqual((await production.client().request(TypenameDocument)).data, { __typename: 'Query' });
  });

  it('GRAPHIQL=off: GET /graphql from a browser serves no GraphiQL, and says so', BOUNDED, async () => {
    const page = await graphiql(production);
    assert.equal(page.status, 404, page.body.slice(0, 100));
    assert.doesNotMatch(page.type, /html/);
    assert.match(page.body, /GraphiQL is off on this server/);
    assert.match(page.body, /POST requests with Content-Type: application\/json/);
  });

  it('NODE_ENV=production: a misspelt field, argument or type gets no "Did you mean"', BOUNDED, async () => {
    for (const [label, query] of Object.entries(TYPOS)) {
      const result = await production.client().request(query);
      assertRefused(result, 'BAD_USER_INPUT', label);
      for (const error of result.errors ?? []) assert.doesNotMatch(error.message, /did you mean/i, label);
    }
  });

  it(
    'NODE_ENV=production: a misspelt enum value (inline or in a variable) gets no "Did you mean"',
    BOUNDED,
    async () => {
      const role = 'ADMN' as unknown as Role;
      for (const [label, result] of [
        [
          'inline',
          await production
            .client()
            .request('mutation { createUser(username: "abc", password: "abcdefgh", role: ADMN) { id } }'),
        ],
        [
          'variable',
          await production.client().request(CreateUserDocument, { username: 'abc', password: 'abcdefgh', role }),
        ],
      ] as const) {
        assert.ok(result.errors?.length, label);
        for (const error of result.errors ?? []) assert.doesNotMatch(error.message, /did you mean/i, label);
      }
    },
  );

  it('GRAPHQL_INTROSPECTION=on overrides the production default', BOUNDED, async () => {
    const result = await productionWithIntrospection.client().request(SchemaTypeNamesDocument);
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    assert.ok(result.data?.__schema.types.some((type) => type.name === 'Session'));
    // GraphiQL is a separate switch: still only for admins, so an anonymous browser is sent away.
    assert.notEqual((await graphiql(productionWithIntrospection)).status, 200);
  });

  it(
    'development default: introspection works, GraphiQL is served, and suggestions help (the control for the tests above)',
    BOUNDED,
    async () => {
      const result = await development.client().request(SchemaTypeNamesDocument);
      assert.equal(result.errors, undefined, JSON.stringify(result.errors));
      assert.ok(result.data?.__schema.types.some((type) => type.name === 'AuthEvent'));
      const page = await graphiql(development);
      assert.equal(page.status, 200);
      assert.match(page.type, /text\/html/);
      assert.match(page.body, /graphiql/i);
      const typo = await development.client().request(TYPOS.field);
      assert.match(typo.errors?.[0]?.message ?? '', /did you mean "me"/i);
    },
  );
});

// ---------------------------------------------------------------------------------------------

type AuthEventNode = AuthEventsQuery['authEvents']['edges'][number]['node'];

/** The whole audit log, newest first, through the API (pages of 100). */
async function allEvents(admin: TestClient): Promise<AuthEventNode[]> {
  const events: AuthEventNode[] = [];
  let after: string | undefined;
  for (let page = 0; page < 100; page++) {
    const { authEvents } = await admin.data(AuthEventsDocument, {
      first: 100,
      ...(after ? { after } : {}),
    });
    events.push(...authEvents.edges.map((edge) => edge.node));
    if (!authEvents.pageInfo.hasNextPage) return events;
    after = authEvents.pageInfo.endCursor ?? undefined;
  }
  throw new Error('runaway pagination');
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, object[key]])) as Pick<T, K>;
}
