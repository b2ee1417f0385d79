import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  CreateUserDocument,
  LoginDocument,
  MeDocument,
  WhoamiDocument,
  type LoginMutation,
  type SessionEndReason,
} from '../generated/graphql.js';
import type { TestClient } from './client.js';
import { runSweeper } from './app.js';
import type { TestServer } from './server.js';

/** The password {@link createUser} gives `username` unless told otherwise. */
export const passwordOf = (username: string) => `${username}-password`;

/**
 * Creates a USER through `admin` and returns its id. Unlike `server.userClient()`, this signs
 * no one in, so it adds no admin session (which matters where sessions are counted or limited).
 */
export async function createUser(
  admin: TestClient,
  username: string,
  password = passwordOf(username),
  role: 'USER' | 'ADMIN' = 'USER',
): Promise<string> {
  const { createUser } = await admin.data(CreateUserDocument, { username, password, role });
  return createUser.id;
}

export interface SignedIn {
  client: TestClient;
  user: LoginMutation['login']['user'];
  session: LoginMutation['login']['session'];
}

/**
 * A new client (own cookie jar, `headers` on every request) signed in as `username`, on a test
 * server or a real process.
 */
export async function signIn(
  server: Pick<TestServer, 'client'>,
  username: string,
  password = passwordOf(username),
  headers: Record<string, string> = {},
): Promise<SignedIn> {
  const client = server.client(headers);
  const result = await client.request(LoginDocument, { username, password });
  assert.equal(result.errors, undefined, `login of ${username}: ${JSON.stringify(result.errors)}`);
  assert.ok(result.data);
  assert.ok(client.cookie, `login of ${username} set no cookie`);
  return { client, user: result.data.login.user, session: result.data.login.session };
}

/** The id of the user `client` is signed in as (`me`), or null. */
export async function signedInAs(client: TestClient): Promise<string | null> {
  return (await client.data(MeDocument)).me?.id ?? null;
}

export async function isSignedIn(client: TestClient): Promise<boolean> {
  return (await signedInAs(client)) !== null;
}

/** `client` is signed in as no one: `me` and `currentSession` are both null, without errors. */
export async function assertAnonymous(client: TestClient, label = ''): Promise<void> {
  assert.deepEqual(await client.data(WhoamiDocument), { me: null, currentSession: null }, label);
}

export interface SessionRow {
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  endedAt: number | null;
  endReason: SessionEndReason | null;
  userAgent: string | null;
  ipAddress: string | null;
}

interface RawSessionRow {
  id: string;
  user_id: string;
  created_at: number | string;
  last_seen_at: number | string;
  expires_at: number | string;
  ended_at: number | string | null;
  end_reason: SessionEndReason | null;
  user_agent: string | null;
  ip_address: string | null;
}

function toRow(raw: RawSessionRow): SessionRow {
  return {
    id: raw.id,
    userId: raw.user_id,
    createdAt: Number(raw.created_at),
    lastSeenAt: Number(raw.last_seen_at),
    expiresAt: Number(raw.expires_at),
    endedAt: raw.ended_at === null ? null : Number(raw.ended_at),
    endReason: raw.end_reason,
    userAgent: raw.user_agent,
    ipAddress: raw.ip_address,
  };
}

/** A session as stored (what the rules wrote, not what the API says), or undefined when deleted. */
export async function findSessionRow(server: TestServer, id: string): Promise<SessionRow | undefined> {
  const raw = (await server.db('sessions').where({ id }).first()) as RawSessionRow | undefined;
  return raw && toRow(raw);
}

export async function sessionRow(server: TestServer, id: string): Promise<SessionRow> {
  const row = await findSessionRow(server, id);
  assert.ok(row, `no sessions row for ${id}`);
  return row;
}

/** Every stored session of a user, oldest first. */
export async function sessionRowsOf(server: TestServer, userId: string): Promise<SessionRow[]> {
  const raws = (await server
    .db('sessions')
    .where({ user_id: userId })
    .orderBy([{ column: 'created_at' }, { column: 'id' }])) as RawSessionRow[];
  return raws.map(toRow);
}

export interface RawSessionInsert {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ended_at: number | null;
  end_reason?: SessionEndReason | null;
}

/** A sessions row for direct insertion: a random token (never handed out), timestamps as given. */
export function rawSession(
  userId: string,
  times: { createdAt: number; lastSeenAt?: number; expiresAt: number; endedAt?: number | null },
  endReason: SessionEndReason | null = null,
): RawSessionInsert {
  return {
    id: randomUUID(),
    user_id: userId,
    token_hash: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('hex'),
    created_at: times.createdAt,
    last_seen_at: times.lastSeenAt ?? times.createdAt,
    expires_at: times.expiresAt,
    ended_at: times.endedAt ?? null,
    end_reason: endReason,
  };
}

/** Inserts rows in chunks small enough for SQLite's bound-parameter limit. */
export async function insertSessionRows(server: TestServer, rows: RawSessionInsert[], chunkSize = 100): Promise<void> {
  for (let i = 0; i < rows.length; i += chunkSize) {
    await server.db('sessions').insert(rows.slice(i, i + chunkSize));
  }
}

/** `GET /auth/verify` with the given headers. */
export async function verify(server: TestServer, headers: Record<string, string> = {}, method = 'GET') {
  const response = await fetch(`${server.url}/auth/verify`, { method, headers });
  await response.arrayBuffer();
  return response;
}

/**
 * One sweep now ({@link runSweeper}), reduced to what it did to sessions: rows ended as EXPIRED
 * and rows deleted. (The result may carry more figures; these tests are about sessions.)
 */
export async function sweep(server: TestServer): Promise<{ expired: number; deleted: number }> {
  const { expired, deleted } = await runSweeper(server);
  return { expired, deleted };
}
