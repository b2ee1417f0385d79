import type { Knex } from 'knex';
import { usernameSkeleton } from '../src/sessions/username-skeleton.js';

/** Users read at a time while their skeletons are computed. */
const PAGE_SIZE = 1_000;

interface UserRow {
  id: string;
  username: string;
  created_at: number | string;
}

/**
 * Usernames unique by what they look like: `dana` and `dаna` (a Cyrillic а) became two accounts
 * before. `username_skeleton` is the UTS #39 skeleton of the case-folded name (see
 * `src/sessions/username-skeleton.ts`), unique together with `username_skeleton_tiebreak`, which
 * is '' on every user created since.
 *
 * Users who already shared a skeleton are all kept, with their names and passwords: the oldest
 * keeps the tiebreak '', each later one gets its own id there, and the migration warns (through
 * the database log) naming them. New users are checked against every skeleton, theirs included
 * (see the user store's insert). Logins still compare the key (`username_key`, NFKC and lower
 * case), so each of them signs in as before.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    // SQLite adds a NOT NULL column only with a default; every row gets its value below.
    table.text('username_skeleton').notNullable().defaultTo('');
    table.string('username_skeleton_tiebreak', 36).notNullable().defaultTo('');
  });
  const kept = await computeSkeletons(knex);
  await knex.raw(
    'CREATE UNIQUE INDEX users_username_skeleton_unique ON users (username_skeleton, username_skeleton_tiebreak)',
  );
  if (kept.length > 0) {
    const pairs = kept.map(
      ({ user, older }) => `${user.username} (${user.id}) looks like ${older.username} (${older.id})`,
    );
    const client = knex.client as { logger: { warn(message: string): void } };
    client.logger.warn(`migration 10: users kept whose names look like an older user's: ${pairs.join('; ')}`);
  }
}

/**
 * Writes every user's skeleton, a page at a time in primary-key order (users have no index by
 * age); then the tiebreak of each user younger than another with its skeleton. Returns those.
 */
async function computeSkeletons(knex: Knex): Promise<Array<{ user: UserRow; older: UserRow }>> {
  const oldestBySkeleton = new Map<string, UserRow>();
  const younger: Array<{ user: UserRow; skeleton: string }> = [];
  let page: UserRow[] = [];
  do {
    const after = page.at(-1)?.id;
    const query = knex<UserRow>('users').select('id', 'username', 'created_at').orderBy('id').limit(PAGE_SIZE);
    page = await (after === undefined ? query : query.where('id', '>', after));
    const computed = page.map((user) => {
      const skeleton = usernameSkeleton(user.username);
      const oldest = oldestBySkeleton.get(skeleton);
      if (!oldest) {
        oldestBySkeleton.set(skeleton, user);
      } else if (isOlder(user, oldest)) {
        oldestBySkeleton.set(skeleton, user);
        younger.push({ user: oldest, skeleton });
      } else {
        younger.push({ user, skeleton });
      }
      return { id: user.id, skeleton };
    });
    await writeSkeletons(knex, computed);
  } while (page.length === PAGE_SIZE);
  for (const { user } of younger) {
    await knex('users').where('id', user.id).update({ username_skeleton_tiebreak: user.id });
  }
  return younger.map(({ user, skeleton }) => ({ user, older: oldestBySkeleton.get(skeleton)! }));
}

/** Created first; of two created in the same millisecond, the smaller id. */
function isOlder(user: UserRow, than: UserRow): boolean {
  const [created, thanCreated] = [Number(user.created_at), Number(than.created_at)];
  return created < thanCreated || (created === thanCreated && user.id < than.id);
}

/** One statement a page (SQLite ≥ 3.33 and PostgreSQL both have UPDATE … FROM), not one a user. */
async function writeSkeletons(knex: Knex, rows: Array<{ id: string; skeleton: string }>) {
  if (rows.length === 0) return;
  await knex.raw(
    `WITH computed (id, skeleton) AS (VALUES ${rows.map(() => '(?, ?)').join(', ')})
     UPDATE users SET username_skeleton = computed.skeleton FROM computed WHERE users.id = computed.id`,
    rows.flatMap((row) => [row.id, row.skeleton]),
  );
}

/** Native DROP COLUMN (SQLite ≥ 3.35): Knex's copy of the table would break the triggers on it. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX users_username_skeleton_unique');
  await knex.raw('ALTER TABLE users DROP COLUMN username_skeleton_tiebreak');
  await knex.raw('ALTER TABLE users DROP COLUMN username_skeleton');
}
