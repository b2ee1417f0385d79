/** Passkey ceremonies driven over HTTP by the soft authenticator, and what they leave in the database. */
import assert from 'node:assert/strict';
import {
  FinishPasskeyRegistrationDocument,
  MeDocument,
  StartPasskeyLoginDocument,
  StartPasskeyRegistrationDocument,
} from '../generated/graphql.js';
import type { GraphQLResponse, TestClient } from './client.js';
import type { TestServer } from './server.js';
import type { CeremonyKnobs, CreationOptions, RequestOptions, SoftAuthenticator } from './soft-authenticator.js';

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
