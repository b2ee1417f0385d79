/**
 * Rows written straight into a server's database by a benchmark: setup, not what is measured,
 * and far faster than logging in through the API (no password hashing). Shaped as the server
 * writes them after logins.
 */
import { randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { generateToken, hashToken } from '../src/sessions/tokens.js';
import { usernameSkeleton } from '../src/sessions/username-skeleton.js';

/** Rows per INSERT: knex writes a multi-row insert on SQLite as a compound SELECT, limited to 500 terms. */
const ROWS_PER_INSERT = 100;

/** Users that cannot sign in (their password hash is not one), named `${prefix}${i}`; their ids. */
export async function insertUsers(db: Knex, prefix: string, count: number): Promise<string[]> {
  const now = Date.now();
  const rows = Array.from({ length: count }, (_, i) => ({
    ...{ id: randomUUID(), username: `${prefix}${i}`, username_key: `${prefix}${i}` },
    username_skeleton: usernameSkeleton(`${prefix}${i}`),
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

const DAY = 86_400_000;

/**
 * `count` expired sessions of `users` users named `<tag>-<n>` (users and sessions in one
 * statement each, a million in about 10 s): sessions created 1 ms apart, as logins arrive, past
 * their absolute expiry and idle for a day (both halves of the sweeper's test).
 */
export async function insertExpiredSessions(db: Knex, tag: string, count: number, users = 1): Promise<void> {
  const now = Date.now();
  // The skeleton of `${tag}-${i}`: the tag's, then the digits, of which 0 and 1 look like o and l.
  await db.raw(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO users (id, username, username_key, username_skeleton, password_hash, role, created_at, updated_at)
     SELECT ? || i, ? || i, ? || i, ? || replace(replace(i, '0', 'o'), '1', 'l'), 'x', 'USER', ?, ? FROM n`,
    [users - 1, `${tag}-`, `${tag}-`, `${tag}-`, usernameSkeleton(`${tag}-`), now, now],
  );
  // Oldest first; ids are random like real ones (v4 layout, from randomblob).
  const first = now - 2 * DAY - count;
  await db.raw(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, authenticated_at, expires_at,
       user_agent, ip_address)
     SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a'
         || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
       ? || (i % ?), ? || i, ? + i, ? + i, ? + i, ? + i, 'bench', '127.0.0.1'
     FROM n`,
    [count - 1, `${tag}-`, users, `${tag}-token-`, first, first, first, first + DAY],
  );
}
