/**
 * What a passkey signs in (DESIGN.md, "Second factors and passkeys"): a passwordless login, the
 * second step of a password login, a step-up, and, under REQUIRE_SECOND_FACTOR, the enrollment
 * that finishes a held login; with the cookie, the token's rotation, the session's assurance,
 * the session limit and the pending login's gate, over real HTTP on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AssuredCurrentSessionDocument,
  FactorEventsDocument,
  FinishPasskeyLoginDocument,
  MySecondFactorsDocument,
  PasskeyStepUpDocument,
  RevokeOtherSessionsDocument,
  SetUserSessionLimitDocument,
  StartPasskeyLoginDocument,
  StartPasskeyRegistrationDocument,
} from './generated/graphql.js';
import type { TestClient } from './support/client.js';
import { SECOND } from './support/clock.js';
import { DATABASE_KINDS } from './support/databases.js';
import { PENDING_TOKEN, passwordLogin } from './support/factors.js';
import {
  clientFrom,
  finishRegistration,
  loginOptions,
  passkeyLogin,
  refusal,
  registerPasskey,
  registrationOptions,
  userIdOf,
  PASSKEY_TEST_ENV as ENV,
  REAUTH_WINDOW_MS,
  uniqueName,
} from './support/passkeys.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startTestServer, type TestServer } from './support/server.js';
import { assertAnonymous, sessionRow, sessionRowsOf } from './support/sessions.js';
import { SoftAuthenticator } from './support/soft-authenticator.js';

/** `GET /auth/verify` with the client's cookie: its status and the session headers. */
async function forwardAuth(server: TestServer, client: TestClient) {
  const response = await fetch(`${server.url}/auth/verify`, { headers: { cookie: client.cookie ?? '' } });
  await response.arrayBuffer();
  const header = (name: string) => response.headers.get(name);
  return { status: response.status, userId: header('x-user-id'), assurance: header('x-session-assurance') };
}

/** A passwordless login on `client`: its options, the authenticator's answer, the mutation. */
async function signInWithPasskey(client: TestClient, authenticator: SoftAuthenticator) {
  const response = authenticator.authenticate(await loginOptions(client));
  return client.request(FinishPasskeyLoginDocument, { response });
}

for (const kind of DATABASE_KINDS) {
  describe(`passkeys: signing in (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind, env: ENV });
    });
    after(() => server?.stop());

    /** A user with a registered passkey (added on a password session, which it made AAL2). */
    async function userWithPasskey(prefix: string) {
      const username = uniqueName(prefix);
      const client = await server.userClient(username);
      const authenticator = new SoftAuthenticator(server.url);
      await registerPasskey(client, authenticator);
      return { username, client, userId: await userIdOf(client), authenticator };
    }

    it('registration: 10 recovery codes with the first factor only, the passkey listed, the session AAL2, audited', async () => {
      const username = uniqueName('ada');
      const client = await server.userClient(username);
      const userId = await userIdOf(client);
      const first = await finishRegistration(
        client,
        new SoftAuthenticator(server.url).register(await registrationOptions(client)),
      );
      const payload = first.data?.finishPasskeyRegistration;
      assert.ok(payload, JSON.stringify(first.errors));
      assert.equal(payload.recoveryCodes.length, 10);
      const { currentSession } = await client.data(AssuredCurrentSessionDocument);
      assert.equal(currentSession?.assurance, 'AAL2');
      assert.deepEqual(currentSession?.authenticationMethods, ['PASSWORD', 'PASSKEY']);
      const second = await finishRegistration(
        client,
        new SoftAuthenticator(server.url).register(await registrationOptions(client)),
      );
      assert.deepEqual(second.data?.finishPasskeyRegistration.recoveryCodes, [], 'the user keeps the codes they have');
      const added = [payload.factor.id, second.data?.finishPasskeyRegistration.factor.id].sort();
      const { me } = await client.data(MySecondFactorsDocument);
      assert.deepEqual(
        me?.secondFactors.map((factor) => factor.kind),
        ['PASSKEY', 'PASSKEY'],
      );
      assert.deepEqual(me?.secondFactors.map((factor) => factor.id).sort(), added);
      const admin = await server.adminClient();
      const { authEvents } = await admin.data(FactorEventsDocument, { userId, types: ['SECOND_FACTOR_ADDED'] });
      assert.deepEqual(
        authEvents.edges.map(({ node }) => node.method),
        ['PASSKEY', 'PASSKEY'],
      );
      assert.deepEqual(authEvents.edges.map(({ node }) => node.factorId).sort(), added);
    });

    it('a passwordless login: the cookie is set, the session is AAL2 by PASSKEY alone, and /auth/verify says so', async () => {
      const { userId, authenticator } = await userWithPasskey('bea');
      const client = clientFrom(server);
      const result = await signInWithPasskey(client, authenticator);
      const login = result.data?.finishPasskeyLogin;
      assert.ok(login, JSON.stringify(result.errors));
      assert.equal(login.nextStep, 'DONE');
      assert.equal(login.user.id, userId);
      assert.equal(login.session.assurance, 'AAL2');
      assert.deepEqual(login.session.authenticationMethods, ['PASSKEY']);
      assert.equal(login.session.current, true);
      assert.match(client.token ?? '', /^[A-Za-z0-9_-]{43}$/, 'a session token in the cookie');
      const { currentSession } = await client.data(AssuredCurrentSessionDocument);
      assert.equal(currentSession?.id, login.session.id);
      assert.deepEqual(await forwardAuth(server, client), { status: 200, userId, assurance: 'AAL2' });
    });

    it('a passwordless login replaces the session the client had (SUPERSEDED), and session limits apply', async () => {
      const { userId, authenticator } = await userWithPasskey('cleo');
      const client = clientFrom(server);
      const first = (await signInWithPasskey(client, authenticator)).data?.finishPasskeyLogin.session.id;
      assert.ok(first);
      const second = (await signInWithPasskey(client, authenticator)).data?.finishPasskeyLogin.session.id;
      assert.ok(second && second !== first);
      assert.equal((await sessionRow(server, first)).endReason, 'SUPERSEDED', 'the replaced session');
      const admin = await server.adminClient();
      await admin.data(SetUserSessionLimitDocument, { userId, limit: 1 });
      const elsewhere = clientFrom(server);
      assert.equal((await signInWithPasskey(elsewhere, authenticator)).errors, undefined);
      const open = (await sessionRowsOf(server, userId)).filter((row) => row.endedAt === null);
      assert.equal(open.length, 1, 'single login: the newest session only');
      await assertAnonymous(client, 'the session the limit ended');
    });

    it('the second step of a password login: the pending login’s own passkeys, then a new token, PASSWORD and PASSKEY at AAL2', async () => {
      const { username, userId, authenticator } = await userWithPasskey('dana');
      const { client, login } = await passwordLogin(server, username);
      assert.equal(login.nextStep, 'SECOND_FACTOR');
      const pendingToken = client.token;
      assert.match(pendingToken ?? '', PENDING_TOKEN);
      const options = await loginOptions(client);
      assert.deepEqual(
        options.allowCredentials?.map((entry) => entry.id),
        [authenticator.credentials[0]!.id.toString('base64url')],
      );
      const result = await client.request(FinishPasskeyLoginDocument, {
        response: authenticator.authenticate(options),
      });
      const finished = result.data?.finishPasskeyLogin;
      assert.ok(finished, JSON.stringify(result.errors));
      assert.equal(finished.nextStep, 'DONE');
      assert.equal(finished.user.id, userId);
      assert.deepEqual(finished.session.authenticationMethods, ['PASSWORD', 'PASSKEY']);
      assert.equal(finished.session.assurance, 'AAL2');
      assert.ok(client.token && client.token !== pendingToken && !PENDING_TOKEN.test(client.token), 'a new token');
      assert.deepEqual(await forwardAuth(server, client), { status: 200, userId, assurance: 'AAL2' });
      const stale = server.client();
      stale.cookie = client.cookie!.replace(client.token!, pendingToken!);
      await assertAnonymous(stale, 'the pending token after the second step');
    });

    it("another user's passkey on a pending login is refused and the login stays pending; a pending login cannot register one", async () => {
      const owner = await userWithPasskey('erin');
      const other = await userWithPasskey('esme');
      const { client } = await passwordLogin(server, owner.username);
      const pendingToken = client.token;
      const options = await loginOptions(client);
      const wrong = other.authenticator.authenticate({ ...options, allowCredentials: [] });
      assert.equal(
        refusal(await client.request(FinishPasskeyLoginDocument, { response: wrong })),
        'INVALID_SECOND_FACTOR',
      );
      assert.equal(client.token, pendingToken, 'no new cookie');
      assert.equal((await forwardAuth(server, client)).status, 401, 'still pending');
      assert.equal(refusal(await client.request(StartPasskeyRegistrationDocument)), 'SECOND_FACTOR_REQUIRED');
      const right = owner.authenticator.authenticate(await loginOptions(client));
      assert.equal((await client.request(FinishPasskeyLoginDocument, { response: right })).errors, undefined);
      assert.equal((await forwardAuth(server, client)).status, 200);
    });

    it('step-up by passkey: the viewer’s own passkey gives a fresh AAL2 proof; another’s, or one sent with a password, is refused', async () => {
      const { userId, authenticator } = await userWithPasskey('fay');
      const other = await userWithPasskey('fern');
      const client = clientFrom(server);
      assert.equal((await signInWithPasskey(client, authenticator)).errors, undefined);
      server.clock.advance(REAUTH_WINDOW_MS + SECOND);
      assert.equal(refusal(await client.request(RevokeOtherSessionsDocument)), 'REAUTHENTICATION_REQUIRED');
      const before = (await client.data(AssuredCurrentSessionDocument)).currentSession?.authenticatedAt;
      const foreign = other.authenticator.authenticate({ ...(await loginOptions(client)), allowCredentials: [] });
      assert.equal(
        refusal(await client.request(PasskeyStepUpDocument, { passkeyResponse: foreign })),
        'INVALID_SECOND_FACTOR',
      );
      const withPassword = authenticator.authenticate(await loginOptions(client));
      const mixed = await client.request(PasskeyStepUpDocument, { passkeyResponse: withPassword, password: 'x' });
      assert.equal(refusal(mixed), 'BAD_USER_INPUT');
      assert.equal((await client.data(AssuredCurrentSessionDocument)).currentSession?.authenticatedAt, before);
      const own = authenticator.authenticate(await loginOptions(client));
      const { reauthenticate } = await client.data(PasskeyStepUpDocument, { passkeyResponse: own });
      assert.equal(reauthenticate.authenticatedAt, server.clock.now().toISOString());
      assert.equal(reauthenticate.assurance, 'AAL2');
      assert.equal(typeof (await client.data(RevokeOtherSessionsDocument)).revokeOtherSessions, 'number');
      const admin = await server.adminClient();
      const { authEvents } = await admin.data(FactorEventsDocument, { userId, types: ['REAUTHENTICATED'] });
      assert.deepEqual(
        authEvents.edges.map(({ node }) => node.method),
        ['PASSKEY'],
      );
    });

    it('failures are audited as SECOND_FACTOR_FAILED with method PASSKEY, against the passkey’s owner', async () => {
      const { userId, authenticator } = await userWithPasskey('gail');
      const options = await loginOptions(server.client());
      const outcome = await passkeyLogin(server, authenticator.authenticate(options, { userVerified: false }));
      assert.equal(outcome.code, 'INVALID_SECOND_FACTOR');
      const admin = await server.adminClient();
      const { authEvents } = await admin.data(FactorEventsDocument, { userId, types: ['SECOND_FACTOR_FAILED'] });
      assert.deepEqual(
        authEvents.edges.map(({ node }) => node.method),
        ['PASSKEY'],
      );
    });
  });

  describe(`passkeys: enrolling one to finish a held login, REQUIRE_SECOND_FACTOR=admins (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind, env: { ...ENV, REQUIRE_SECOND_FACTOR: 'admins' } });
    });
    after(() => server?.stop());

    it('a login held to enroll registers a passkey and becomes a session (new token, AAL2); it cannot sign in with one first', async () => {
      const { client, login } = await passwordLogin(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      assert.equal(login.nextStep, 'ENROLL_SECOND_FACTOR');
      const heldToken = client.token;
      assert.equal(refusal(await client.request(StartPasskeyLoginDocument, {})), 'SECOND_FACTOR_REQUIRED');
      const authenticator = new SoftAuthenticator(server.url);
      const result = await finishRegistration(
        client,
        authenticator.register(await registrationOptions(client)),
        'Phone',
      );
      const payload = result.data?.finishPasskeyRegistration;
      assert.ok(payload, JSON.stringify(result.errors));
      assert.equal(payload.factor.name, 'Phone');
      assert.equal(payload.recoveryCodes.length, 10);
      assert.ok(client.token && client.token !== heldToken && !PENDING_TOKEN.test(client.token), 'a session token');
      const { currentSession } = await client.data(AssuredCurrentSessionDocument);
      assert.equal(currentSession?.assurance, 'AAL2');
      assert.deepEqual(currentSession?.authenticationMethods, ['PASSWORD', 'PASSKEY']);
      assert.equal((await forwardAuth(server, client)).status, 200);
      const again = clientFrom(server);
      assert.equal((await signInWithPasskey(again, authenticator)).data?.finishPasskeyLogin.nextStep, 'DONE');
    });
  });
}
