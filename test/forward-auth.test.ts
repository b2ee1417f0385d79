import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KickSessionDocument, LogoutDocument } from './generated/graphql.js';
import { DATABASE_KINDS } from './support/databases.js';
import { flushLastSeen } from './support/app.js';
import { healthz, rawRequest } from './support/http.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, sessionRow, signIn, verify, type SignedIn } from './support/sessions.js';

const VIEWER_HEADERS = ['x-user-id', 'x-user-name', 'x-user-role', 'x-session-id'];

function assertGranted(response: Response, signedIn: SignedIn, label: string): void {
  assert.equal(response.status, 200, label);
  assert.equal(response.headers.get('cache-control'), 'no-store', label);
  assert.equal(response.headers.get('x-user-id'), signedIn.user.id, label);
  assert.equal(response.headers.get('x-user-name'), encodeURIComponent(signedIn.user.username), label);
  assert.equal(response.headers.get('x-user-role'), signedIn.user.role, label);
  assert.equal(response.headers.get('x-session-id'), signedIn.session.id, label);
  assert.deepEqual(response.headers.getSetCookie(), [], label);
}

function assertRefused(response: Response, label: string): void {
  assert.equal(response.status, 401, label);
  assert.equal(response.headers.get('cache-control'), 'no-store', label);
  for (const name of VIEWER_HEADERS) assert.equal(response.headers.get(name), null, `${label}: ${name}`);
}

/**
 * `GET /auth/verify` with a header value given as raw bytes, which fetch cannot send (it only
 * takes ByteStrings, and validates them).
 */
async function verifyRaw(server: TestServer, name: string, value: Buffer) {
  // latin1 writes each char as one byte: the header carries exactly `value`.
  const headers = { [name]: value.toString('latin1') };
  const response = await rawRequest(server.url, { method: 'GET', path: '/auth/verify', headers });
  return { status: response.status, cacheControl: response.headers['cache-control'] };
}

for (const kind of DATABASE_KINDS) {
  describe(`forward auth: GET /auth/verify (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      for (const username of ['fwd', 'zoë', 'gone', 'kicked', 'stale']) await createUser(admin.client, username);
    });
    after(() => server.stop());

    it('200 with X-User-Id, X-User-Name, X-User-Role and X-Session-Id for a valid cookie and a bearer token', async () => {
      const user = await signIn(server, 'fwd');
      assert.ok(user.client.cookie && user.client.token);
      assertGranted(await verify(server, { cookie: user.client.cookie }), user, 'cookie');
      assertGranted(await verify(server, { authorization: `Bearer ${user.client.token}` }), user, 'bearer');
      assertGranted(await verify(server, { cookie: admin.client.cookie ?? '' }), admin, 'admin cookie');
      assert.equal(admin.user.role, 'ADMIN');
      // Other cookies beside it, a query string (nginx may pass one) and another method (Traefik
      // forwards the original one) change nothing.
      assertGranted(
        await verify(server, { cookie: `theme=dark; ${user.client.cookie}; other=1` }),
        user,
        'among other cookies',
      );
      const withQuery = await fetch(`${server.url}/auth/verify?rd=%2Fadmin`, {
        headers: { cookie: user.client.cookie },
      });
      assertGranted(withQuery, user, 'with a query string');
      assertGranted(await verify(server, { cookie: user.client.cookie }, 'POST'), user, 'POST');
      // A proxy may pass the client's own Authorization along: one that is not Bearer is ignored.
      assertGranted(
        await verify(server, { cookie: user.client.cookie, authorization: 'Basic dXNlcjpwYXNz' }),
        user,
        'cookie beside Basic auth',
      );
    });

    it('401 without credentials, and for logged-out and kicked sessions (cookie and bearer)', async () => {
      assertRefused(await verify(server), 'no credentials');

      const gone = await signIn(server, 'gone');
      const goneHeaders: Array<Record<string, string>> = [
        { cookie: gone.client.cookie ?? '' },
        { authorization: `Bearer ${gone.client.token}` },
      ];
      for (const headers of goneHeaders) assertGranted(await verify(server, headers), gone, 'before logout');
      await gone.client.data(LogoutDocument);
      for (const headers of goneHeaders) assertRefused(await verify(server, headers), 'after logout');

      const kicked = await signIn(server, 'kicked');
      const kickedCookie = { cookie: kicked.client.cookie ?? '' };
      assertGranted(await verify(server, kickedCookie), kicked, 'before the kick');
      await admin.client.data(KickSessionDocument, { sessionId: kicked.session.id });
      assertRefused(await verify(server, kickedCookie), 'after the kick');
    });

    it('401 for garbage tokens in the cookie and in Authorization; the server stays up', async () => {
      const garbage: Array<[string, string]> = [
        ['empty', ''],
        ['8 KB', 'x'.repeat(8192)],
        // Non-ASCII: the UTF-8 bytes, as fetch sends a ByteString (one char per byte).
        ['non-ASCII', Buffer.from('ключ-🔑-é', 'utf8').toString('latin1')],
        ['SQL', "' OR 1=1 --"],
        ['SQL 2', "x'; DROP TABLE sessions; --"],
        ['path', '../../etc/passwd'],
        ['NUL-escaped', '%00'],
        ['well-formed but unknown', randomBytes(32).toString('base64url')],
        // The public session id is not a credential.
        ['a session id', admin.session.id],
      ];
      for (const [label, value] of garbage) {
        const variants: Array<Record<string, string>> = [
          { cookie: `gatehouse_session=${value}` },
          { authorization: `Bearer ${value}` },
          { authorization: value },
        ];
        for (const headers of variants) {
          assertRefused(await verify(server, headers), `${label} in ${Object.keys(headers)[0]}`);
        }
      }
      // Raw bytes that are not Latin-1 text at all (invalid UTF-8 and control-free high bytes).
      for (const bytes of [Buffer.from([0xff, 0xfe, 0x80, 0x41]), Buffer.from('ключ🔑', 'utf8')]) {
        for (const [name, prefix] of [
          ['cookie', 'gatehouse_session='],
          ['authorization', 'Bearer '],
        ] as const) {
          const result = await verifyRaw(server, name, Buffer.concat([Buffer.from(prefix), bytes]));
          assert.deepEqual(result, { status: 401, cacheControl: 'no-store' }, `raw bytes in ${name}`);
        }
      }
      assert.equal(await healthz(server), 200);
      assertGranted(await verify(server, { cookie: admin.client.cookie ?? '' }), admin, 'a good cookie afterwards');
    });

    it('a non-ASCII username comes back percent-encoded in X-User-Name', async () => {
      const zoe = await signIn(server, 'zoë');
      const response = await verify(server, { cookie: zoe.client.cookie ?? '' });
      assert.equal(response.status, 200);
      const header = response.headers.get('x-user-name');
      assert.equal(header, 'zo%C3%AB');
      assert.equal(decodeURIComponent(header ?? ''), 'zoë');
      assert.equal(response.headers.get('x-user-id'), zoe.user.id);
    });

    // Last: it moves the clock past every session's idle timeout.
    it('401 for an expired session (idle past SESSION_IDLE_TIMEOUT), which it ends with EXPIRED', async () => {
      const stale = await signIn(server, 'stale');
      const headers = { cookie: stale.client.cookie ?? '' };
      assertGranted(await verify(server, headers), stale, 'fresh');
      server.clock.advance(23 * 3_600_000);
      assertGranted(await verify(server, headers), stale, 'used after 23 h');
      // That use is written within a second of real time, which the manual clock skips.
      await flushLastSeen(server);
      server.clock.advance(24 * 3_600_000 + 1);
      assertRefused(await verify(server, headers), 'idle for 24 h');
      assertRefused(await verify(server, { authorization: `Bearer ${stale.client.token}` }), 'bearer, idle for 24 h');
      const row = await sessionRow(server, stale.session.id);
      assert.deepEqual([row.endReason, row.endedAt], ['EXPIRED', server.clock.now().getTime()]);
    });
  });
}
