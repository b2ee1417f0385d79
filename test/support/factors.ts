/** Second factors as the tests enroll and use them, over the API. */
import assert from 'node:assert/strict';
import {
  ConfirmTotpEnrollmentDocument,
  PasswordLoginDocument,
  StartTotpEnrollmentDocument,
  VerifySecondFactorDocument,
  type PasswordLoginMutation,
} from '../generated/graphql.js';
import type { TestClient } from './client.js';
import { passwordOf } from './sessions.js';
import type { TestServer } from './server.js';
import { totpCode } from './totp.js';

/** The step of a TOTP code: moving the clock by it makes the next code a new one. */
export const TOTP_STEP_MS = 30_000;

/** A pending login's token: `p.` and 43 base64url characters. */
export const PENDING_TOKEN = /^p\.[A-Za-z0-9_-]{43}$/;

export interface Enrolled {
  secret: string;
  factorId: string;
  recoveryCodes: string[];
}

/**
 * The code the app shows for `secret` after the clock moves on one step, so that it is one the
 * server has not accepted before (a code is accepted once).
 */
export function freshCode(server: Pick<TestServer, 'clock'>, secret: string): string {
  server.clock.advance(TOTP_STEP_MS);
  return totpCode(secret, server.clock.now());
}

/** Enrolls an authenticator app on `client`'s session (which must pass step-up), confirmed with its first code. */
export async function enrollTotp(
  server: Pick<TestServer, 'clock'>,
  client: TestClient,
  name?: string,
): Promise<Enrolled> {
  const { startTotpEnrollment } = await client.data(StartTotpEnrollmentDocument);
  const code = totpCode(startTotpEnrollment.secret, server.clock.now());
  const { confirmTotpEnrollment } = await client.data(ConfirmTotpEnrollmentDocument, {
    code,
    ...(name ? { name } : {}),
  });
  return {
    secret: startTotpEnrollment.secret,
    factorId: confirmTotpEnrollment.factor.id,
    recoveryCodes: confirmTotpEnrollment.recoveryCodes,
  };
}

/** A new client that gave the right password: its cookie holds the pending login (or a session, for DONE). */
export async function passwordLogin(
  server: TestServer,
  username: string,
  password = passwordOf(username),
): Promise<{ client: TestClient; login: PasswordLoginMutation['login'] }> {
  const client = server.client();
  const { login } = await client.data(PasswordLoginDocument, { username, password });
  return { client, login };
}

/** A new client signed in with the password and a fresh code: a full session at AAL2. */
export async function signInWithCode(server: TestServer, username: string, secret: string): Promise<TestClient> {
  const { client, login } = await passwordLogin(server, username);
  assert.equal(login.nextStep, 'SECOND_FACTOR');
  const { verifySecondFactor } = await client.data(VerifySecondFactorDocument, { code: freshCode(server, secret) });
  assert.equal(verifySecondFactor.nextStep, 'DONE');
  return client;
}
