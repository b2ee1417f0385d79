import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { print } from 'graphql';
import { createArgon2Hasher, type PasswordHasher } from '../src/sessions/passwords.js';
import {
  CreateUserDocument,
  CurrentSessionDocument,
  LoginDocument,
  LogoutDocument,
  MeDocument,
  WhoamiDocument,
} from './generated/graphql.js';
import { errorCode, type GraphQLResponse, type TestClient } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { flushLastSeen } from './support/app.js';
import { healthz } from './support/http.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startTestServer, type TestServer } from './support/server.js';
import { assertAnonymous, sessionRow } from './support/sessions.js';

const DEFAULT_MAX_AGE_SECONDS = 7 * 24 * 3600;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

interface ParsedSetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case → value ('' for flags such as HttpOnly). */
  attributes: Map<string, string>;
}

function parseSetCookie(header: string): ParsedSetCookie {
  const [pair = '', ...rest] = header.split(';').map((part) => part.trim());
  const attributes = new Map<string, string>();
  for (const attribute of rest) {
    const eq = attribute.indexOf('=');
    const key = (eq === -1 ? attribute : attribute.slice(0, eq)).toLowerCase();
    assert.ok(!attributes.has(key), `attribute ${key} appears twice in ${header}`);
    attributes.set(key, eq === -1 ? '' : attribute.slice(eq + 1));
  }
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** The one Set-Cookie header of a response, parsed; fails when there is not exactly one. */
function onlySetCookie(result: GraphQLResponse<unknown>): ParsedSetCookie {
  const headers = result.headers.getSetCookie();
  assert.equal(headers.length, 1, `expected one Set-Cookie, got ${JSON.stringify(headers)}`);
  return parseSetCookie(headers[0] ?? '');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

for (const kind of DATABASE_KINDS) {
  describe(`core (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;

    before(async () => {
      server = await startTestServer({ database: kind });
      admin = await server.adminClient();
    });
    after(() => server.stop());

    /** A fresh client signed in as the admin, with the login response. */
    async function loginAdmin() {
      const client = server.client();
      const result = await client.request(LoginDocument, { username: ADMIN_USERNAME, password: ADMIN_PASSWORD });
      assert.equal(result.errors, undefined, JSON.stringify(result.errors));
      assert.ok(result.data);
      return { client, result, login: result.data.login };
    }

    it('login sets the session cookie with exactly HttpOnly, SameSite=Lax, Path=/, Max-Age and Expires', async () => {
      const { client, result, login } = await loginAdmin();
      assert.equal(result.status, 200);
      assert.equal(result.headers.get('cache-control'), 'no-store');
      assert.equal(login.user.username, ADMIN_USERNAME);
      assert.equal(login.session.current, true);
      assert.equal(login.session.active, true);

      const cookie = onlySetCookie(result);
      assert.equal(cookie.name, 'gatehouse_session');
      assert.match(cookie.value, TOKEN_PATTERN);
      assert.equal(cookie.value, client.token);
      // The token is never the public session id.
      assert.notEqual(cookie.value, login.session.id);
      assert.deepEqual([...cookie.attributes.keys()].sort(), ['expires', 'httponly', 'max-age', 'path', 'samesite']);
      assert.equal(cookie.attributes.get('httponly'), '');
      assert.equal(cookie.attributes.get('samesite'), 'Lax');
      assert.equal(cookie.attributes.get('path'), '/');
      assert.equal(cookie.attributes.has('domain'), false);
      assert.equal(cookie.attributes.has('secure'), false);
      // The test clock does not move during the request, so Max-Age is exactly SESSION_MAX_AGE (7d).
      assert.equal(cookie.attributes.get('max-age'), String(DEFAULT_MAX_AGE_SECONDS));
      const expires = Date.parse(cookie.attributes.get('expires') ?? '');
      const sessionExpires = Date.parse(login.session.expiresAt);
      assert.equal(expires, Math.floor(sessionExpires / 1000) * 1000);
      assert.equal(sessionExpires - Date.parse(login.session.createdAt), DEFAULT_MAX_AGE_SECONDS * 1000);
    });

    it('me and currentSession work with the cookie and with Authorization: Bearer', async () => {
      const { client, login } = await loginAdmin();
      const token = client.token;
      assert.ok(token);

      const withCookie = await client.data(WhoamiDocument);
      assert.equal(withCookie.me?.username, ADMIN_USERNAME);
      assert.equal(withCookie.me?.id, login.user.id);
      assert.equal(withCookie.currentSession?.id, login.session.id);

      const bearer = server.client({ authorization: `Bearer ${token}` });
      const withBearer = await bearer.data(WhoamiDocument);
      assert.equal(withBearer.me?.username, ADMIN_USERNAME);
      assert.equal(withBearer.currentSession?.id, login.session.id);
      const session = await bearer.data(CurrentSessionDocument);
      assert.equal(session.currentSession?.current, true);
      assert.equal(session.currentSession?.user.id, login.user.id);
    });

    it('anonymous me and currentSession are null, without errors', async () => {
      const result = await server.client().request(WhoamiDocument);
      assert.equal(result.status, 200);
      assert.equal(result.errors, undefined);
      assert.deepEqual(result.data, { me: null, currentSession: null });
      assert.deepEqual(result.headers.getSetCookie(), []);
    });

    it('a wrong password and an unknown user give the same INVALID_CREDENTIALS and set no cookie', async () => {
      const client = server.client();
      const wrongPassword = await client.request(LoginDocument, { username: ADMIN_USERNAME, password: 'not-the-pw' });
      const unknownUser = await client.request(LoginDocument, { username: 'nobody-here', password: 'not-the-pw' });
      for (const result of [wrongPassword, unknownUser]) {
        assert.equal(errorCode(result), 'INVALID_CREDENTIALS');
        assert.equal(result.data ?? null, null);
        assert.deepEqual(result.headers.getSetCookie(), []);
        assert.equal(result.headers.get('cache-control'), 'no-store');
      }
      assert.equal(wrongPassword.errors?.[0]?.message, unknownUser.errors?.[0]?.message);
      assert.deepEqual(wrongPassword.errors?.[0]?.extensions, unknownUser.errors?.[0]?.extensions);
      assert.equal(client.cookie, undefined);
      assert.equal((await client.data(MeDocument)).me, null);
    });

    it('an unknown user costs a password verification too (no fast path that tells users apart)', async () => {
      // Its own account, and fewer failures than the login throttle lets through (5 per account),
      // so every attempt reaches the password check.
      await admin.data(CreateUserDocument, { username: 'timing-user', password: 'timing-user-password' });
      const client = server.client();
      const attempt = async (username: string) => {
        const started = performance.now();
        const result = await client.request(LoginDocument, { username, password: 'not-the-password' });
        assert.equal(errorCode(result), 'INVALID_CREDENTIALS', JSON.stringify(result.errors));
        return performance.now() - started;
      };
      await attempt('nobody-warmup'); // the dummy hash is computed once, lazily
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 4; i++) {
        unknown.push(await attempt(`nobody-${i}`));
        wrong.push(await attempt('timing-user'));
      }
      // An argon2 verification is ~10 ms, a lookup well under 1 ms: without the dummy hash the
      // unknown user would answer in a tenth of the time.
      assert.ok(
        median(unknown) > 0.5 * median(wrong),
        `unknown user ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms`,
      );
      // Let the throttle's one-hour window for this client's IP run out, for the tests after this one.
      server.clock.advance(2 * 3_600_000);
    });

    it('logout ends the session for good: clears the cookie, and the old cookie and bearer token are anonymous', async () => {
      const { client, login } = await loginAdmin();
      const oldCookie = client.cookie;
      const oldToken = client.token;
      assert.ok(oldCookie && oldToken);

      const result = await client.request(LogoutDocument);
      assert.equal(result.errors, undefined);
      assert.equal(result.data?.logout, true);
      assert.equal(result.headers.get('cache-control'), 'no-store');
      const cleared = onlySetCookie(result);
      assert.equal(cleared.name, 'gatehouse_session');
      assert.equal(cleared.value, '');
      assert.equal(cleared.attributes.get('max-age'), '0');
      assert.equal(cleared.attributes.get('path'), '/');
      assert.equal(cleared.attributes.has('httponly'), true);
      assert.equal(cleared.attributes.get('samesite'), 'Lax');
      assert.equal(cleared.attributes.has('domain'), false);
      assert.ok(Date.parse(cleared.attributes.get('expires') ?? '') <= Date.now());
      assert.equal(client.cookie, undefined);

      const replayCookie = server.client({ cookie: oldCookie });
      await assertAnonymous(replayCookie, 'the old cookie');
      await assertAnonymous(server.client({ authorization: `Bearer ${oldToken}` }), 'the old token as a bearer');
      // A second logout with the old cookie has nothing to end.
      assert.equal((await replayCookie.data(LogoutDocument)).logout, false);

      // The row stays, marked as ended by a logout.
      const row = await sessionRow(server, login.session.id);
      assert.equal(row.endReason, 'LOGOUT');
      assert.equal(row.endedAt, server.clock.now().getTime());
      // Other sessions of the same user are untouched.
      assert.equal((await admin.data(MeDocument)).me?.username, ADMIN_USERNAME);
    });

    it('logout when anonymous returns false', async () => {
      const result = await server.client().request(LogoutDocument);
      assert.equal(result.errors, undefined);
      assert.equal(result.data?.logout, false);
      assert.equal(result.headers.get('cache-control'), 'no-store');
    });

    it('every login issues a new token and a new session, even over an existing cookie, which it ends', async () => {
      const { client, login: first } = await loginAdmin();
      const firstToken = client.token;
      // Same client, still holding the first cookie: a fixed token must not be reused.
      const second = await client.data(LoginDocument, { username: ADMIN_USERNAME, password: ADMIN_PASSWORD });
      const secondToken = client.token;
      assert.ok(firstToken && secondToken);
      assert.match(secondToken, TOKEN_PATTERN);
      assert.notEqual(secondToken, firstToken);
      assert.notEqual(second.login.session.id, first.session.id);
      assert.equal((await client.data(WhoamiDocument)).currentSession?.id, second.login.session.id);
      // The session the request carried is not left alive behind the new one (ASVS 7.2.4).
      const replaced = server.client({ cookie: `gatehouse_session=${firstToken}` });
      assert.equal((await replaced.data(WhoamiDocument)).currentSession, null);
      assert.equal((await sessionRow(server, first.session.id)).endReason, 'SUPERSEDED');
    });

    it('createUser: ADMIN may, USER is FORBIDDEN, anonymous is UNAUTHENTICATED', async () => {
      const created = await admin.data(CreateUserDocument, { username: 'bob', password: 'bob-password' });
      assert.equal(created.createUser.username, 'bob');
      assert.equal(created.createUser.role, 'USER');
      // Making an admin is a step-up operation: it needs a fresh login (this suite's clock has moved on).
      const freshAdmin = await server.adminClient();
      const createdAdmin = await freshAdmin.data(CreateUserDocument, {
        username: 'second-admin',
        password: 'second-admin-password',
        role: 'ADMIN',
      });
      assert.equal(createdAdmin.createUser.role, 'ADMIN');

      const bob = server.client();
      const bobLogin = await bob.data(LoginDocument, { username: 'bob', password: 'bob-password' });
      assert.equal(bobLogin.login.user.id, created.createUser.id);
      assert.equal(bobLogin.login.user.role, 'USER');

      const byUser = await bob.request(CreateUserDocument, { username: 'mallory', password: 'mallory-password' });
      assert.equal(errorCode(byUser), 'FORBIDDEN');
      const byAnonymous = await server
        .client()
        .request(CreateUserDocument, { username: 'mallory', password: 'mallory-password', role: 'ADMIN' });
      assert.equal(errorCode(byAnonymous), 'UNAUTHENTICATED');
      // Neither attempt created the account.
      const attempt = await server
        .client()
        .request(LoginDocument, { username: 'mallory', password: 'mallory-password' });
      assert.equal(errorCode(attempt), 'INVALID_CREDENTIALS');
    });

    it('createUser rejects a taken username (in any case) and a too-short password as BAD_USER_INPUT', async () => {
      await admin.data(CreateUserDocument, { username: 'carol', password: 'carol-password' });
      for (const username of ['carol', 'Carol', 'CAROL']) {
        const duplicate = await admin.request(CreateUserDocument, { username, password: 'another-password' });
        assert.equal(errorCode(duplicate), 'BAD_USER_INPUT', `${username}: ${JSON.stringify(duplicate.errors)}`);
      }
      // The original account keeps its password.
      const carol = server.client();
      await carol.data(LoginDocument, { username: 'Carol', password: 'carol-password' });
      assert.equal((await carol.data(MeDocument)).me?.username, 'carol');
      const impostor = await server
        .client()
        .request(LoginDocument, { username: 'carol', password: 'another-password' });
      assert.equal(errorCode(impostor), 'INVALID_CREDENTIALS');

      const shortPassword = await admin.request(CreateUserDocument, { username: 'dave', password: 'short' });
      assert.equal(errorCode(shortPassword), 'BAD_USER_INPUT');
      const notCreated = await server.client().request(LoginDocument, { username: 'dave', password: 'short' });
      assert.equal(errorCode(notCreated), 'INVALID_CREDENTIALS');
    });

    it('garbage cookies and bearer tokens are simply anonymous, and the server stays up', async () => {
      const garbage = [
        '',
        'x'.repeat(8192),
        // Non-ASCII, sent as its UTF-8 bytes.
        Buffer.from('ключ-🔑-é', 'utf8').toString('latin1'),
        "' OR 1=1 --",
        '../../etc/passwd',
        // Well-formed, but no session has it.
        randomBytes(32).toString('base64url'),
      ];
      for (const value of garbage) {
        const label = JSON.stringify(value.slice(0, 40));
        const placements: Array<Record<string, string>> = [
          { cookie: `gatehouse_session=${value}` },
          { cookie: value === '' ? 'gatehouse_session' : value },
          { authorization: `Bearer ${value}` },
          { authorization: value },
        ];
        for (const headers of placements) {
          const result = await server.client(headers).request(WhoamiDocument);
          assert.equal(result.status, 200, `${label} in ${Object.keys(headers)[0]}`);
          assert.equal(result.errors, undefined, `${label}: ${JSON.stringify(result.errors)}`);
          assert.deepEqual(result.data, { me: null, currentSession: null }, label);
        }
      }
      assert.equal(await healthz(server), 200);
      assert.equal((await admin.data(MeDocument)).me?.username, ADMIN_USERNAME);
    });

    it('lastSeenAt moves at most once a minute, and an ended session stays ended', async () => {
      const { client, login } = await loginAdmin();
      const sessionId = login.session.id;
      const loginTime = Date.parse(login.session.lastSeenAt);
      assert.equal(loginTime, server.clock.now().getTime());

      // Within the first minute: not moved, neither in the API nor in the row.
      server.clock.advance(30_000);
      assert.equal((await client.data(CurrentSessionDocument)).currentSession?.lastSeenAt, login.session.lastSeenAt);
      await flushLastSeen(server);
      assert.equal((await sessionRow(server, sessionId)).lastSeenAt, loginTime);

      // Past a minute: the next request moves it to now, and the flush writes it.
      server.clock.advance(31_000);
      const movedAt = server.clock.now();
      assert.equal((await client.data(CurrentSessionDocument)).currentSession?.lastSeenAt, movedAt.toISOString());
      await flushLastSeen(server);
      assert.equal((await sessionRow(server, sessionId)).lastSeenAt, movedAt.getTime());

      // Half a minute later: at most once a minute, so it stays.
      server.clock.advance(30_000);
      assert.equal((await client.data(CurrentSessionDocument)).currentSession?.lastSeenAt, movedAt.toISOString());
      await flushLastSeen(server);
      assert.equal((await sessionRow(server, sessionId)).lastSeenAt, movedAt.getTime());

      // A minute on, a request queues a new lastSeenAt; the logout right after must win over it.
      server.clock.advance(60_000);
      const oldCookie = client.cookie;
      assert.ok(oldCookie);
      assert.equal((await client.data(MeDocument)).me?.id, login.user.id);
      assert.equal((await client.data(LogoutDocument)).logout, true);
      const endedAt = server.clock.now().getTime();
      await flushLastSeen(server);
      const ended = await sessionRow(server, sessionId);
      assert.deepEqual({ endedAt: ended.endedAt, endReason: ended.endReason }, { endedAt, endReason: 'LOGOUT' });

      // Later requests with the old cookie neither sign in nor touch the row.
      for (let i = 0; i < 2; i++) {
        server.clock.advance(5 * 60_000);
        await assertAnonymous(server.client({ cookie: oldCookie }), `${i + 1}. request with the old cookie`);
      }
      await flushLastSeen(server);
      const after = await sessionRow(server, sessionId);
      assert.deepEqual(after, ended);
      assert.ok(after.lastSeenAt <= endedAt);
    });
  });
}

describe('core: COOKIE_SECURE=on', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { COOKIE_SECURE: 'on' } });
  });
  after(() => server.stop());

  it('names the cookie __Host-gatehouse_session and marks it Secure; only that name signs in', async () => {
    const client = server.client();
    const result = await client.request(LoginDocument, { username: ADMIN_USERNAME, password: ADMIN_PASSWORD });
    assert.equal(result.errors, undefined);
    const cookie = onlySetCookie(result);
    assert.equal(cookie.name, '__Host-gatehouse_session');
    assert.match(cookie.value, TOKEN_PATTERN);
    assert.deepEqual([...cookie.attributes.keys()].sort(), [
      'expires',
      'httponly',
      'max-age',
      'path',
      'samesite',
      'secure',
    ]);
    // __Host- requires Secure, Path=/ and no Domain, or browsers drop the cookie.
    assert.equal(cookie.attributes.get('path'), '/');
    assert.equal(cookie.attributes.get('samesite'), 'Lax');
    assert.equal(cookie.attributes.has('domain'), false);

    assert.equal((await client.data(MeDocument)).me?.username, ADMIN_USERNAME);
    const unprefixed = server.client({ cookie: `gatehouse_session=${cookie.value}` });
    assert.equal((await unprefixed.data(MeDocument)).me, null);

    const logout = await client.request(LogoutDocument);
    assert.equal(logout.data?.logout, true);
    const cleared = onlySetCookie(logout);
    assert.equal(cleared.name, '__Host-gatehouse_session');
    assert.equal(cleared.attributes.get('max-age'), '0');
    assert.equal(cleared.attributes.has('secure'), true);
  });
});

describe('core: unexpected errors are masked', () => {
  const SECRET_DETAIL = 'connection to db-internal.example:5432 failed for user gatehouse_rw';
  let server: TestServer;
  before(async () => {
    // The only fault injection in these tests: a hasher that fails like a broken dependency
    // would, for one password. Everything else is the production path.
    const real = createArgon2Hasher();
    const failing: PasswordHasher = {
      hash: (password) => real.hash(password),
      verify: async (passwordHash, password) => {
        if (password === 'trigger-internal-failure') throw new Error(SECRET_DETAIL);
        return real.verify(passwordHash, password);
      },
      close: () => real.close(),
    };
    server = await startTestServer({ overrides: { hasher: failing } });
  });
  after(() => server.stop());

  for (const nodeEnv of [undefined, 'development', 'production']) {
    it(`hides the message and stack of an unexpected error (NODE_ENV=${nodeEnv ?? 'unset'})`, async () => {
      // Yoga decides "development" from process.env at the time it masks an error.
      const saved = process.env.NODE_ENV;
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
      let result: GraphQLResponse<unknown>;
      let raw: string;
      try {
        const response = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
          body: JSON.stringify({
            query: print(LoginDocument),
            variables: { username: ADMIN_USERNAME, password: 'trigger-internal-failure' },
          }),
        });
        raw = await response.text();
        result = { status: response.status, headers: response.headers, ...JSON.parse(raw) };
      } finally {
        if (saved === undefined) delete process.env.NODE_ENV;
        else process.env.NODE_ENV = saved;
      }
      assert.equal(result.errors?.length, 1, raw);
      assert.equal(result.errors?.[0]?.message, 'Unexpected error.');
      assert.notEqual(errorCode(result), 'INVALID_CREDENTIALS');
      assert.ok(!raw.includes('db-internal'), `leaked: ${raw}`);
      assert.ok(!raw.includes('gatehouse_rw'), `leaked: ${raw}`);
      assert.ok(!/\bat .*\.(ts|js):\d+/.test(raw), `leaked a stack: ${raw}`);
      assert.deepEqual(result.headers.getSetCookie(), []);
      // The server keeps serving.
      const admin = await server.adminClient();
      assert.equal((await admin.data(MeDocument)).me?.username, ADMIN_USERNAME);
    });
  }
});
