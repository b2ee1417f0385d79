import type { SessionRecord } from '../../sessions/types.js';
import { CLI_OPERATOR } from '../../sessions/types.js';
import type { Command, CommandContext } from '../command.js';
import { plural, type CellFormats } from '../output.js';
import { UsageError } from '../usage.js';

const USER_OPTION = "--user USER  only this user's (a user id or a username)";
/** User agents are long; a table shows their start. */
const DEVICE_WIDTH = 40;

async function sessionRows({ core }: CommandContext, sessions: SessionRecord[]) {
  const users = new Map(
    (await core.services.users.findByIds([...new Set(sessions.map((s) => s.userId))])).map((u) => [u.id, u]),
  );
  return sessions.map((session) => ({
    id: session.id,
    user: users.get(session.userId)?.username ?? session.userId,
    signedIn: session.createdAt,
    lastSeen: session.lastSeenAt,
    expires: session.expiresAt,
    ip: session.ipAddress,
    bound: session.deviceBoundAt !== null,
    boundAt: session.deviceBoundAt,
    device: session.userAgent?.slice(0, DEVICE_WIDTH) ?? null,
  }));
}

/**
 * The table's columns; `boundAt` is in the JSON only. `bound` comes just before `device`, the
 * one column with spaces in it, so that the columns before it keep their places for scripts.
 */
const SESSION_COLUMNS = ['id', 'user', 'signedIn', 'lastSeen', 'expires', 'ip', 'bound', 'device'];
/** Bound to its device (DBSC) reads `yes`; an unbound session `-`, as an empty cell does. */
const SESSION_CELLS: CellFormats = { bound: (bound) => (bound === true ? 'yes' : '-') };

export const sessionCommands: Command[] = [
  {
    name: 'sessions count',
    summary: 'count active sessions',
    options: { user: { type: 'string' } },
    details: [USER_OPTION],
    async run({ core, out, options }) {
      const { sessions, users } = core.services;
      if (typeof options.user !== 'string') {
        const count = await sessions.countActive();
        return out.result(plural(count, 'active session'), { activeSessions: count });
      }
      const user = await users.find(options.user);
      const count = (await sessions.countActiveByUser([user.id])).get(user.id) ?? 0;
      out.result(`${plural(count, 'active session')} of ${user.username}`, { userId: user.id, activeSessions: count });
    },
  },
  {
    name: 'sessions list',
    summary: 'list active sessions, newest first',
    options: { user: { type: 'string' }, limit: { type: 'string', default: '100' } },
    details: [
      USER_OPTION,
      '--limit N    at most N sessions (1 to 100)',
      'Column bound: yes for a session bound to its device (DBSC), else -; JSON: bound, boundAt.',
    ],
    async run(context) {
      const first = Number(context.options.limit);
      if (!Number.isInteger(first) || first < 1 || first > 100) throw new UsageError('--limit must be from 1 to 100');
      const { sessions, users } = context.core.services;
      const user = typeof context.options.user === 'string' ? await users.find(context.options.user) : undefined;
      const found = user
        ? (await sessions.listForUser(user.id, false)).slice(0, first)
        : (await sessions.listActive({ first })).items;
      context.out.rows(await sessionRows(context, found), SESSION_COLUMNS, SESSION_CELLS);
    },
  },
  {
    name: 'sessions kick',
    summary: 'end one session (KICKED); every running server stops serving it at once',
    positionals: ['SESSION_ID'],
    async run({ core, out, args }) {
      const ended = await core.services.ends.kick(CLI_OPERATOR, args.SESSION_ID!);
      out.result(`session ${ended.id}: ${ended.endReason ?? 'active'}`, {
        id: ended.id,
        endReason: ended.endReason,
        endedAt: ended.endedAt,
      });
    },
  },
  {
    name: 'sessions revoke-user',
    summary: "end all of a user's sessions (USER_SESSIONS_REVOKED)",
    positionals: ['USER'],
    details: ['USER is a user id or a username.'],
    async run({ core, out, args }) {
      const user = await core.services.users.find(args.USER!);
      const ended = await core.services.ends.revokeUser(CLI_OPERATOR, user.id);
      out.result(`ended ${plural(ended, 'session')} of ${user.username}`, { userId: user.id, ended });
    },
  },
  {
    name: 'sessions revoke-all',
    summary: 'end every active session (ALL_SESSIONS_REVOKED)',
    options: { yes: { type: 'boolean' } },
    details: ['--yes  required: everyone is signed out'],
    async run({ core, out, options }) {
      if (options.yes !== true) throw new UsageError('this signs everyone out: add --yes');
      const ended = await core.services.ends.revokeAll(CLI_OPERATOR);
      out.result(`ended ${plural(ended, 'session')}`, { ended });
    },
  },
];
