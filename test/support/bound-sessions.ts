/**
 * A device-bound session (DBSC) for tests of what shows one: the console's mark, the command
 * line's `bound` column, the metrics. Every such test gets it from {@link signInBound}, which
 * binds through the protocol itself (POST /dbsc/register with a proof from a WebCrypto key), as
 * Chrome would: no test plants the binding columns.
 */
import assert from 'node:assert/strict';
import { DbscClient, generateDbscKey } from './dbsc-client.js';
import { passwordOf } from './sessions.js';

const LOGIN = 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { session { id } } }';
const CURRENT_SESSION = '{ currentSession { id deviceBound deviceBoundAt } }';

export interface BoundSession {
  /** The browser-like client holding the key and both cookies (the session's and the bound one). */
  client: DbscClient;
  sessionId: string;
  /** When the server bound it (`deviceBoundAt`), by its clock. */
  boundAt: Date;
}

/**
 * Signs `username` in on a new DBSC client (`headers` on its login, such as a `user-agent`) and
 * binds the session to a new ES256 key; fails the test if either is refused. The session has
 * been served once with both cookies, which closes the window in which the session cookie alone
 * still works after binding.
 */
export async function signInBound(
  target: { url: string },
  username: string,
  password = passwordOf(username),
  headers: Record<string, string> = {},
): Promise<BoundSession> {
  const client = new DbscClient(target.url, await generateDbscKey('ES256'));
  const login = await client.graphql(LOGIN, { u: username, p: password }, headers);
  assert.equal(login.errors, undefined, `login of ${username}: ${JSON.stringify(login.errors)}`);
  const registered = await client.register();
  assert.equal(registered.status, 200, `registration: ${JSON.stringify(registered.body)}`);
  type Current = { currentSession: { id: string; deviceBound: boolean; deviceBoundAt: string | null } | null };
  const { data } = await client.graphql<Current>(CURRENT_SESSION);
  const session = data?.currentSession;
  assert.ok(session?.deviceBound && session.deviceBoundAt, `${username}'s session is bound and served`);
  return { client, sessionId: session.id, boundAt: new Date(session.deviceBoundAt) };
}
