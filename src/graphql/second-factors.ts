/** Second factors: DESIGN.md, "Second factors and passkeys" (the login's second step is in auth.ts). */
import { unauthenticated } from '../sessions/errors.js';
import type { Enrolling } from '../sessions/second-factors.js';
import { STEP_UP } from './accounts.js';
import { SecondFactorKindEnum } from './assurance.js';
import { completeLogin } from './auth.js';
import { builder } from './builder.js';
import { actorOf, viewerOf, type GraphQLContext } from './context.js';
import { loadersFor } from './loaders.js';

builder.objectType('SecondFactor', {
  description: 'An authenticator app or a passkey that proves the user as a second factor. Never holds its secret.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: SecondFactorKindEnum, resolve: (factor) => factor.kind }),
    name: t.exposeString('name', { description: 'Given by the user, e.g. "Phone"; a default otherwise.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.objectType('TotpEnrollment', {
  description:
    'An authenticator app to add: shown once. Confirm it with a code the app shows (`confirmTotpEnrollment`).',
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The shared secret, base32, for typing into the app.' }),
    otpauthUri: t.exposeString('otpauthUri', {
      description: 'The `otpauth://totp/…` URI to show as a QR code (draw it in the page: it holds the secret).',
    }),
  }),
});

builder.objectType('SecondFactorPayload', {
  fields: (t) => ({
    factor: t.expose('factor', { type: 'SecondFactor' }),
    recoveryCodes: t.exposeStringList('recoveryCodes', {
      description: 'With the first factor: 10 recovery codes, shown only here, each good once. Otherwise empty.',
    }),
  }),
});

builder.objectField('User', 'secondFactors', (t) =>
  t.field({
    type: ['SecondFactor'],
    description: 'Authenticator apps and passkeys, oldest first. ADMIN or the user themself.',
    authScopes: (user) => ({ admin: true, self: user.id }),
    resolve: (user, _args, context) => loadersFor(context).secondFactors.load(user.id),
  }),
);

/** A signed-in user, or a pending login held to enroll (REQUIRE_SECOND_FACTOR). */
export function enrollingOf(context: GraphQLContext): Enrolling {
  const { viewer, pendingLogin, device } = context;
  if (viewer) return { viewer, device };
  if (pendingLogin) return { pending: pendingLogin, device };
  throw unauthenticated();
}

const ENROLLING =
  'Signed in (step-up: a recent proof, with the second factor if the caller has one), or on a login held to enroll one (`nextStep: ENROLL_SECOND_FACTOR`).';

builder.mutationField('startTotpEnrollment', (t) =>
  t.field({
    type: 'TotpEnrollment',
    description: `Starts adding an authenticator app: a new secret, replacing an enrollment not yet confirmed. ${ENROLLING} FORBIDDEN (reason SECRETS_KEY_UNSET) when SECRETS_KEY is needed and not set.`,
    resolve: (_root, _args, context) => context.services.secondFactors.startTotp(enrollingOf(context)),
  }),
);

builder.mutationField('confirmTotpEnrollment', (t) =>
  t.field({
    type: 'SecondFactorPayload',
    description: `Confirms the app with a code it shows: it becomes a second factor, and this session AAL2. On a login held to enroll, the login finishes (a new session, with a new cookie). ${ENROLLING}`,
    args: {
      code: t.arg.string({ required: true }),
      name: t.arg.string({ description: 'What to call it (at most 64 characters); "Authenticator app" by default.' }),
    },
    resolve: async (_root, { code, name }, context) => {
      const added = await context.services.secondFactors.confirmTotp(enrollingOf(context), code, name);
      if (added.login) completeLogin(context, added.login);
      return { factor: added.factor, recoveryCodes: added.recoveryCodes };
    },
  }),
);

builder.mutationField('removeSecondFactor', (t) =>
  t.boolean({
    description: `Removes one of the caller's second factors; another user's is NOT_FOUND. A user REQUIRE_SECOND_FACTOR covers cannot remove their last (FORBIDDEN, reason LAST_SECOND_FACTOR). ${STEP_UP}`,
    authScopes: { signedIn: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      await context.services.secondFactors.remove(viewerOf(context), id, context.device);
      return true;
    },
  }),
);

builder.mutationField('regenerateRecoveryCodes', (t) =>
  t.stringList({
    description: `10 new recovery codes, shown only here; the old ones stop working. Needs a second factor (FORBIDDEN, reason NO_SECOND_FACTOR). ${STEP_UP}`,
    authScopes: { signedIn: true },
    resolve: (_root, _args, context) =>
      context.services.secondFactors.regenerateRecoveryCodes(viewerOf(context), context.device),
  }),
);

builder.mutationField('resetSecondFactors', (t) =>
  t.field({
    type: 'User',
    description: `Removes all of a user's second factors, recovery codes and pending logins, and ends all their sessions (SECOND_FACTORS_RESET), in one transaction. ADMIN only. ${STEP_UP}`,
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }) },
    resolve: async (_root, { userId }, context) =>
      (await context.services.accounts.resetSecondFactors(actorOf(context), userId)).user,
  }),
);
