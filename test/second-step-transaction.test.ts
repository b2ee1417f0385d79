/**
 * A second step commits with its session: the code's or passkey's use (the accepted time step,
 * the recovery code marked used, the passkey's counter), the throttle's success and their audit
 * events are written in the transaction that starts the session, and a password login's pending
 * login with its throttle success and SECOND_FACTOR_REQUESTED in one transaction. So a start
 * that is refused or fails leaves the code unused and the pending login pending, and a code
 * sent twice at once still starts one session. Over real HTTP, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  LogoutDocument,
  PasswordLoginDocument,
  SetUserSessionLimitDocument,
  VerifySecondFactorDocument,
} from './generated/graphql.js';
import { assertRefused, errorCode, type TestClient } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { enrollTotp, freshCode, passwordLogin } from './support/factors.js';
import {
  clientFrom,
  loginOptions,
  passkeyLogin,
  passkeyRows,
  registerPasskey,
  uniqueName,
  userIdOf,
  PASSKEY_TEST_ENV,
} from './support/passkeys.js';
import { allowEvents, refuseEvents } from './support/refused-events.js';
import { startTestServer, type TestServer } from './support/server.js';
import { passwordOf } from './support/sessions.js';
import { SoftAuthenticator } from './support/soft-authenticator.js';

/**
 * A session limit is a refusal here (deny-new), so a second step can be refused after its code
 * was right. Authenticator apps need SECRETS_KEY on PostgreSQL.
 */
const ENV = {
  ...{ ...PASSKEY_TEST_ENV, SESSION_LIMIT_STRATEGY: 'deny-new' },
  SECRETS_KEY: randomBytes(32).toString('base64'),
};

for (const kind of DATABASE_KINDS) {
  describe(`second step: the proof's use commits with the session (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind, env: ENV });
    });
    after(() => server?.stop());

    const countEvents = async (userId: string, type: string) =>
      (await server.db('auth_events').where({ user_id: userId, type }).select('id')).length;
    const openSessions = async (userId: string) =>
      (await server.db('sessions').where('user_id', userId).whereNull('ended_at').select('id')).length;
    const pendingLogins = async (userId: string) =>
      (await server.db('pending_logins').where('user_id', userId).select('id')).length;
    const unusedRecoveryCodes = async (userId: string) =>
      (await server.db('recovery_codes').where('user_id', userId).whereNull('used_at').select('code_hash')).length;
    const lastStep = async (userId: string) => {
      const row = await server.db('second_factors').where({ user_id: userId, kind: 'TOTP' }).first('totp_last_step');
      return Number(row.totp_last_step);
    };
    const failures = async (key: string) => {
      const row = await server.db('login_throttles').where('key', key).first('failures');
      return row ? Number(row.failures) : 0;
    };

    /** A user with an authenticator app, signed in (its one session) on `client`. */
    async function userWithApp(prefix: string) {
      const username = uniqueName(prefix);
      const client = await server.userClient(username);
      const enrolled = await enrollTotp(server, client);
      return { username, client, userId: await userIdOf(client), ...enrolled };
    }

    async function limitToOne(userId: string) {
      await (await server.adminClient()).data(SetUserSessionLimitDocument, { userId, limit: 1 });
    }

    const verify = (client: TestClient, code: string) => client.request(VerifySecondFactorDocument, { code });

    it('an app code refused by the session limit is not used and the pending login still waits: the same code finishes it once there is room', async () => {
      const { username, client, userId, secret } = await userWithApp('lena');
      await limitToOne(userId);
      const { client: pending } = await passwordLogin(server, username);
      const stepBefore = await lastStep(userId);
      const code = freshCode(server, secret);

      assertRefused(await verify(pending, code), 'SESSION_LIMIT', 'one session open already');
      assert.equal(await lastStep(userId), stepBefore, 'the time step is not accepted');
      assert.equal(await pendingLogins(userId), 1, 'the pending login still waits');
      assert.equal(await failures(`second-factor:${userId}`), 0, 'a right code counts no failure');
      assert.equal(await countEvents(userId, 'SESSION_LIMIT_REACHED'), 1);

      await client.data(LogoutDocument);
      const { verifySecondFactor } = (await pending.data(VerifySecondFactorDocument, { code }))!;
      assert.equal(verifySecondFactor.nextStep, 'DONE', 'the same code, now that there is room');
      assert.ok((await lastStep(userId)) > stepBefore, 'its step is accepted now');
      assert.equal(await pendingLogins(userId), 0);
      assertRefused(await verify((await passwordLogin(server, username)).client, code), 'INVALID_SECOND_FACTOR');
    });

    it('a recovery code refused by the session limit stays unused, without RECOVERY_CODE_USED; once there is room it finishes the login once', async () => {
      const { username, client, userId, recoveryCodes } = await userWithApp('mira');
      await limitToOne(userId);
      const { client: pending } = await passwordLogin(server, username);
      const [code] = recoveryCodes;

      assertRefused(await verify(pending, code!), 'SESSION_LIMIT');
      assert.equal(await unusedRecoveryCodes(userId), 10, 'the code is not used');
      assert.equal(await countEvents(userId, 'RECOVERY_CODE_USED'), 0, 'nor said to be');
      assert.equal(await pendingLogins(userId), 1);

      await client.data(LogoutDocument);
      const { verifySecondFactor } = (await pending.data(VerifySecondFactorDocument, { code: code! }))!;
      assert.equal(verifySecondFactor.nextStep, 'DONE');
      assert.equal(await unusedRecoveryCodes(userId), 9);
      const [used] = await server.db('auth_events').where({ user_id: userId, type: 'RECOVERY_CODE_USED' });
      assert.equal(Number(used.recovery_codes_left), 9, 'RECOVERY_CODE_USED with the session, saying what is left');
    });

    it('a LOGIN_SUCCEEDED that cannot be written undoes the second step: the recovery code unused, the login pending and the attempt counted', async () => {
      const { username, userId, recoveryCodes } = await userWithApp('nell');
      const { client: pending } = await passwordLogin(server, username);
      const [code] = recoveryCodes;
      const sessionsBefore = await openSessions(userId);

      await refuseEvents(server.db, kind, 'LOGIN_SUCCEEDED');
      try {
        assertRefused(await verify(pending, code!), 'INTERNAL_SERVER_ERROR');
      } finally {
        await allowEvents(server.db, kind);
      }
      assert.equal(await openSessions(userId), sessionsBefore, 'no session');
      assert.equal(await unusedRecoveryCodes(userId), 10, 'the code is not used');
      assert.equal(await countEvents(userId, 'RECOVERY_CODE_USED'), 0);
      assert.equal(await pendingLogins(userId), 1, 'the login still waits');
      assert.equal(await failures(`second-factor:${userId}`), 1, 'the attempt stays counted');

      const { verifySecondFactor } = (await pending.data(VerifySecondFactorDocument, { code: code! }))!;
      assert.equal(verifySecondFactor.nextStep, 'DONE');
      assert.equal(await countEvents(userId, 'RECOVERY_CODE_USED'), 1);
      assert.equal(await failures(`second-factor:${userId}`), 0, 'the user starts afresh');
    });

    it('one code on two pending logins of the user at once: one session starts, the other is INVALID_SECOND_FACTOR, audited', async () => {
      const { username, userId, secret, recoveryCodes } = await userWithApp('olga');
      for (const code of [freshCode(server, secret), recoveryCodes[0]!]) {
        const sessionsBefore = await openSessions(userId);
        const failedBefore = await countEvents(userId, 'SECOND_FACTOR_FAILED');
        const pending = [
          (await passwordLogin(server, username)).client,
          (await passwordLogin(server, username)).client,
        ];
        const results = await Promise.all(pending.map((client) => verify(client, code)));
        const codes = results.map((result) => errorCode(result) ?? result.data?.verifySecondFactor.nextStep).sort();
        assert.deepEqual(codes, ['DONE', 'INVALID_SECOND_FACTOR'], `${code}: ${JSON.stringify(results)}`);
        assert.equal(await openSessions(userId), sessionsBefore + 1, 'exactly one session started');
        assert.equal(await countEvents(userId, 'SECOND_FACTOR_FAILED'), failedBefore + 1, 'the other audited');
        assert.equal(await pendingLogins(userId), 1, 'the loser still waits for a good code');
        await server.db('pending_logins').where('user_id', userId).delete();
      }
      assert.equal(await unusedRecoveryCodes(userId), 9, 'the recovery code used once');
    });

    it('a passkey refused by the session limit leaves its counter as it was and the IP its attempt; with room it signs in', async () => {
      const username = uniqueName('pia');
      const client = await server.userClient(username);
      const authenticator = new SoftAuthenticator(server.url);
      await registerPasskey(client, authenticator);
      const userId = await userIdOf(client);
      await limitToOne(userId);
      const [before] = await passkeyRows(server, userId);
      const address = '198.51.99.7';
      const anonymous = clientFrom(server, address);

      const refused = await passkeyLogin(server, authenticator.authenticate(await loginOptions(anonymous)), anonymous);
      assert.equal(refused.code, 'SESSION_LIMIT', refused.message);
      const [after] = await passkeyRows(server, userId);
      assert.equal(Number(after!.sign_count), Number(before!.sign_count), 'the counter is not moved on');
      assert.equal(after!.last_used_at, before!.last_used_at);
      assert.equal(await failures(`ip:${address}`), 0, 'the right passkey counts no failure');

      await client.data(LogoutDocument);
      const signedIn = await passkeyLogin(server, authenticator.authenticate(await loginOptions(anonymous)), anonymous);
      assert.equal(signedIn.userId, userId, signedIn.message);
      assert.ok(Number((await passkeyRows(server, userId))[0]!.sign_count) > Number(before!.sign_count));
    });

    it('a SECOND_FACTOR_REQUESTED that cannot be written undoes the password step: no pending login, the attempt counted', async () => {
      const { username, userId } = await userWithApp('rhea');
      const account = `account:${username}`;
      await refuseEvents(server.db, kind, 'SECOND_FACTOR_REQUESTED');
      try {
        const refused = await server
          .client()
          .request(PasswordLoginDocument, { username, password: passwordOf(username) });
        assert.equal(errorCode(refused), 'INTERNAL_SERVER_ERROR', JSON.stringify(refused));
      } finally {
        await allowEvents(server.db, kind);
      }
      assert.equal(await pendingLogins(userId), 0, 'no pending login without its event');
      assert.equal(await failures(account), 1, 'the attempt stays counted');

      const { login } = await passwordLogin(server, username);
      assert.equal(login.nextStep, 'SECOND_FACTOR');
      assert.equal(await pendingLogins(userId), 1);
      assert.equal(await countEvents(userId, 'SECOND_FACTOR_REQUESTED'), 1);
      assert.equal(await failures(account), 0, 'the account starts afresh');
    });
  });
}
