/**
 * Passkeys in the browser, with `@simplewebauthn/browser`: each use is a ceremony between two
 * server steps. Gatehouse's `start…` mutation gives the WebAuthn options (with a single-use
 * challenge), the browser asks the authenticator (which checks the person: user verification),
 * and Gatehouse's `finish…` mutation checks its answer. What the browser refuses becomes words
 * here; what the server refuses stays its error, for `describeError` and step-up.
 */
import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  WebAuthnError,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import type { Outcome } from './hooks.js';

/** Whether this browser can use passkeys at all; without, the console offers no passkey button. */
export const passkeysSupported = (): boolean => browserSupportsWebAuthn();

/**
 * Whether this device can offer a passkey for signing in without a username: a platform
 * authenticator (Touch ID, Windows Hello, Android, a password manager) or a phone reached by
 * hybrid transport. Only then does the sign-in form show `Sign in with a passkey`.
 *
 * Why not on every browser that speaks WebAuthn: clients outside this repository find the
 * password form's button by its name `Sign in`, and most match names by substring, which
 * `Sign in with a passkey` also contains; a browser with nothing to sign in with would then
 * show two matches for no use. Where a device can hold passkeys, the button is there.
 */
export async function passkeySignInAvailable(): Promise<boolean> {
  if (!browserSupportsWebAuthn()) return false;
  try {
    const capabilities = await PublicKeyCredential.getClientCapabilities?.();
    if (capabilities) {
      return Boolean(
        capabilities['passkeyPlatformAuthenticator'] ||
        capabilities['userVerifyingPlatformAuthenticator'] ||
        capabilities['hybridTransport'],
      );
    }
    return await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable();
  } catch {
    return false;
  }
}

/** Words for a ceremony the browser ended, by `@simplewebauthn/browser`'s code (or the DOM error's name). */
const CEREMONY_FAILURES: Record<string, string> = {
  ERROR_CEREMONY_ABORTED: 'The passkey request was cancelled.',
  NotAllowedError:
    'No passkey was used: the request was cancelled or timed out, or this device holds no passkey for this account.',
  ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED: 'This device already holds a passkey for your account.',
  ERROR_INVALID_DOMAIN: 'Passkeys work only on a secure page: open the console at its https:// address.',
  ERROR_INVALID_RP_ID:
    'This address is not the one passkeys belong to on this server (WEBAUTHN_RP_ID): open the console at that address.',
  ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT:
    'This authenticator cannot check that it is you (a PIN or biometrics): use another one.',
  ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT:
    'This authenticator cannot keep a passkey for signing in without a username: use another one.',
};

function ceremonyFailure(error: unknown): string {
  const cause = error instanceof WebAuthnError && error.cause instanceof Error ? error.cause : error;
  const keys = [error instanceof WebAuthnError ? error.code : '', cause instanceof Error ? cause.name : ''];
  for (const key of keys) if (CEREMONY_FAILURES[key]) return CEREMONY_FAILURES[key];
  return `The browser could not use a passkey (${cause instanceof Error ? cause.message : String(cause)}).`;
}

/** What a `start…` mutation answered: the WebAuthn options (the `JSON` scalar), or its error. */
export interface Options extends Outcome {
  options?: unknown;
}

/**
 * One ceremony: `start`, then the browser (`get` signs a challenge with an existing passkey,
 * `create` makes one), then `finish` with the authenticator's answer. The first failure ends it.
 */
export async function passkeyCeremony<Finished extends Outcome>(
  kind: 'get' | 'create',
  start: () => Promise<Options>,
  finish: (response: unknown) => Promise<Finished>,
): Promise<Finished | Outcome> {
  const started = await start();
  if (started.error || started.failure || started.options === undefined) return started;
  let response: unknown;
  try {
    // The options are Gatehouse's, made by @simplewebauthn/server for this very library.
    response =
      kind === 'get'
        ? await startAuthentication({ optionsJSON: started.options as PublicKeyCredentialRequestOptionsJSON })
        : await startRegistration({ optionsJSON: started.options as PublicKeyCredentialCreationOptionsJSON });
  } catch (error) {
    return { failure: ceremonyFailure(error) };
  }
  return finish(response);
}
