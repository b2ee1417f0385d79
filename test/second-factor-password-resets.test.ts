/**
 * A new password does not undo a second factor (ASVS 6.4.3): after an admin's `resetPassword` or
 * the user's own `changePassword`, the new password still starts only a pending login, and the
 * factor finishes it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ChangePasswordDocument, ResetPasswordDocument, VerifySecondFactorDocument } from './generated/graphql.js';
import type { TestClient } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { enrollTotp, freshCode, passwordLogin } from './support/factors.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';

const SECRETS_KEY = randomBytes(32).toString('base64');

for (const kind of DATABASE_KINDS) {
  describe(`second factors outlive a new password (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;
    before(async () => {
      server = await startTestServer({ database: kind, env: { ...QUIET_SWEEPER, SECRETS_KEY } });
      admin = await server.adminClient();
    });
    after(() => server?.stop());

    /** Signs in with `password` and checks that only the factor finishes the login. */
    async function secondStepStillAsked(username: string, password: string, secret: string) {
      const { client, login } = await passwordLogin(server, username, password);
      assert.equal(login.nextStep, 'SECOND_FACTOR', `${username}: the new password alone is not a session`);
      assert.equal(login.session.assurance, 'AAL1');
      const { verifySecondFactor } = await client.data(VerifySecondFactorDocument, { code: freshCode(server, secret) });
      assert.equal(verifySecondFactor.nextStep, 'DONE');
      assert.equal(verifySecondFactor.session.assurance, 'AAL2');
    }

    it('an admin’s resetPassword keeps the user’s factor: the new password asks for the second step', async () => {
      const userId = await createUser(admin, 'rosa');
      const { secret } = await enrollTotp(server, (await signIn(server, 'rosa')).client);
      await admin.data(ResetPasswordDocument, { userId, newPassword: 'a new long password for rosa' });
      await secondStepStillAsked('rosa', 'a new long password for rosa', secret);
    });

    it('the user’s own changePassword keeps the factor too', async () => {
      await createUser(admin, 'carl');
      const { client } = await signIn(server, 'carl');
      const { secret } = await enrollTotp(server, client);
      await client.data(ChangePasswordDocument, {
        currentPassword: 'carl-password',
        newPassword: 'another long password for carl',
      });
      await secondStepStillAsked('carl', 'another long password for carl', secret);
    });
  });
}
