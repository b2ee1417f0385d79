/**
 * Finding users. Today's schema has no query that lists users: an admin reaches a user through
 * their sessions (`activeSessions … user`) or by creating them. So the console knows the users
 * who hold an active session (first {@link MAX_PAGES} pages) and those created from this page.
 * A `users` query, when the API gains one, replaces {@link loadKnownUsers} and nothing else.
 */
import type { Client, CombinedError } from '@urql/core';
import type { UserRowFragment } from '../gql/graphql.js';
import { KnownUsersDocument } from '../operations.js';

/** Pages of 40 (what the cost limit allows with the user's counts): the first 1,000 sessions. */
const MAX_PAGES = 25;

export async function loadKnownUsers(client: Client): Promise<{ users: UserRowFragment[]; error?: CombinedError }> {
  const users = new Map<string, UserRowFragment>();
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await client.query(KnownUsersDocument, { after }, { requestPolicy: 'network-only' }).toPromise();
    if (!result.data) return { users: [...users.values()], error: result.error };
    for (const edge of result.data.activeSessions.edges) users.set(edge.node.user.id, edge.node.user);
    const { hasNextPage, endCursor } = result.data.activeSessions.pageInfo;
    if (!hasNextPage || !endCursor) break;
    after = endCursor;
  }
  return { users: mergeUsers([], [...users.values()]) };
}

/** The id of the user called `username` (any case) among those known, or undefined. */
export async function findUserId(client: Client, username: string): Promise<string | undefined> {
  const wanted = username.trim().toLowerCase();
  const { users } = await loadKnownUsers(client);
  return users.find((user) => user.username.toLowerCase() === wanted)?.id;
}

/** `base` with `updates` replacing users of the same id, sorted by name. */
export function mergeUsers(base: UserRowFragment[], updates: UserRowFragment[]): UserRowFragment[] {
  const byId = new Map(base.map((user) => [user.id, user]));
  for (const user of updates) byId.set(user.id, user);
  return [...byId.values()].sort((a, b) => a.username.localeCompare(b.username));
}
