/**
 * Passkeys (WebAuthn): DESIGN.md, "Second factors and passkeys". Each ceremony is two calls: the
 * first returns options for @simplewebauthn/browser (`startRegistration` / `startAuthentication`),
 * the second takes what the browser made of them, as that library returns it.
 */
import { builder } from './builder.js';
import { viewerOf } from './context.js';

const SecondFactorKindEnum = builder.enumType('SecondFactorKind', { values: ['TOTP', 'PASSKEY'] as const });

builder.objectType('SecondFactor', {
  description: "One of a user's second factors: an authenticator app (TOTP) or a passkey.",
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: SecondFactorKindEnum, resolve: () => 'PASSKEY' as const }),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.objectType('SecondFactorPayload', {
  fields: (t) => ({
    factor: t.expose('factor', { type: 'SecondFactor' }),
    recoveryCodes: t.exposeStringList('recoveryCodes', {
      nullable: true,
      description: 'New recovery codes, shown only here: when the user had none before this factor.',
    }),
  }),
});

builder.mutationField('startPasskeyRegistration', (t) =>
  t.field({
    type: 'JSON',
    description:
      "WebAuthn creation options for a new passkey of the caller's (PublicKeyCredentialCreationOptionsJSON, for @simplewebauthn/browser's startRegistration). Needs a proof within REAUTH_WINDOW (see `reauthenticate`).",
    authScopes: { signedIn: true },
    resolve: (_root, _args, context) =>
      context.services.passkeys.registration.start(viewerOf(context), context.webauthnSite()),
  }),
);

builder.mutationField('finishPasskeyRegistration', (t) =>
  t.field({
    type: 'SecondFactorPayload',
    description:
      "Verifies the browser's answer to `startPasskeyRegistration` (RegistrationResponseJSON) and adds the passkey. BAD_USER_INPUT when it is not a WebAuthn response, INVALID_SECOND_FACTOR when it does not verify. Needs a proof within REAUTH_WINDOW.",
    authScopes: { signedIn: true },
    args: { response: t.arg({ type: 'JSON', required: true }), name: t.arg.string() },
    resolve: async (_root, args, context) => {
      const { registration } = context.services.passkeys;
      const site = context.webauthnSite();
      const factor = await registration.finish(viewerOf(context), site, args.response, args.name, context.device);
      return { factor, recoveryCodes: null };
    },
  }),
);

builder.mutationField('startPasskeyLogin', (t) =>
  t.field({
    type: 'JSON',
    description:
      "WebAuthn request options (PublicKeyCredentialRequestOptionsJSON, for @simplewebauthn/browser's startAuthentication). Without a username: a discoverable login (the browser offers every passkey of the site). With one: that user's passkeys, in options that look the same whether or not the user exists. Signed in without a username: the caller's own passkeys, for a step-up.",
    args: { username: t.arg.string() },
    resolve: (_root, { username }, context) => {
      const { viewer, device } = context;
      const asker =
        viewer && (username === null || username === undefined)
          ? { userId: viewer.user.id }
          : { username, ipAddress: device.ipAddress };
      return context.services.passkeys.login.start(asker, context.webauthnSite());
    },
  }),
);
