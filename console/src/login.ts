/**
 * The steps of signing in, as the sign-in screens take them: a password (`login`), then perhaps
 * a second step on the pending session (`verifySecondFactor`, or a passkey through
 * `finishPasskeyLogin`), or a passkey alone. Every step answers the same `LoginPayload`; this
 * module turns it into where the page goes next, or the failure in words.
 *
 * A step that succeeded sets a cookie (the second step a new one: the token rotates), so each is
 * followed by the check that the browser kept it (gatehouse.ts, `checkCookieKept`).
 */
import { CombinedError, type Client } from '@urql/core';
import { describeError, errorCode, pendingStep, tooMany } from './errors.js';
import { checkCookieKept } from './gatehouse.js';
import type { LoginResultFragment } from './gql/graphql.js';
import type { Outcome, Viewer } from './hooks.js';
import {
  FinishPasskeyLoginDocument,
  PendingLoginDocument,
  SignInDocument,
  StartPasskeyLoginDocument,
  VerifySecondFactorDocument,
  WhoAmIDocument,
} from './operations.js';
import { passkeyCeremony } from './passkeys.js';
import { cookieRefusalInWords } from './words.js';

/**
 * Where a step leaves the page: signed in (`DONE`), waiting for the second step, signed in only
 * to add a second factor (`ENROLL_SECOND_FACTOR`), signed out because the pending login
 * expired, signed out (a page opened without a session), or where it was with a failure in words.
 */
export type LoginOutcome =
  | { next: 'DONE' | 'SECOND_FACTOR' | 'ENROLL_SECOND_FACTOR'; user: Viewer }
  | { next: 'EXPIRED' }
  | { next: 'SIGNED_OUT' }
  | { failure: string };

/** Words for a second step's refusals; the rest read as for any operation. */
const SECOND_STEP_REFUSALS = { RATE_LIMITED: tooMany('wrong codes') };

/** A passkey as the second step: the pending login's user's passkeys only. */
const SECOND_STEP_PASSKEY_REFUSALS = {
  RATE_LIMITED: tooMany('failed attempts'),
  INVALID_SECOND_FACTOR:
    'That passkey is not one of this account’s, or it could not be checked. Try again, or enter a code.',
};

/** A passkey offered instead of a password: the authenticator picked the account. */
const PASSKEY_REFUSALS = {
  RATE_LIMITED: tooMany('failed attempts'),
  INVALID_SECOND_FACTOR: 'That passkey does not sign in to this server. Sign in with your password.',
};

/** One step's answer: its payload, the server's error, or a failure the browser had (a passkey prompt). */
interface Step extends Outcome {
  payload?: LoginResultFragment | undefined;
}

async function outcomeOf(
  client: Client,
  { payload, error, failure }: Step,
  refusals: Parameters<typeof describeError>[1] = {},
): Promise<LoginOutcome> {
  if (failure) return { failure };
  if (error || !payload) return { failure: error ? describeError(error, refusals) : 'Not connected.' };
  // A cookie the browser refused would otherwise surface as "Signed out" a moment later.
  try {
    const refused = await checkCookieKept(client, payload.session.id);
    if (refused) return { failure: cookieRefusalInWords(refused) };
  } catch (caught) {
    return { failure: caught instanceof CombinedError ? describeError(caught) : 'Not connected.' };
  }
  return { next: payload.nextStep, user: payload.user };
}

export async function signInWithPassword(client: Client, username: string, password: string): Promise<LoginOutcome> {
  const result = await client.mutation(SignInDocument, { username, password }).toPromise();
  return outcomeOf(client, { payload: result.data?.login, error: result.error });
}

/** A second step answered UNAUTHENTICATED: the pending session is gone, its time ran out. */
const expired = (result: { error?: CombinedError | undefined }) => errorCode(result.error) === 'UNAUTHENTICATED';

export async function verifyCode(client: Client, code: string): Promise<LoginOutcome> {
  const result = await client.mutation(VerifySecondFactorDocument, { code }).toPromise();
  if (expired(result)) return { next: 'EXPIRED' };
  return outcomeOf(client, { payload: result.data?.verifySecondFactor, error: result.error }, SECOND_STEP_REFUSALS);
}

/**
 * Signs in with a passkey: as the second step of the pending login the cookie holds (the server
 * asks for that user's passkeys), or with no password at all (a discoverable passkey names its
 * account).
 */
export async function signInWithPasskey(client: Client, secondStep = false): Promise<LoginOutcome> {
  const result: Step = await passkeyCeremony(
    'get',
    async () => {
      const started = await client.mutation(StartPasskeyLoginDocument, {}).toPromise();
      return { error: started.error, options: started.data?.startPasskeyLogin };
    },
    async (response) => {
      const finished = await client.mutation(FinishPasskeyLoginDocument, { response }).toPromise();
      return { payload: finished.data?.finishPasskeyLogin, error: finished.error };
    },
  );
  if (secondStep && expired(result)) return { next: 'EXPIRED' };
  return outcomeOf(client, result, secondStep ? SECOND_STEP_PASSKEY_REFUSALS : PASSKEY_REFUSALS);
}

/**
 * Where a page opened with whatever cookie the browser has starts: signed in, in a pending
 * login's step (a reload during the second step keeps it), or signed out.
 */
export async function resume(client: Client): Promise<LoginOutcome> {
  const result = await client.query(WhoAmIDocument, {}, { requestPolicy: 'network-only' }).toPromise();
  if (result.data?.me) return { next: 'DONE', user: result.data.me };
  const step = pendingStep(result.error);
  if (step === 'SECOND_FACTOR' || step === 'ENROLL_SECOND_FACTOR') {
    const pending = await client.query(PendingLoginDocument, {}, { requestPolicy: 'network-only' }).toPromise();
    const user = pending.data?.currentSession?.user;
    if (user) return { next: step, user };
  }
  return result.error ? { failure: describeError(result.error) } : { next: 'SIGNED_OUT' };
}
