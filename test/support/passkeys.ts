/** Passkey ceremonies driven over HTTP by the soft authenticator, and what they leave in the database. */
import assert from 'node:assert/strict';
import {
  FinishPasskeyLoginDocument,
  FinishPasskeyRegistrationDocument,
  MeDocument,
  StartPasskeyLoginDocument,
  StartPasskeyRegistrationDocument,
} from '../generated/graphql.js';
import type { GraphQLResponse, TestClient } from './client.js';
import { MINUTE } from './clock.js';
import { QUIET_SWEEPER, type TestServer } from './server.js';
import type { CeremonyKnobs, CreationOptions, RequestOptions, SoftAuthenticator } from './soft-authenticator.js';

/**
 * Settings of the passkey tests' servers. TRUST_PROXY: each test's client sends an address of its
 * own ({@link clientFrom}), so failures of one test count against no other's.
 */
export const PASSKEY_TEST_ENV = { ...QUIET_SWEEPER, TRUST_PROXY: 'on' };
/** REAUTH_WINDOW's default. */
export const REAUTH_WINDOW_MS = 15 * MINUTE;

let names = 0;
/** A username no other test of the process uses. */
export const uniqueName = (prefix: string) => `${prefix}${++names}`;

export async function registrationOptions(client: TestClient): Promise<CreationOptions> {
  return (await client.data(StartPasskeyRegistrationDocument)).startPasskeyRegistration as CreationOptions;
}

export async function loginOptions(client: TestClient, username?: string): Promise<RequestOptions> {
  return (await client.data(StartPasskeyLoginDocument, { username })).startPasskeyLogin as RequestOptions;
}

export function finishRegistration(client: TestClient, response: unknown, name?: string) {
  return client.request(FinishPasskeyRegistrationDocument, { response, name });
}

/** Registers a passkey of `authenticator` for the client's user; fails the test if refused. */
export async function registerPasskey(
  client: TestClient,
  authenticator: SoftAuthenticator,
  knobs: CeremonyKnobs = {},
  name?: string,
) {
  const result = await finishRegistration(
    client,
    authenticator.register(await registrationOptions(client), knobs),
    name,
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data!.finishPasskeyRegistration.factor;
}

export async function userIdOf(client: TestClient): Promise<string> {
  const { me } = await client.data(MeDocument);
  assert.ok(me, 'signed in');
  return me.id;
}

/** A passkey row as stored. */
export interface PasskeyRow {
  id: string;
  user_id: string;
  kind: string;
  name: string;
  credential_id: string;
  public_key: string;
  sign_count: number | string;
  transports: string | null;
  created_at: number | string;
  confirmed_at: number | string | null;
  last_used_at: number | string | null;
}

export function passkeyRows(server: TestServer, userId: string): Promise<PasskeyRow[]> {
  return server.db('second_factors').where({ user_id: userId, kind: 'PASSKEY' }).orderBy('created_at');
}

export async function challengeCount(server: TestServer, where: Record<string, string | null> = {}): Promise<number> {
  const row = await server.db('webauthn_challenges').where(where).count({ count: '*' }).first();
  return Number(row?.count ?? 0);
}

/** The code of a refusal, asserting there is no data with it. */
export function refusal(result: GraphQLResponse<unknown>): string | undefined {
  assert.equal(result.data ?? null, null, `data despite the error: ${JSON.stringify(result.data)}`);
  return result.errors?.[0]?.extensions?.code;
}

let addresses = 0;
/**
 * A TEST-NET address of its own per call, sent as `X-Forwarded-For` (servers under test run with
 * TRUST_PROXY on): failed assertions of one test count against no other's address.
 */
export const nextAddress = () => `198.51.${100 + Math.floor(++addresses / 250)}.${addresses % 250}`;

/** A new anonymous client, from an address of its own (see {@link nextAddress}). */
export function clientFrom(server: TestServer, ipAddress = nextAddress()): TestClient {
  return server.client({ 'x-forwarded-for': ipAddress });
}

export type AssertionOutcome =
  { userId: string; code?: undefined; message?: undefined } | { userId?: undefined; code: string; message: string };

/**
 * A passwordless login with `response` (`finishPasskeyLogin`) from a new client, by default from
 * an address of its own: who it signed in, or the refusal's code and message.
 */
export async function passkeyLogin(
  server: TestServer,
  response: unknown,
  client: TestClient = clientFrom(server),
): Promise<AssertionOutcome> {
  const result = await client.request(FinishPasskeyLoginDocument, { response });
  const user = result.data?.finishPasskeyLogin.user;
  if (user) return { userId: user.id };
  return { code: refusal(result) ?? 'none', message: result.errors?.[0]?.message ?? '' };
}
