/**
 * The steps of signing in, as the sign-in screens take them: a password (`login`), then perhaps
 * a second step on the pending session (`verifySecondFactor`, or a passkey), or a passkey alone.
 * The page's client (gatehouse/client) takes each step, and checks that the browser kept the
 * step's cookie (the second step sets a new one: the token rotates); this module turns its
 * answer into where the page goes next, or the failure in words.
 */
import { GatehouseError, type GatehouseClient, type LoginResult, type User } from '../../src/client/index.js';
import { describeError, tooMany } from './errors.js';
import { asOutcome, type Outcome } from './hooks.js';
import { passkeyCeremony } from './passkeys.js';

/**
 * Where a step leaves the page: signed in (`DONE`), waiting for the second step, signed in only
 * to add a second factor (`ENROLL_SECOND_FACTOR`), signed out because the pending login
 * expired, signed out (a page opened without a session), or where it was with a failure in words.
 */
export type LoginOutcome =
  | { next: 'DONE' | 'SECOND_FACTOR' | 'ENROLL_SECOND_FACTOR'; user: User }
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

/** One step's answer: its result, the server's error, or a failure the browser had (a passkey prompt). */
interface Step extends Outcome {
  data?: LoginResult | undefined;
}

/** A second step answered UNAUTHENTICATED: the pending session is gone, its time ran out. */
const expired = ({ error }: Step) => error?.code === 'UNAUTHENTICATED';

function outcomeOf({ data, error, failure }: Step, refusals: Parameters<typeof describeError>[1] = {}): LoginOutcome {
  if (failure) return { failure };
  if (error || !data) return { failure: error ? describeError(error, refusals) : 'Not connected.' };
  return { next: data.nextStep, user: data.user };
}

export async function signInWithPassword(
  client: GatehouseClient,
  username: string,
  password: string,
): Promise<LoginOutcome> {
  return outcomeOf(await asOutcome(client.login(username, password)));
}

export async function verifyCode(client: GatehouseClient, code: string): Promise<LoginOutcome> {
  const answer = await asOutcome(client.verifySecondFactor(code));
  return expired(answer) ? { next: 'EXPIRED' } : outcomeOf(answer, SECOND_STEP_REFUSALS);
}

/**
 * Signs in with a passkey: as the second step of the pending login the cookie holds (the server
 * asks for that user's passkeys), or with no password at all (a discoverable passkey names its
 * account).
 */
export async function signInWithPasskey(client: GatehouseClient, secondStep = false): Promise<LoginOutcome> {
  const answer: Step = await passkeyCeremony(
    'get',
    async () => {
      const { data, error } = await asOutcome(client.startPasskeyLogin());
      return { options: data, error };
    },
    (response) => asOutcome(client.finishPasskeyLogin(response)),
  );
  if (secondStep && expired(answer)) return { next: 'EXPIRED' };
  return outcomeOf(answer, secondStep ? SECOND_STEP_PASSKEY_REFUSALS : PASSKEY_REFUSALS);
}

/**
 * Where a page opened with whatever cookie the browser has starts: signed in, in a pending
 * login's step (a reload during the second step keeps it), or signed out.
 */
export async function resume(client: GatehouseClient): Promise<LoginOutcome> {
  try {
    const { status, user, nextStep } = await client.refresh();
    if (status === 'signedIn' && user) return { next: 'DONE', user };
    if (status === 'secondStep' && user && (nextStep === 'SECOND_FACTOR' || nextStep === 'ENROLL_SECOND_FACTOR'))
      return { next: nextStep, user };
    return { next: 'SIGNED_OUT' };
  } catch (error) {
    if (error instanceof GatehouseError) return { failure: describeError(error) };
    throw error;
  }
}
