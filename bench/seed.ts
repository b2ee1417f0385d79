/**
 * Rows written straight into a server's database by a benchmark: setup, not what is measured,
 * and far faster than logging in through the API (no password hashing). Shaped as the server
 * writes them after logins.
 */
import { randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { generateToken, hashToken } from '../src/sessions/tokens.js';

/** Rows per INSERT: knex writes a multi-row insert on SQLite as a compound SELECT, limited to 500 terms. */
const ROWS_PER_INSERT = 100;

/** Users that cannot sign in (their password hash is not one), named `${prefix}${i}`; their ids. */
export async function insertUsers(db: Knex, prefix: string, count: number): Promise<string[]> {
  const now = Date.now();
  const rows = Array.from({ length: count }, (_, i) => ({
    ...{ id: randomUUID(), username: `${prefix}${i}`, username_key: `${prefix}${i}` },
    ...{ password_hash: 'not-a-hash', role: 'USER', created_at: now, updated_at: now },
  }));
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await db('users').insert(rows.slice(i, i + ROWS_PER_INSERT));
  return rows.map((row) => row.id);
}

/** `count` open sessions, a day from expiry, spread round robin over `userIds`; their ids and tokens. */
export async function insertOpenSessions(db: Knex, userIds: readonly string[], count: number) {
  const now = Date.now();
  const sessions = Array.from({ length: count }, () => ({ id: randomUUID(), token: generateToken() }));
  const rows = sessions.map(({ id, token }, i) => ({
    ...{ id, user_id: userIds[i % userIds.length], token_hash: hashToken(token) },
    ...{ created_at: now, last_seen_at: now, authenticated_at: now, expires_at: now + 86_400_000 },
  }));
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await db('sessions').insert(rows.slice(i, i + ROWS_PER_INSERT));
  }
  return sessions;
}

/** Runs `work` in one transaction on a bench server's SQLite file, from this process (WAL lets both write). */
export async function inServerDatabase<T>(databasePath: string, work: (trx: Knex.Transaction) => Promise<T>) {
  const db = knex({ client: 'sqlite3', connection: { filename: databasePath }, useNullAsDefault: true });
  try {
    return await db.transaction(work);
  } finally {
    await db.destroy();
  }
}
