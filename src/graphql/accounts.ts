/** Account controls and emergency actions: DESIGN.md, "Accounts and emergency controls". */
import { builder } from './builder.js';
import { actorOf, viewerOf } from './context.js';

/** Needs a recent password proof on the calling session (REAUTHENTICATION_REQUIRED otherwise). */
const STEP_UP = 'Needs a password proof within REAUTH_WINDOW (see `reauthenticate`).';

builder.mutationField('disableUser', (t) =>
  t.field({
    type: 'User',
    description: `Disables an account and ends all its sessions (USER_DISABLED) in one transaction. The last admin cannot be disabled (FORBIDDEN, reason LAST_ADMIN). ADMIN only. ${STEP_UP}`,
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.services.accounts.disable(actorOf(context), args.userId),
  }),
);

builder.mutationField('enableUser', (t) =>
  t.field({
    type: 'User',
    description: 'Lets a disabled account sign in again; its ended sessions stay ended. ADMIN only.',
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.services.accounts.enable(actorOf(context), args.userId),
  }),
);

builder.mutationField('deleteUser', (t) =>
  t.boolean({
    description: `Ends an account's sessions (USER_DELETED) and deletes it with its session rows; its audit events stay, with its username on them. The last admin cannot be deleted (FORBIDDEN, reason LAST_ADMIN). ADMIN only. ${STEP_UP}`,
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      await context.services.accounts.delete(actorOf(context), args.userId);
      return true;
    },
  }),
);

builder.mutationField('resetPassword', (t) =>
  t.field({
    type: 'User',
    description: `Sets an account's password and ends all its sessions (PASSWORD_CHANGED). ADMIN only. ${STEP_UP}`,
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }), newPassword: t.arg.string({ required: true }) },
    resolve: (_root, args, context) =>
      context.services.accounts.resetPassword(actorOf(context), args.userId, args.newPassword),
  }),
);

builder.mutationField('revokeAllSessions', (t) =>
  t.int({
    description: `Ends every active session but the caller's (ALL_SESSIONS_REVOKED), in batches; returns how many. ADMIN only. ${STEP_UP}`,
    authScopes: { admin: true },
    resolve: (_root, _args, context) => context.services.ends.revokeAll(actorOf(context)),
  }),
);

builder.mutationField('reauthenticate', (t) =>
  t.field({
    type: 'Session',
    description:
      "Proves the caller's password again and returns this session with a fresh authenticatedAt, for step-up operations. Throttled like a login.",
    authScopes: { signedIn: true },
    args: { password: t.arg.string({ required: true }) },
    resolve: (_root, args, context) =>
      context.services.stepUp.reauthenticate(viewerOf(context), args.password, context.device),
  }),
);
