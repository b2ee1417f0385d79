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
  await knex.schema.alterTable('users', (table) => {
    table.unique(['username_skeleton', 'username_skeleton_tiebreak'], { indexName: 'users_username_skeleton_unique' });
  });
  if (kept.length > 0) {
    const pairs = kept.map(
      ({ user, older }) => `${user.username} (${user.id}) looks like ${older.username} (${older.id})`,
    );
    const client = knex.client as { logger: { warn(message: string): void } };
    client.logger.warn(`migration 09: users kept whose names look like an older user's: ${pairs.join('; ')}`);
  }
}

/** Writes every user's skeleton, oldest first; returns the users that share one with an older user. */
async function computeSkeletons(knex: Knex): Promise<Array<{ user: UserRow; older: UserRow }>> {
  const oldestBySkeleton = new Map<string, UserRow>();
  const kept: Array<{ user: UserRow; older: UserRow }> = [];
  let after: UserRow | undefined;
  for (;;) {
    const query = knex<UserRow>('users').select('id', 'username', 'created_at');
    if (after) {
      const { created_at: createdAt, id } = after;
      query.where((later) =>
        later
          .where('created_at', '>', createdAt)
          .orWhere((same) => same.where('created_at', createdAt).where('id', '>', id)),
      );
    }
    const page = await query.orderBy([{ column: 'created_at' }, { column: 'id' }]).limit(PAGE_SIZE);
    for (const user of page) {
      const skeleton = usernameSkeleton(user.username);
      const older = oldestBySkeleton.get(skeleton);
      if (older) kept.push({ user, older });
      else oldestBySkeleton.set(skeleton, user);
      const tiebreak = older ? user.id : '';
      await knex('users')
        .where('id', user.id)
        .update({ username_skeleton: skeleton, username_skeleton_tiebreak: tiebreak });
    }
    if (page.length < PAGE_SIZE) return kept;
    after = page[page.length - 1];
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    table.dropUnique(['username_skeleton', 'username_skeleton_tiebreak'], 'users_username_skeleton_unique');
  });
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('username_skeleton_tiebreak');
    table.dropColumn('username_skeleton');
  });
}
