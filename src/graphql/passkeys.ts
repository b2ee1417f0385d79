/**
 * Passkeys (WebAuthn): DESIGN.md, "Second factors and passkeys". Each ceremony is two calls: the
 * first returns options for @simplewebauthn/browser (`startRegistration` / `startAuthentication`),
 * the second takes what the browser made of them, as that library returns it. (A passkey is a
 * `SecondFactor`, second-factors.ts; a passkey step-up is `reauthenticate(passkeyResponse)`.)
 */
import { completeLogin } from './auth.js';
import { builder } from './builder.js';
import { enrollingOf } from './second-factors.js';

const ENROLLING =
  'Signed in (step-up: a recent proof, with the second factor if the caller has one), or on a login held to enroll one (`nextStep: ENROLL_SECOND_FACTOR`).';

builder.mutationField('startPasskeyRegistration', (t) =>
  t.field({
    type: 'JSON',
    description: `WebAuthn creation options for a new passkey of the caller's (PublicKeyCredentialCreationOptionsJSON, for @simplewebauthn/browser's startRegistration), good once for 5 minutes. ${ENROLLING}`,
    resolve: (_root, _args, context) =>
      context.services.passkeys.registration.start(enrollingOf(context), context.webauthnSite()),
  }),
);

builder.mutationField('finishPasskeyRegistration', (t) =>
  t.field({
    type: 'SecondFactorPayload',
    description: `Verifies the browser's answer to \`startPasskeyRegistration\` (RegistrationResponseJSON) and adds the passkey: this session becomes AAL2; on a login held to enroll, the login finishes (a new session, with a new cookie). BAD_USER_INPUT when it is not a WebAuthn response, INVALID_SECOND_FACTOR when it does not verify. ${ENROLLING}`,
    args: {
      response: t.arg({ type: 'JSON', required: true }),
      name: t.arg.string({ description: 'What to call it (at most 64 characters); "Passkey" by default.' }),
    },
    resolve: async (_root, { response, name }, context) => {
      const { registration } = context.services.passkeys;
      const added = await registration.finish(enrollingOf(context), context.webauthnSite(), response, name);
      if (added.login) completeLogin(context, added.login);
      return { factor: added.factor, recoveryCodes: added.recoveryCodes };
    },
  }),
);

builder.mutationField('startPasskeyLogin', (t) =>
  t.field({
    type: 'JSON',
    description:
      "WebAuthn request options (PublicKeyCredentialRequestOptionsJSON, for @simplewebauthn/browser's startAuthentication), good once for 5 minutes. Without a username: a discoverable login (the browser offers every passkey of the site). With one: that user's passkeys, in options that look the same whether or not the user exists. On a pending login: its user's passkeys, for the second step (`username` is not used). Signed in without a username: the caller's own, for `reauthenticate(passkeyResponse)`.",
    args: { username: t.arg.string() },
    resolve: (_root, { username }, context) => {
      const { viewer, pendingLogin, device } = context;
      const own = pendingLogin?.user ?? (username === null || username === undefined ? viewer?.user : undefined);
      const asker = own ? { userId: own.id } : { username, ipAddress: device.ipAddress };
      return context.services.passkeys.assertions.start(asker, context.webauthnSite());
    },
  }),
);

builder.mutationField('finishPasskeyLogin', (t) =>
  t.field({
    type: 'LoginPayload',
    description:
      "Signs in with the browser's answer to `startPasskeyLogin` (AuthenticationResponseJSON), and sets the session cookie: on a pending login, its second step (that user's passkey only); otherwise without a password, replacing the session the request had. A new session (AAL2) with a new token either way. BAD_USER_INPUT when it is not a WebAuthn response, INVALID_SECOND_FACTOR when it does not verify; failures are throttled per client address.",
    args: { response: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, { response }, context) => {
      const { pendingLogin: pending, viewer, device } = context;
      const login = context.services.passkeys.login.finish(
        { pending, viewer, device },
        response,
        context.webauthnSite(),
      );
      return completeLogin(context, await login);
    },
  }),
);
