/**
 * Finding users by name. `users(usernameContains:)` matches any part of a name, while sessions
 * are listed per user id: the All sessions filter needs one user out of the matches.
 */
import type { GatehouseClient } from '../../../src/client/index.js';
import { describeError } from '../errors.js';
import { asOutcome } from '../hooks.js';
import { UsernamesDocument } from '../operations.js';

interface NamedUser {
  id: string;
  username: string;
}

/** Enough names that a name typed whole is among them, unless hundreds contain it. */
const CANDIDATES = 100;

/**
 * The user `text` names: typed whole (any case), or the only one whose name contains it. `wanted`
 * ends the advice when several match ("type one whole to see its sessions").
 */
export async function matchUsername(
  client: GatehouseClient,
  text: string,
  wanted = 'its sessions',
): Promise<{ user: NamedUser } | { problem: string }> {
  const result = await asOutcome(client.request(UsernamesDocument, { first: CANDIDATES, usernameContains: text }));
  if (result.error || !result.data) return { problem: result.error ? describeError(result.error) : 'No answer.' };
  const { totalCount, edges } = result.data.users;
  const names = edges.map((edge) => edge.node);
  const user =
    names.find((named) => named.username.toLowerCase() === text.toLowerCase()) ??
    (totalCount === 1 ? names[0] : undefined);
  if (user) return { user };
  if (totalCount === 0) return { problem: `No user’s name contains “${text}”.` };
  return { problem: `${totalCount} users’ names contain “${text}” (see Users): type one whole to see ${wanted}.` };
}
