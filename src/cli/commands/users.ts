import { MAX_SESSION_LIMIT } from '../../sessions/policy.js';
import { CLI_OPERATOR, type UserRecord } from '../../sessions/types.js';
import type { Command, CommandContext } from '../command.js';
import { plural } from '../output.js';
import { readPassword } from '../input.js';
import { UsageError } from '../usage.js';

const USER = 'USER is a user id or a username.';
const PASSWORD_STDIN = '--password-stdin  read the password from standard input (else it is asked for, unseen)';

/** A user as printed; `counts` where the command read them (`users list`). */
const userRow = (user: UserRecord, counts?: { activeSessions: number; secondFactors: number }) => ({
  id: user.id,
  username: user.username,
  role: user.role,
  disabled: user.disabledAt !== null,
  ...counts,
  sessionLimit: user.sessionLimit ?? 'default',
  created: user.createdAt,
});

const USER_COLUMNS = [
  'id',
  'username',
  'role',
  'disabled',
  'activeSessions',
  'secondFactors',
  'sessionLimit',
  'created',
];

function printUser({ out }: CommandContext, what: string, user: UserRecord): void {
  out.result(`${what} ${user.username} (${user.id})`, userRow(user));
}

function parseLimit(text: string): number | null {
  if (text === 'none') return null;
  const limit = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(limit) || limit > MAX_SESSION_LIMIT) {
    throw new UsageError(`LIMIT must be a whole number from 0 (no limit) to ${MAX_SESSION_LIMIT}, or none`);
  }
  return limit;
}

/** `users disable` and `users enable`: one switch of an account, by id or username. */
function accountSwitch(action: 'disable' | 'enable', summary: string, done: string): Command {
  return {
    name: `users ${action}`,
    summary,
    positionals: ['USER'],
    details: [USER],
    async run(context) {
      const { accounts, users } = context.core.services;
      const user = await users.find(context.args.USER!);
      printUser(context, done, await accounts[action](CLI_OPERATOR, user.id));
    },
  };
}

export const userCommands: Command[] = [
  {
    name: 'users list',
    summary: 'list users, newest first',
    options: { search: { type: 'string' }, limit: { type: 'string', default: '100' } },
    details: ['--search TEXT  only usernames containing TEXT (any case)', '--limit N     at most N users (1 to 100)'],
    async run({ core, out, options }) {
      const first = Number(options.limit);
      if (!Number.isInteger(first) || first < 1 || first > 100) throw new UsageError('--limit must be from 1 to 100');
      const search = typeof options.search === 'string' ? options.search : undefined;
      const page = await core.services.users.list({ first, ...(search ? { usernameContains: search } : {}) });
      const ids = page.items.map((user) => user.id);
      const sessions = await core.services.sessions.countActiveByUser(ids);
      const factors = await core.services.secondFactors.countByUser(ids);
      const counts = (id: string) => ({ activeSessions: sessions.get(id) ?? 0, secondFactors: factors.get(id) ?? 0 });
      out.rows(
        page.items.map((user) => userRow(user, counts(user.id))),
        USER_COLUMNS,
      );
    },
  },
  {
    name: 'users create',
    summary: 'create a user',
    positionals: ['USERNAME'],
    options: { admin: { type: 'boolean' }, 'password-stdin': { type: 'boolean' } },
    details: ['--admin           make an ADMIN', PASSWORD_STDIN],
    async run(context) {
      const password = await readPassword(context.options['password-stdin'] === true);
      const role = context.options.admin === true ? 'ADMIN' : 'USER';
      const user = await context.core.services.users.create(
        { username: context.args.USERNAME!, password, role },
        CLI_OPERATOR,
      );
      printUser(context, 'created', user);
    },
  },
  accountSwitch('disable', 'disable a user and end all its sessions (USER_DISABLED)', 'disabled'),
  accountSwitch('enable', 'let a disabled user sign in again', 'enabled'),
  {
    name: 'users delete',
    summary: "end a user's sessions (USER_DELETED) and delete it; its audit events stay",
    positionals: ['USER'],
    options: { yes: { type: 'boolean' } },
    details: [USER, '--yes  required: deleting cannot be undone'],
    async run(context) {
      if (context.options.yes !== true) throw new UsageError('deleting a user cannot be undone: add --yes');
      const { accounts, users } = context.core.services;
      const user = await users.find(context.args.USER!);
      await accounts.delete(CLI_OPERATOR, user.id);
      printUser(context, 'deleted', user);
    },
  },
  {
    name: 'users set-limit',
    summary: "set a user's own session limit (0 = no limit), or none for the global one",
    positionals: ['USER', 'LIMIT'],
    details: [USER, `LIMIT is 0 to ${MAX_SESSION_LIMIT}, or none`],
    async run(context) {
      const limit = parseLimit(context.args.LIMIT!);
      const { users } = context.core.services;
      printUser(
        context,
        'limit set for',
        await users.setSessionLimit(CLI_OPERATOR, (await users.find(context.args.USER!)).id, limit),
      );
    },
  },
  {
    name: 'users reset-password',
    summary: "set a user's password and end all its sessions (PASSWORD_CHANGED)",
    positionals: ['USER'],
    options: { 'password-stdin': { type: 'boolean' } },
    details: [USER, PASSWORD_STDIN],
    async run(context) {
      const { accounts, users } = context.core.services;
      const user = await users.find(context.args.USER!);
      const password = await readPassword(context.options['password-stdin'] === true);
      printUser(context, 'password reset for', await accounts.resetPassword(CLI_OPERATOR, user.id, password));
    },
  },
  {
    name: 'users reset-factors',
    summary: "remove a user's second factors and recovery codes and end all its sessions (SECOND_FACTORS_RESET)",
    positionals: ['USER'],
    details: [USER],
    async run({ core, out, args }) {
      const { accounts, users } = core.services;
      const user = await users.find(args.USER!);
      const { factorsRemoved, sessionsEnded } = await accounts.resetSecondFactors(CLI_OPERATOR, user.id);
      const did = `removed ${plural(factorsRemoved, 'second factor')}, ended ${plural(sessionsEnded, 'session')}`;
      out.result(`second factors reset for ${user.username} (${user.id}): ${did}`, {
        ...userRow(user),
        factorsRemoved,
        sessionsEnded,
      });
    },
  },
];
