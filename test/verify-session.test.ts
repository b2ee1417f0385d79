/**
 * `verifySession`: another service checks a session token with its service token, under the
 * same rules as a request carrying that token (expiry, idle timeout, a disabled user, the device
 * binding), and the check counts as a use of the session. Anything that is not a live session is
 * null, never an error, except absurd sizes (BAD_USER_INPUT). Real server, both databases, a
 * clock the test moves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generatePendingToken, generateToken } from '../src/sessions/tokens.js';
import {
  DisableUserDocument,
  KickSessionDocument,
  LogoutDocument,
  SessionsByUserDocument,
} from './generated/graphql.js';
import { signInBound } from './support/bound-sessions.js';
import { errorCode, type GraphQLResponse, type TestClient } from './support/client.js';
import { MINUTE } from './support/clock.js';
import { DATABASE_KINDS } from './support/databases.js';
import { createServiceToken, revokeServiceToken, type ServiceToken } from './support/end-feed.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';

const IDLE_TIMEOUT_MS = 30 * MINUTE;
const MAX_AGE_MS = 3 * 60 * MINUTE;
const SETTINGS = { ...QUIET_SWEEPER, SESSION_IDLE_TIMEOUT: '30m', SESSION_MAX_AGE: '3h' };

const VERIFY = `query($token: String!, $boundCookie: String) {
  verifySession(token: $token, boundCookie: $boundCookie) {
    user { id username role }
    session { id expiresAt assurance deviceBound lastSeenAt }
    idleExpiresAt
  }
}`;

interface Verified {
  user: { id: string; username: string; role: string };
  session: { id: string; expiresAt: string; assurance: string; deviceBound: boolean; lastSeenAt: string };
  idleExpiresAt: string;
}
type VerifyData = { verifySession: Verified | null };

/** Refused with `code`: the field is nullable, so `data` keeps it, as null. */
function assertRefused(result: GraphQLResponse<VerifyData>, code: string, what: string): void {
  assert.equal(errorCode(result), code, `${what}: ${JSON.stringify(result.errors)}`);
  assert.equal(result.data?.verifySession ?? null, null, `${what}: answered despite the error`);
}

let userCounter = 0;
const uniqueName = (prefix: string) => `${prefix}${++userCounter}`;

for (const kind of DATABASE_KINDS) {
  describe(`verifySession on ${kind}`, { timeout: 60_000 }, () => {
    let server: TestServer;
    let service: ServiceToken;
    /** Requests with the VERIFY_SESSIONS token. */
    let verifier: TestClient;
    before(async () => {
      server = await startTestServer({ database: kind, env: SETTINGS });
      service = await createServiceToken(server, ['VERIFY_SESSIONS']);
      verifier = server.client({ authorization: `Bearer ${service.token}` });
    });
    after(() => server?.stop());

    const verify = async (token: string, boundCookie?: string) =>
      (await verifier.data<VerifyData, unknown>(VERIFY, { token, boundCookie })).verifySession;

    /** A new user and one session: its client (token in `.token`), ids, and an admin signed in now. */
    async function signedInUser() {
      const admin = await server.adminClient();
      const username = uniqueName('verified');
      const userId = await createUser(admin, username);
      const { client, session } = await signIn(server, username);
      return { admin, username, userId, client, token: client.token!, sessionId: session.id };
    }

    async function storedEndReason(admin: TestClient, userId: string, sessionId: string) {
      const { sessionsByUser } = await admin.data(SessionsByUserDocument, { userId, includeEnded: true });
      return sessionsByUser.find((session) => session.id === sessionId)?.endReason ?? null;
    }

    it('a live session: its user and session, and when it idles out', async () => {
      const { username, userId, token, sessionId } = await signedInUser();
      const verified = await verify(token);
      assert.ok(verified);
      assert.deepEqual(verified.user, { id: userId, username, role: 'USER' });
      assert.equal(verified.session.id, sessionId);
      assert.equal(verified.session.assurance, 'AAL1');
      assert.equal(verified.session.deviceBound, false);
      const lastSeenAt = Date.parse(verified.session.lastSeenAt);
      assert.equal(Date.parse(verified.idleExpiresAt), lastSeenAt + IDLE_TIMEOUT_MS);
      assert.ok(Date.parse(verified.session.expiresAt) > Date.parse(verified.idleExpiresAt));
    });

    it('counts as a use: verified every 25 minutes, a session outlives its idle timeout, up to its absolute end', async () => {
      const { userId, token, sessionId } = await signedInUser();
      for (let elapsed = 25 * MINUTE; elapsed < MAX_AGE_MS; elapsed += 25 * MINUTE) {
        server.clock.advance(25 * MINUTE);
        const verified = await verify(token);
        assert.ok(verified, `verified ${elapsed / MINUTE} min after login`);
        assert.equal(Date.parse(verified.idleExpiresAt), server.clock.now().getTime() + IDLE_TIMEOUT_MS);
      }
      server.clock.advance(25 * MINUTE);
      assert.equal(await verify(token), null, 'past SESSION_MAX_AGE');
      // The admin signed in at the start has idled out meanwhile.
      assert.equal(await storedEndReason(await server.adminClient(), userId, sessionId), 'EXPIRED');
    });

    it('an idle session is null, and ended EXPIRED, as a request would find it', async () => {
      const { userId, token, sessionId } = await signedInUser();
      server.clock.advance(IDLE_TIMEOUT_MS + MINUTE);
      assert.equal(await verify(token), null);
      const admin = await server.adminClient();
      assert.equal(await storedEndReason(admin, userId, sessionId), 'EXPIRED');
    });

    it('ended sessions are null: logged out, kicked, their user disabled', async () => {
      const loggedOut = await signedInUser();
      await loggedOut.client.data(LogoutDocument);
      assert.equal(await verify(loggedOut.token), null, 'logged out');

      const kicked = await signedInUser();
      await kicked.admin.data(KickSessionDocument, { sessionId: kicked.sessionId });
      assert.equal(await verify(kicked.token), null, 'kicked');

      const disabled = await signedInUser();
      assert.ok(await verify(disabled.token), 'verified before the disable (and cached nowhere)');
      await disabled.admin.data(DisableUserDocument, { userId: disabled.userId });
      assert.equal(await verify(disabled.token), null, 'its user disabled');
    });

    it('a device-bound session needs its bound cookie: null without it (and not ended), live with it', async () => {
      const username = uniqueName('bound');
      await createUser(await server.adminClient(), username);
      const bound = await signInBound(server, username);
      const token = bound.client.cookie('_session')!;
      const boundCookie = bound.client.cookie('_bound')!;
      assert.ok(token && boundCookie);
      // Past the few seconds after binding in which a page's requests without the cookie pass.
      server.clock.advance(MINUTE);
      assert.equal(await verify(token), null, 'without the bound cookie');
      assert.equal(await verify(token, generateToken()), null, "with another session's bound cookie");
      const verified = await verify(token, boundCookie);
      assert.equal(verified?.session.id, bound.sessionId, 'with it: the refusals above ended nothing');
      assert.equal(verified?.session.deviceBound, true);
    });

    it('anything that is not a session token is null, without an error', async () => {
      const notSessions = {
        empty: '',
        garbage: 'not a token at all',
        unknown: generateToken(),
        'a pending login': generatePendingToken(),
        'the service token itself': service.token,
        'almost a token': `${generateToken()}x`,
        '512 characters': 'a'.repeat(512),
      };
      for (const [what, token] of Object.entries(notSessions)) {
        const result = await verifier.request<VerifyData, unknown>(VERIFY, { token });
        assert.equal(result.errors, undefined, `${what}: ${JSON.stringify(result.errors)}`);
        assert.deepEqual(result.data, { verifySession: null }, what);
      }
    });

    it('absurd sizes are BAD_USER_INPUT, and the server answers the next check', async () => {
      const { token } = await signedInUser();
      const tooLong = 'a'.repeat(513);
      assertRefused(
        await verifier.request<VerifyData, unknown>(VERIFY, { token: tooLong }),
        'BAD_USER_INPUT',
        'a 513-character token',
      );
      assertRefused(
        await verifier.request<VerifyData, unknown>(VERIFY, { token, boundCookie: tooLong }),
        'BAD_USER_INPUT',
        'a 513-character bound cookie',
      );
      assertRefused(
        await verifier.request<VerifyData, unknown>(VERIFY, { token: 'x'.repeat(20_000) }),
        'BAD_USER_INPUT',
        'a 20 000-character token',
      );
      assert.ok(await verify(token), 'the session was not harmed');
    });

    it('who may verify: only a VERIFY_SESSIONS token', async () => {
      const { admin, token } = await signedInUser();
      const reader = await createServiceToken(server, ['READ_SESSIONS']);
      const asReader = server.client({ authorization: `Bearer ${reader.token}` });
      assertRefused(
        await asReader.request<VerifyData, unknown>(VERIFY, { token }),
        'FORBIDDEN',
        'a READ_SESSIONS token',
      );
      assertRefused(await admin.request<VerifyData, unknown>(VERIFY, { token }), 'FORBIDDEN', "an admin's session");
      assertRefused(
        await server.client().request<VerifyData, unknown>(VERIFY, { token }),
        'UNAUTHENTICATED',
        'anonymous',
      );

      const revoked = await createServiceToken(server, ['VERIFY_SESSIONS']);
      await revokeServiceToken(server, revoked.id);
      const asRevoked = server.client({ authorization: `Bearer ${revoked.token}` });
      assertRefused(
        await asRevoked.request<VerifyData, unknown>(VERIFY, { token }),
        'UNAUTHENTICATED',
        'a revoked token',
      );
      assert.ok(await verify(token), 'the session is fine');
    });
  });
}
