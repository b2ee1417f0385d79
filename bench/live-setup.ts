/**
 * bench:live's users and sessions, made through the public API: `createUser`, then one `login`
 * per session (argon2 dominates), and the subscribers that will share each session's cookie.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pool, type Subscriber } from './subscribers.js';
import { graphql, login, print, type BenchServer, type GraphQLTarget } from './support.js';

/** Requests in flight while users and sessions are made. */
const SETUP_IN_FLIGHT = 8;
/**
 * Sessions per user: logins of one account run one at a time (the throttle's per-account queue),
 * so the sessions are spread over several accounts to make them in parallel.
 */
const SESSIONS_PER_USER = 10;

export interface LiveSetup {
  adminCookie: string;
  /** `perSession` subscribers per session, those of a session next to each other. */
  subscribers: Subscriber[];
}

async function createUsers(target: GraphQLTarget, adminCookie: string, users: number) {
  const accounts = Array.from({ length: users }, (_, i) => ({
    username: `live-user-${i}`,
    password: `live-password-${i}-${randomBytes(6).toString('hex')}`,
  }));
  await pool(accounts, SETUP_IN_FLIGHT, async (account) => {
    await graphql(
      target,
      'mutation($u: String!, $p: String!) { createUser(username: $u, password: $p) { id } }',
      { u: account.username, p: account.password },
      { cookie: adminCookie },
    );
  });
  return accounts;
}

export async function setUpSessions(
  target: GraphQLTarget,
  server: BenchServer,
  sessions: number,
  perSession: number,
): Promise<LiveSetup> {
  const started = performance.now();
  const admin = await login(target, server.adminUsername, server.adminPassword);
  const accounts = await createUsers(target, admin.cookie, Math.ceil(sessions / SESSIONS_PER_USER));
  const subscribers: Subscriber[] = [];
  await pool(
    Array.from({ length: sessions }, (_, i) => i),
    SETUP_IN_FLIGHT,
    async (i) => {
      const account = accounts[i % accounts.length]!;
      const session = await login<{ login: { session: { id: string } } }>(
        target,
        account.username,
        account.password,
        'session { id }',
      );
      for (let k = 0; k < perSession; k++) {
        subscribers[i * perSession + k] = {
          ...{ userIndex: i, sessionId: session.data.login.session.id, cookie: session.cookie },
          ...{ events: [], completed: false },
        };
      }
    },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  print(`  set-up: ${accounts.length} users, ${sessions} sessions in ${seconds} s`);
  return { adminCookie: admin.cookie, subscribers };
}
