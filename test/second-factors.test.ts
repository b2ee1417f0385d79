/**
 * Second factors (DESIGN.md, "Second factors and passkeys"): enrolling an authenticator app, the
 * second step of a login (the token rotates), recovery codes, every refusal of a code, expiry of
 * a pending login, step-up with a second factor, removing and resetting factors (from the API and
 * the command line), and the audit events, webhooks and metrics they make. Real servers over
 * HTTP and WebSocket, SQLite and PostgreSQL; codes computed from the secret as an app does
 * (test/support/totp.ts, checked against RFC 6238 in totp-rfc6238.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AssuredCurrentSessionDocument,
  ConfirmTotpEnrollmentDocument,
  FactorEventsDocument,
  MySecondFactorsDocument,
  RegenerateRecoveryCodesDocument,
  RemoveSecondFactorDocument,
  ResetSecondFactorsDocument,
  RevokeOtherSessionsDocument,
  SessionRevokedDocument,
  StartTotpEnrollmentDocument,
  StepUpDocument,
  UserSecondFactorsDocument,
  VerifySecondFactorDocument,
  WhoamiDocument,
  type AuthEventType,
} from './generated/graphql.js';
import { runSweeper } from './support/app.js';
import { waitFor } from './support/async.js';
import { assertRefused, type TestClient } from './support/client.js';
import { MINUTE, SECOND } from './support/clock.js';
import { DATABASE_KINDS } from './support/databases.js';
import {
  enrollTotp,
  freshCode,
  passwordLogin,
  PENDING_TOKEN,
  signInWithCode,
  TOTP_STEP_MS,
} from './support/factors.js';
import { openSocket, subscribeWs } from './support/live.js';
import { runCli } from './support/process.js';
import { Receiver } from './support/receiver.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { assertAnonymous, createUser, signIn, verify } from './support/sessions.js';
import { totpCode } from './support/totp.js';
import { createWebhook, verified } from './support/webhooks.js';

/** PostgreSQL needs SECRETS_KEY (instances share it); SQLite makes a key file beside the database. */
const SECRETS_KEY = randomBytes(32).toString('base64');
const RECOVERY_CODE = /^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$/;

let counter = 0;
const uniqueName = (prefix: string) => `${prefix}${++counter}`;

/** The audit events of `userId` of these types, oldest first. */
async function eventsOf(admin: TestClient, userId: string, types: AuthEventType[]) {
  const { authEvents } = await admin.data(FactorEventsDocument, { userId, types });
  return authEvents.edges.map((edge) => edge.node).reverse();
}

/** A code that is not the right one now (nor, but for 2 in a million, one step either way). */
const wrongCode = (code: string) => code.slice(0, 5) + String((Number(code[5]) + 5) % 10);

for (const kind of DATABASE_KINDS) {
  const env = { ...QUIET_SWEEPER, ...(kind === 'postgres' ? { SECRETS_KEY } : {}) };

  describe(`second factors: apps, the second step, recovery codes (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;
    before(async () => {
      server = await startTestServer({ database: kind, env });
      admin = await server.adminClient();
    });
    after(() => server?.stop());

    /** A new USER signed in with the password (a fresh session: step-up passes). */
    async function newUser(prefix: string) {
      const username = uniqueName(prefix);
      const userId = await createUser(admin, username);
      return { username, userId, client: (await signIn(server, username)).client };
    }

    it('enrolling an app: a secret and its URI, a first code confirms it, 10 recovery codes come with it, the session is AAL2', async () => {
      const { username, userId, client } = await newUser('ella');
      const { startTotpEnrollment } = await client.data(StartTotpEnrollmentDocument);
      const { secret, otpauthUri } = startTotpEnrollment;
      assert.match(secret, /^[A-Z2-7]{32}$/);
      const uri = new URL(otpauthUri);
      assert.equal(
        `${uri.protocol}//${uri.host}${decodeURIComponent(uri.pathname)}`,
        `otpauth://totp/Gatehouse:${username}`,
      );
      assert.equal(uri.searchParams.get('secret'), secret);
      assert.deepEqual(
        (await client.data(MySecondFactorsDocument)).me?.secondFactors,
        [],
        'not a factor before its code',
      );

      const now = server.clock.now();
      const refusals: Array<[variables: { code: string; name?: string }, code: string]> = [
        [{ code: 'abcdef' }, 'BAD_USER_INPUT'],
        [{ code: '12345' }, 'BAD_USER_INPUT'],
        [{ code: '1234567' }, 'BAD_USER_INPUT'],
        [{ code: totpCode(secret, now), name: 'x'.repeat(65) }, 'BAD_USER_INPUT'],
        [{ code: totpCode(secret, new Date(now.getTime() + 10 * TOTP_STEP_MS)) }, 'INVALID_SECOND_FACTOR'],
      ];
      for (const [variables, code] of refusals) {
        assertRefused(await client.request(ConfirmTotpEnrollmentDocument, variables), code, JSON.stringify(variables));
      }
      assert.deepEqual((await client.data(MySecondFactorsDocument)).me?.secondFactors, [], 'refusals change nothing');

      const { confirmTotpEnrollment } = await client.data(ConfirmTotpEnrollmentDocument, {
        code: totpCode(secret, now),
        name: ' Phone ',
      });
      const { factor, recoveryCodes } = confirmTotpEnrollment;
      assert.equal(factor.kind, 'TOTP');
      assert.equal(factor.name, 'Phone');
      assert.equal(recoveryCodes.length, 10);
      assert.equal(new Set(recoveryCodes).size, 10);
      for (const code of recoveryCodes) assert.match(code, RECOVERY_CODE);
      assert.deepEqual((await client.data(MySecondFactorsDocument)).me?.secondFactors, [factor]);
      const { currentSession } = await client.data(AssuredCurrentSessionDocument);
      assert.equal(currentSession?.assurance, 'AAL2');
      assert.deepEqual(currentSession?.authenticationMethods, ['PASSWORD', 'TOTP']);
      assertRefused(
        await client.request(ConfirmTotpEnrollmentDocument, { code: freshCode(server, secret) }),
        'BAD_USER_INPUT',
        'no enrollment is waiting any more',
      );
      const [added] = await eventsOf(admin, userId, ['SECOND_FACTOR_ADDED']);
      assert.deepEqual({ method: added?.method, factorId: added?.factorId }, { method: 'TOTP', factorId: factor.id });

      // A second app: the user keeps the recovery codes they have.
      const second = await enrollTotp(server, client, 'Tablet');
      assert.deepEqual(second.recoveryCodes, []);
      const names = (await client.data(MySecondFactorsDocument)).me?.secondFactors.map((each) => each.name);
      assert.deepEqual(names, ['Phone', 'Tablet']);
    });

    it('a password login with a factor is pending (SECOND_FACTOR); the right code rotates the token into a session at AAL2, counted and announced once', async (t) => {
      const receiver = await Receiver.start();
      t.after(() => receiver.close());
      const hook = await createWebhook(admin, receiver.url, ['SESSION_STARTED']);
      const { username, userId, client: enrolling } = await newUser('finn');
      const { secret } = await enrollTotp(server, enrolling);
      const feed = openSocket(server, { cookie: admin.cookie });
      t.after(() => feed.dispose());
      await feed.connected;
      const started = subscribeWs<{ sessionEvents: Record<string, unknown> & { session: Record<string, unknown> } }>(
        feed.client,
        `subscription($userId: ID) { sessionEvents(userId: $userId) {
           type session { id assurance authenticationMethods } } }`,
        { userId },
      );
      const succeededBefore = (await eventsOf(admin, userId, ['LOGIN_SUCCEEDED'])).length;

      const { client, login } = await passwordLogin(server, username);
      assert.equal(login.nextStep, 'SECOND_FACTOR');
      const pendingToken = client.token!;
      assert.match(pendingToken, PENDING_TOKEN);
      const pending = login.session;
      const { id: _id, createdAt: _created, expiresAt: _expires, authenticatedAt: _proved, ...shown } = pending;
      assert.deepEqual(shown, {
        ...{ current: true, active: false, endedAt: null, assurance: 'AAL1', authenticationMethods: ['PASSWORD'] },
        user: { id: userId, username },
      });
      assert.equal(Date.parse(pending.expiresAt) - Date.parse(pending.createdAt), 5 * MINUTE);
      assert.deepEqual((await client.data(AssuredCurrentSessionDocument)).currentSession, pending);
      const stored = await server.db('pending_logins').where({ id: pending.id }).first();
      assert.equal(stored?.token_hash, createHash('sha256').update(pendingToken).digest('hex'));
      assert.equal(await server.db('sessions').where({ id: pending.id }).first(), undefined, 'not a session row');

      const { verifySecondFactor } = await client.data(VerifySecondFactorDocument, {
        code: freshCode(server, secret),
      });
      assert.equal(verifySecondFactor.nextStep, 'DONE');
      const session = verifySecondFactor.session;
      assert.notEqual(session.id, pending.id);
      assert.equal(session.assurance, 'AAL2');
      assert.deepEqual(session.authenticationMethods, ['PASSWORD', 'TOTP']);
      assert.ok(client.token && client.token !== pendingToken && !PENDING_TOKEN.test(client.token), 'a new token');
      assert.deepEqual((await client.data(AssuredCurrentSessionDocument)).currentSession, session);
      await assertAnonymous(server.client({ cookie: `gatehouse_session=${pendingToken}` }), 'the pending token');
      assert.equal(await server.db('pending_logins').where({ id: pending.id }).first(), undefined);

      const verified200 = await verify(server, { cookie: client.cookie! });
      assert.equal(verified200.status, 200);
      assert.equal(verified200.headers.get('x-session-assurance'), 'AAL2');
      assert.equal(verified200.headers.get('x-session-id'), session.id);

      // The manual clock stands still between steps: events of one millisecond come in any order.
      const logins = await eventsOf(admin, userId, ['LOGIN_SUCCEEDED']);
      assert.equal(logins.length, succeededBefore + 1, 'one LOGIN_SUCCEEDED, at the second step');
      const completed = logins.filter((event) => event.sessionId === session.id);
      assert.deepEqual(
        completed.map((event) => event.method),
        ['TOTP'],
      );
      assert.equal((await eventsOf(admin, userId, ['SECOND_FACTOR_REQUESTED'])).length, 1);
      const [event] = await started.received(1);
      assert.deepEqual(event?.data?.sessionEvents, {
        type: 'STARTED',
        session: { id: session.id, assurance: 'AAL2', authenticationMethods: ['PASSWORD', 'TOTP'] },
      });
      const mine = () =>
        receiver.requests
          .map((request) => verified(hook.secret, request))
          .filter((hooked) => hooked.data.userId === userId && hooked.data.sessionId !== undefined);
      await waitFor('the session.started webhooks of the user', () => mine().length >= 2);
      const webhooked = mine().find((hooked) => hooked.data.sessionId === session.id);
      assert.equal(webhooked?.type, 'session.started');
      assert.equal(webhooked?.data.assurance, 'AAL2');
      assert.deepEqual(webhooked?.data.authenticationMethods, ['PASSWORD', 'TOTP']);
      assert.equal(
        mine().filter((hooked) => hooked.data.sessionId === pending.id).length,
        0,
        'a pending login is not a session start',
      );
    });

    it('a code is accepted once; spaces inside are fine; letters or a wrong length are BAD_USER_INPUT and count as no guess', async () => {
      const { username, userId, client } = await newUser('gil');
      const { secret } = await enrollTotp(server, client);
      const code = freshCode(server, secret);
      const first = await passwordLogin(server, username);
      assert.equal((await first.client.data(VerifySecondFactorDocument, { code })).verifySecondFactor.nextStep, 'DONE');

      const second = await passwordLogin(server, username);
      assertRefused(
        await second.client.request(VerifySecondFactorDocument, { code }),
        'INVALID_SECOND_FACTOR',
        'reused',
      );
      const counted = async () =>
        Number(
          (
            await server
              .db('login_throttles')
              .where({ key: `second-factor:${userId}` })
              .first()
          )?.failures ?? 0,
        );
      assert.equal(await counted(), 1);
      for (const malformed of ['12a456', '12345', '1234567', 'not a code', '', 'ABCD-EFGH-IJKL-MNOP-QRST-UVW0']) {
        const refused = await second.client.request(VerifySecondFactorDocument, { code: malformed });
        assertRefused(refused, 'BAD_USER_INPUT', JSON.stringify(malformed));
      }
      assert.equal(await counted(), 1, 'malformed codes are not counted');
      const spaced = freshCode(server, secret);
      const { verifySecondFactor } = await second.client.data(VerifySecondFactorDocument, {
        code: ` ${spaced.slice(0, 3)} ${spaced.slice(3)} `,
      });
      assert.equal(verifySecondFactor.nextStep, 'DONE');
      assert.equal(await counted(), 0, 'a right code clears the counter');
    });

    it('wrong codes are INVALID_SECOND_FACTOR and audited, then RATE_LIMITED (the right code too) until the delay passes', async () => {
      const { username, userId, client } = await newUser('hana');
      const { secret } = await enrollTotp(server, client);
      const { client: pending } = await passwordLogin(server, username);
      const right = freshCode(server, secret);
      for (let i = 0; i < 5; i++) {
        assertRefused(
          await pending.request(VerifySecondFactorDocument, { code: wrongCode(right) }),
          'INVALID_SECOND_FACTOR',
        );
      }
      const limited = await pending.request(VerifySecondFactorDocument, { code: right });
      assertRefused(limited, 'RATE_LIMITED');
      const retryAfter = Number(limited.errors?.[0]?.extensions?.retryAfterSeconds);
      assert.ok(retryAfter >= 1, `retryAfterSeconds ${retryAfter}`);
      const failed = await eventsOf(admin, userId, ['SECOND_FACTOR_FAILED']);
      assert.deepEqual(
        failed.map((event) => event.method),
        ['TOTP', 'TOTP', 'TOTP', 'TOTP', 'TOTP'],
      );
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const failures = /^gatehouse_second_factor_failures_total\{method="TOTP"\} (\d+)$/m.exec(metrics);
      assert.ok(Number(failures?.[1]) >= 5, failures?.[0]);

      server.clock.advance(retryAfter * SECOND);
      const { verifySecondFactor } = await pending.data(VerifySecondFactorDocument, { code: right });
      assert.equal(verifySecondFactor.nextStep, 'DONE');
    });

    it('a recovery code finishes a login once, typed in any case with or without hyphens; RECOVERY_CODE_USED says how many are left', async () => {
      const { username, userId, client } = await newUser('ines');
      const { recoveryCodes } = await enrollTotp(server, client);
      const [code] = recoveryCodes;
      assert.ok(code);
      const first = await passwordLogin(server, username);
      const { verifySecondFactor } = await first.client.data(VerifySecondFactorDocument, {
        code: code.toLowerCase().replaceAll('-', ' '),
      });
      assert.equal(verifySecondFactor.session.assurance, 'AAL2');
      assert.deepEqual(verifySecondFactor.session.authenticationMethods, ['PASSWORD', 'RECOVERY_CODE']);
      const second = await passwordLogin(server, username);
      assertRefused(await second.client.request(VerifySecondFactorDocument, { code }), 'INVALID_SECOND_FACTOR', 'used');
      const [used] = await eventsOf(admin, userId, ['RECOVERY_CODE_USED']);
      assert.equal(used?.recoveryCodesLeft, 9);
      const logins = await eventsOf(admin, userId, ['LOGIN_SUCCEEDED']);
      const completed = logins.find((event) => event.sessionId === verifySecondFactor.session.id);
      assert.equal(completed?.method, 'RECOVERY_CODE');
    });

    it('a pending login expires after SECOND_FACTOR_TIMEOUT: not found (UNAUTHENTICATED), and the sweeper deletes it', async () => {
      const { username, client } = await newUser('jon');
      const { secret } = await enrollTotp(server, client);
      const { client: pending, login } = await passwordLogin(server, username);
      server.clock.advance(5 * MINUTE + SECOND);
      const late = await pending.request(VerifySecondFactorDocument, { code: totpCode(secret, server.clock.now()) });
      assertRefused(late, 'UNAUTHENTICATED');
      await assertAnonymous(pending, 'an expired pending login');
      assert.ok((await runSweeper(server)).deletedPendingLogins >= 1);
      assert.equal(await server.db('pending_logins').where({ id: login.session.id }).first(), undefined);
    });

    it('verifySecondFactor without a pending login: UNAUTHENTICATED signed out, FORBIDDEN (NOT_PENDING) signed in', async () => {
      const { client } = await newUser('kai');
      assertRefused(await server.client().request(VerifySecondFactorDocument, { code: '123456' }), 'UNAUTHENTICATED');
      const signedIn = await client.request(VerifySecondFactorDocument, { code: '123456' });
      assertRefused(signedIn, 'FORBIDDEN');
      assert.equal(signedIn.errors?.[0]?.extensions?.reason, 'NOT_PENDING');
    });

    it('step-up with a factor: the password alone is SECOND_FACTOR_REQUIRED, a session from before the factor must re-prove with it, the code makes it AAL2', async () => {
      const { username, client: before } = await newUser('lea');
      const enrolling = (await signIn(server, username)).client;
      const { secret } = await enrollTotp(server, enrolling);
      const required = await before.request(RevokeOtherSessionsDocument);
      assertRefused(required, 'REAUTHENTICATION_REQUIRED', 'a recent AAL1 session of a user with a factor');
      assert.equal(required.errors?.[0]?.extensions?.secondFactor, true);
      const password = `${username}-password`;
      assertRefused(await before.request(StepUpDocument, { password }), 'SECOND_FACTOR_REQUIRED');
      assertRefused(await before.request(StepUpDocument, { code: freshCode(server, secret) }), 'BAD_USER_INPUT');
      assertRefused(await before.request(StepUpDocument, { password, code: 'abc' }), 'BAD_USER_INPUT');
      assertRefused(await before.request(StepUpDocument, {}), 'BAD_USER_INPUT');
      const wrong = { password: 'not-the-password', code: freshCode(server, secret) };
      assertRefused(await before.request(StepUpDocument, wrong), 'INVALID_CREDENTIALS');
      const { reauthenticate } = await before.data(StepUpDocument, { password, code: freshCode(server, secret) });
      assert.equal(reauthenticate.assurance, 'AAL2');
      assert.deepEqual(reauthenticate.authenticationMethods, ['PASSWORD', 'TOTP']);
      assert.deepEqual(await before.data(RevokeOtherSessionsDocument), { revokeOtherSessions: 1 });

      server.clock.advance(16 * MINUTE);
      const stale = await before.request(StartTotpEnrollmentDocument);
      assertRefused(stale, 'REAUTHENTICATION_REQUIRED', 'enrolling needs step-up');
      assert.equal(stale.errors?.[0]?.extensions?.secondFactor, true);
      const { client: noFactor } = await newUser('lou');
      server.clock.advance(16 * MINUTE);
      const plain = await noFactor.request(StartTotpEnrollmentDocument);
      assertRefused(plain, 'REAUTHENTICATION_REQUIRED', 'without a factor too');
      assert.equal(plain.errors?.[0]?.extensions?.secondFactor, false);
      const noCode = { password: `${(await noFactor.data(WhoamiDocument)).me?.username}-password`, code: '123456' };
      assertRefused(await noFactor.request(StepUpDocument, noCode), 'BAD_USER_INPUT', 'a code without a factor');
    });

    it("removing a factor: another user's is NOT_FOUND; the last one takes the recovery codes along; logins need the password alone again", async () => {
      const { username, userId, client } = await newUser('mia');
      const { factorId } = await enrollTotp(server, client);
      const { client: other } = await newUser('max');
      assertRefused(await other.request(RemoveSecondFactorDocument, { id: factorId }), 'NOT_FOUND');
      assertRefused(await client.request(RemoveSecondFactorDocument, { id: randomUUID() }), 'NOT_FOUND');
      assert.deepEqual(await client.data(RemoveSecondFactorDocument, { id: factorId }), { removeSecondFactor: true });
      assert.deepEqual((await client.data(MySecondFactorsDocument)).me?.secondFactors, []);
      assert.equal((await server.db('recovery_codes').where({ user_id: userId })).length, 0);
      assert.equal((await passwordLogin(server, username)).login.nextStep, 'DONE');
      const [removed] = await eventsOf(admin, userId, ['SECOND_FACTOR_REMOVED']);
      assert.deepEqual({ method: removed?.method, factorId: removed?.factorId }, { method: 'TOTP', factorId });
    });

    it('regenerating recovery codes: 10 new ones, shown once; the old ones stop working; none without a factor', async () => {
      const { username, userId, client } = await newUser('nia');
      const { recoveryCodes: old } = await enrollTotp(server, client);
      const { regenerateRecoveryCodes: fresh } = await client.data(RegenerateRecoveryCodesDocument);
      assert.equal(fresh.length, 10);
      assert.ok(fresh.every((code) => RECOVERY_CODE.test(code) && !old.includes(code)));
      const stale = await passwordLogin(server, username);
      assertRefused(await stale.client.request(VerifySecondFactorDocument, { code: old[0]! }), 'INVALID_SECOND_FACTOR');
      const { verifySecondFactor } = await stale.client.data(VerifySecondFactorDocument, { code: fresh[0]! });
      assert.equal(verifySecondFactor.nextStep, 'DONE');
      const [regenerated] = await eventsOf(admin, userId, ['RECOVERY_CODES_REGENERATED']);
      assert.equal(regenerated?.recoveryCodesLeft, 10);
      const { client: none } = await newUser('noa');
      const refused = await none.request(RegenerateRecoveryCodesDocument);
      assertRefused(refused, 'FORBIDDEN');
      assert.equal(refused.errors?.[0]?.extensions?.reason, 'NO_SECOND_FACTOR');
    });

    it("resetSecondFactors: an admin's reset removes factors, codes and pending logins and ends every session (SECOND_FACTORS_RESET), live subscribers told", async (t) => {
      const { username, userId, client } = await newUser('olga');
      const { secret } = await enrollTotp(server, client);
      const session = await signInWithCode(server, username, secret);
      const { client: pending } = await passwordLogin(server, username);
      const socket = openSocket(server, { cookie: session.cookie });
      t.after(() => socket.dispose());
      await socket.connected;
      const revoked = subscribeWs(socket.client, SessionRevokedDocument);
      assertRefused(await session.request(ResetSecondFactorsDocument, { userId }), 'FORBIDDEN', 'ADMIN only');

      // Earlier tests moved the clock past the admin's step-up window.
      admin = await server.adminClient();
      assert.deepEqual(await admin.data(ResetSecondFactorsDocument, { userId }), {
        resetSecondFactors: { id: userId, username },
      });
      const [event] = await revoked.received(1);
      assert.equal(
        (event?.data as { sessionRevoked: { reason: string } }).sessionRevoked.reason,
        'SECOND_FACTORS_RESET',
      );
      await socket.closedWithin();
      for (const [ended, label] of [
        [client, 'the enrolling session'],
        [session, 'the AAL2 session'],
        [pending, 'the pending login'],
      ] as const) {
        await assertAnonymous(ended, label);
      }
      const { users } = await admin.data(UserSecondFactorsDocument, { usernameContains: username });
      assert.deepEqual(users.edges[0]?.node.secondFactors, []);
      assert.equal((await server.db('recovery_codes').where({ user_id: userId })).length, 0);
      assert.equal((await server.db('pending_logins').where({ user_id: userId })).length, 0);
      assert.equal((await passwordLogin(server, username)).login.nextStep, 'DONE');
      assert.equal((await eventsOf(admin, userId, ['SECOND_FACTORS_RESET'])).length, 1);
    });

    it('gatehouse users reset-factors: ends the sessions in the running server (its admin feed shows them as AAL2), and says what it did', async (t) => {
      const { username, userId, client } = await newUser('pia');
      const { secret } = await enrollTotp(server, client);
      const session = await signInWithCode(server, username, secret);
      const { id: sessionId } = (await session.data(AssuredCurrentSessionDocument)).currentSession!;
      const feed = openSocket(server, { cookie: admin.cookie });
      t.after(() => feed.dispose());
      await feed.connected;
      const ends = subscribeWs<{ sessionEvents: { type: string; reason: string; session: Record<string, unknown> } }>(
        feed.client,
        `subscription($userId: ID) { sessionEvents(userId: $userId) {
           type reason session { id assurance authenticationMethods } } }`,
        { userId },
      );
      const settings = { DATABASE_URL: server.database.url };
      const run = await runCli(['users', 'reset-factors', username], settings);
      assert.equal(run.exit.code, 0, run.stderr);
      assert.equal(
        run.stdout,
        `second factors reset for ${username} (${userId}): removed 1 second factor, ended 2 sessions\n`,
      );
      await assertAnonymous(session, 'a session the command line ended');
      const events = await ends.received(2);
      const ended = events.map((event) => event.data?.sessionEvents).find((event) => event?.session.id === sessionId);
      assert.deepEqual(ended, {
        type: 'ENDED',
        reason: 'SECOND_FACTORS_RESET',
        session: { id: sessionId, assurance: 'AAL2', authenticationMethods: ['PASSWORD', 'TOTP'] },
      });
      const again = await runCli(['users', 'reset-factors', userId, '--json'], settings);
      assert.equal(again.exit.code, 0, again.stderr);
      const printed = JSON.parse(again.stdout) as Record<string, unknown>;
      assert.deepEqual([printed.username, printed.factorsRemoved, printed.sessionsEnded], [username, 0, 0]);
      const unknown = await runCli(['users', 'reset-factors', 'nobody-by-this-name'], settings);
      assert.equal(unknown.exit.code, 1);
    });

    it('factor webhooks: added, failed, removed and reset arrive signed, with the user and the factor', async (t) => {
      const receiver = await Receiver.start();
      t.after(() => receiver.close());
      const events = ['SECOND_FACTOR_ADDED', 'SECOND_FACTOR_FAILED', 'SECOND_FACTOR_REMOVED', 'SECOND_FACTORS_RESET'];
      const hook = await createWebhook(admin, receiver.url, events as never);
      const { username, userId, client } = await newUser('quin');
      const { secret, factorId } = await enrollTotp(server, client);
      const { client: pending } = await passwordLogin(server, username);
      await pending.request(VerifySecondFactorDocument, { code: wrongCode(freshCode(server, secret)) });
      await client.data(RemoveSecondFactorDocument, { id: factorId });
      admin = await server.adminClient();
      await admin.data(ResetSecondFactorsDocument, { userId });
      const received = (await receiver.waitForRequests(4)).map((request) => verified(hook.secret, request));
      const byType = new Map(received.map((event) => [event.type, event]));
      assert.deepEqual([...byType.keys()].sort(), [
        'second_factor.added',
        'second_factor.failed',
        'second_factor.removed',
        'second_factors.reset',
      ]);
      for (const event of received) {
        assert.equal(event.data.userId, userId);
        assert.equal(event.data.username, username);
        assert.equal(event.data.at, event.timestamp);
      }
      const { at: _a, ...added } = byType.get('second_factor.added')!.data;
      assert.deepEqual(added, { userId, username, factorId, kind: 'TOTP' });
      const { at: _r, ...removed } = byType.get('second_factor.removed')!.data;
      assert.deepEqual(removed, { userId, username, factorId, kind: 'TOTP' });
      assert.equal(byType.get('second_factor.failed')!.data.method, 'TOTP');
    });
  });
}
