/** Account controls and emergency actions: DESIGN.md, "Accounts and emergency controls". */
import { badUserInput } from '../sessions/errors.js';
import { builder } from './builder.js';
import { actorOf, viewerOf } from './context.js';

/** Needs a recent proof on the calling session (REAUTHENTICATION_REQUIRED otherwise). */
export const STEP_UP =
  'Needs a proof within REAUTH_WINDOW (see `reauthenticate`): the password, and a second factor when the caller has one.';

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
      'Proves who the caller is again and returns this session with a fresh authenticatedAt, for step-up operations. Without a second factor: the password. With one: the password and a `code` (authenticator app or recovery code), which make the session AAL2; the password alone is SECOND_FACTOR_REQUIRED. Or, for a user with a passkey, a `passkeyResponse` alone (to options from `startPasskeyLogin`), which makes the session AAL2 too. Throttled like a login.',
    authScopes: { signedIn: true },
    args: {
      password: t.arg.string(),
      code: t.arg.string({ description: 'A code from the authenticator app, or a recovery code.' }),
      passkeyResponse: t.arg({
        type: 'JSON',
        description: 'A passkey assertion for options from `startPasskeyLogin`: an AAL2 proof by itself.',
      }),
    },
    resolve: (_root, { password, code, passkeyResponse }, context) => {
      const viewer = viewerOf(context);
      if (passkeyResponse === null || passkeyResponse === undefined) {
        return context.services.stepUp.reauthenticate(viewer, { password, code }, context.device);
      }
      if (password || code)
        throw badUserInput('Send a passkey response alone: it is a proof by itself', 'passkeyResponse');
      const site = context.webauthnSite();
      return context.services.passkeys.login.reauthenticate(viewer, passkeyResponse, site, context.device);
    },
  }),
);
