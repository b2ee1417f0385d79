import { isPendingResult, type LoginOutcome } from '../sessions/login.js';
import { pendingLoginAsSession } from '../sessions/pending-logins.js';
import { LoginStepEnum } from './assurance.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';

builder.objectType('LoginPayload', {
  fields: (t) => ({
    user: t.expose('user', { type: 'User' }),
    session: t.expose('session', {
      type: 'Session',
      description: 'The new session; while `nextStep` is not DONE, the pending login, shown as a session.',
    }),
    nextStep: t.field({
      type: LoginStepEnum,
      description: 'DONE when signed in; else what the login waits for (the cookie holds a pending login until then).',
      resolve: (payload) => payload.nextStep,
    }),
  }),
});

/**
 * What every way of signing in ends with (a password, a second step, an enrollment, a passkey):
 * the cookie set to the new token, the context switched to what it signs in (for the rest of
 * the operation), and the payload that shows it.
 */
export function completeLogin(context: GraphQLContext, outcome: LoginOutcome) {
  if (isPendingResult(outcome)) {
    const { pending, token } = outcome;
    context.setSessionCookie(token, pending.expiresAt);
    context.viewer = null;
    context.pendingLogin = pending;
    return { user: pending.user, session: pendingLoginAsSession(pending), nextStep: pending.nextStep };
  }
  const { viewer, token } = outcome;
  context.setSessionCookie(token, viewer.session.expiresAt);
  if (outcome.dbscChallenge) context.offerDeviceBinding(outcome.dbscChallenge);
  // The new session is this request's from here on (e.g. `session { current }`).
  context.viewer = viewer;
  context.pendingLogin = null;
  return { user: viewer.user, session: viewer.session, nextStep: 'DONE' as const };
}

builder.mutationField('login', (t) =>
  t.field({
    type: 'LoginPayload',
    description:
      'Signs in and sets the session cookie. The token itself is only ever in the cookie. For a user with a second factor (or held to enroll one by REQUIRE_SECOND_FACTOR), `nextStep` says what is still needed, and the cookie holds a pending login until then.',
    args: {
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    resolve: async (_root, { username, password }, context) => {
      const replacing = context.viewer ?? context.pendingLogin;
      const outcome = await context.services.logins.login(username, password, context.device, replacing);
      return completeLogin(context, outcome);
    },
  }),
);

builder.mutationField('verifySecondFactor', (t) =>
  t.field({
    type: 'LoginPayload',
    description:
      'Finishes a pending login with a code from the authenticator app, or a recovery code (spaces and hyphens ignored): a new session, with a new cookie. Wrong codes are INVALID_SECOND_FACTOR and throttled like passwords; without a pending login, UNAUTHENTICATED (or FORBIDDEN when already signed in).',
    args: { code: t.arg.string({ required: true }) },
    resolve: async (_root, { code }, context) => {
      const { pendingLogin, viewer, device } = context;
      return completeLogin(context, await context.services.secondStep.verify(pendingLogin, viewer, code, device));
    },
  }),
);

builder.mutationField('logout', (t) =>
  t.boolean({
    description: 'Ends this session (or pending login) and clears the cookie. Anonymous callers get false.',
    resolve: async (_root, _args, context) => {
      context.clearSessionCookie();
      if (context.pendingLogin) {
        await context.services.pendingLogins.discard(context.pendingLogin);
        return true;
      }
      if (!context.viewer) return false;
      await context.services.ends.logout(context.viewer, context.device);
      return true;
    },
  }),
);
