import { ROLES } from '../sessions/types.js';
import { builder } from './builder.js';
import { actorOf, viewerOf } from './context.js';
import { loadersFor } from './loaders.js';
import { defineConnection, pageArgs, toPageQuery } from './pagination.js';
import { badUserInput } from '../sessions/errors.js';

export const RoleEnum = builder.enumType('Role', { values: ROLES });

const UserRef = builder.objectType('User', {
  description: 'An account that can sign in.',
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    role: t.field({ type: RoleEnum, resolve: (user) => user.role }),
    disabled: t.boolean({
      description: 'Disabled by an admin: the account cannot sign in, and its sessions have ended.',
      resolve: (user) => user.disabledAt !== null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    activeSessionCount: t.int({
      description: 'Sessions of this user that are active now.',
      resolve: (user, _args, context) => loadersFor(context).activeSessionCount.load(user.id),
    }),
    sessionLimit: t.int({
      nullable: true,
      description:
        "This user's own session limit (0 = none); null when the global limit applies. ADMIN, self, or a service token with READ_SESSIONS.",
      authScopes: (user) => ({ admin: true, self: user.id, service: 'READ_SESSIONS' }),
      resolve: (user) => user.sessionLimit,
    }),
    sessions: t.field({
      type: ['Session'],
      description: 'Newest first (at most 500). ADMIN, the user themself, or a service token with READ_SESSIONS.',
      authScopes: (user) => ({ admin: true, self: user.id, service: 'READ_SESSIONS' }),
      args: { includeEnded: t.arg.boolean({ defaultValue: false }) },
      resolve: (user, args, { services }) => services.sessions.listForUser(user.id, args.includeEnded ?? false),
    }),
  }),
});

const UserConnection = defineConnection('User', UserRef, {
  connection: 'Users, newest first.',
  totalCount: 'Users across all pages (that match the filter).',
});

/** Longer than any username could be once normalised: such a filter matches nothing anyway. */
const USERNAME_FILTER_MAX_LENGTH = 256;

builder.queryField('users', (t) =>
  t.field({
    type: UserConnection,
    description:
      'Every account, newest first; `usernameContains` keeps those whose username contains it (any case). ADMIN only.',
    authScopes: { admin: true },
    args: { ...pageArgs(t.arg), usernameContains: t.arg.string() },
    resolve: (_root, args, { services }) => {
      const filter = args.usernameContains ?? undefined;
      if (filter !== undefined && filter.length > USERNAME_FILTER_MAX_LENGTH) {
        throw badUserInput(
          `usernameContains must be at most ${USERNAME_FILTER_MAX_LENGTH} characters`,
          'usernameContains',
        );
      }
      return services.users.list({ ...toPageQuery(args), ...(filter ? { usernameContains: filter } : {}) });
    },
  }),
);

builder.queryField('me', (t) =>
  t.field({
    type: 'User',
    nullable: true,
    description: 'The signed-in user; null when not signed in.',
    resolve: (_root, _args, { viewer }) => viewer?.user ?? null,
  }),
);

builder.mutationField('createUser', (t) =>
  t.field({
    type: 'User',
    description: 'Creates an account. ADMIN only; creating an ADMIN needs a recent password proof (step-up).',
    authScopes: { admin: true },
    args: {
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum, defaultValue: 'USER' }),
    },
    resolve: (_root, args, context) =>
      context.services.users.create(
        { username: args.username, password: args.password, role: args.role ?? 'USER' },
        actorOf(context),
      ),
  }),
);

builder.mutationField('changePassword', (t) =>
  t.boolean({
    description:
      "Changes the caller's password and ends their other sessions (PASSWORD_CHANGED). Needs a password proof within REAUTH_WINDOW.",
    authScopes: { signedIn: true },
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, context) => {
      await context.services.users.changePassword(
        viewerOf(context),
        args.currentPassword,
        args.newPassword,
        context.device,
      );
      return true;
    },
  }),
);

builder.mutationField('setUserSessionLimit', (t) =>
  t.field({
    type: 'User',
    description:
      "Sets a user's own session limit (0 = no limit), overriding MAX_SESSIONS_PER_USER; null falls back to it. Applies from the next login. ADMIN only.",
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }), limit: t.arg.int({ required: false }) },
    resolve: (_root, args, context) =>
      context.services.users.setSessionLimit(actorOf(context), args.userId, args.limit ?? null),
  }),
);
