/**
 * Accounts for bench/second-factor-login.ts, enrolled through the API as their users would be
 * (sign in, then `startTotpEnrollment` and `confirmTotpEnrollment` with the app's first code, or
 * `startPasskeyRegistration` and `finishPasskeyRegistration`), and handed out so that the timed
 * sign-ins stay valid:
 *
 * - No two sign-ins in flight share an account: the server runs one account's logins one after
 *   another, so 8 in flight must be 8 accounts ({@link AccountPool}).
 * - An app's code is accepted once per account (only for a time step after the last one
 *   accepted), so each account with an app signs in once: the bench enrolls as many as it times.
 *   The code is the one for the current step, or for the next one when the account's last
 *   accepted code is the current step's (the server takes one step either way, as from a phone
 *   whose clock runs a little ahead): same work for the server, no wait for the clock.
 * - A recovery code is good once: each account's ten are used one by one.
 * - A passkey signs in again and again, its counter one up each time: the software authenticator
 *   of the tests (test/support/soft-authenticator.ts) holds it and keeps count, and the pool
 *   keeps two sign-ins of one account from racing their counters.
 */
import { Secret, TOTP } from 'otpauth';
import { SoftAuthenticator, type CreationOptions } from '../test/support/soft-authenticator.js';
import { graphql, login, type BenchAccount, type GraphQLTarget } from './support.js';

/** RFC 6238 as Gatehouse has it (src/sessions/totp.ts): SHA-1, 6 digits, 30-second steps. */
const TOTP_PERIOD_S = 30;
const currentStep = () => Math.floor(Date.now() / 1000 / TOTP_PERIOD_S);

/** An account with an authenticator app, and the recovery codes its enrollment showed. */
export interface FactorAccount extends BenchAccount {
  secret: Secret;
  /** The last step whose code the server accepted for it. */
  lastStep: number;
  /** Not used yet; each sign-in with one takes it off. */
  recoveryCodes: string[];
}

function codeAt(secret: Secret, step: number): string {
  return TOTP.generate({
    secret,
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD_S,
    timestamp: step * TOTP_PERIOD_S * 1000,
  });
}

/** The code the account's app would show now that the server has not accepted yet (see the rules above). */
export function nextTotpCode(account: FactorAccount): string {
  const step = Math.max(currentStep(), account.lastStep + 1);
  account.lastStep = step;
  return codeAt(account.secret, step);
}

/** The account's next unused recovery code. */
export function nextRecoveryCode(account: FactorAccount): string {
  const code = account.recoveryCodes.pop();
  if (code === undefined) throw new Error(`${account.username} has no recovery code left`);
  return code;
}

const START_TOTP = 'mutation { startTotpEnrollment { secret } }';
const CONFIRM_TOTP = 'mutation($code: String!) { confirmTotpEnrollment(code: $code) { recoveryCodes } }';
const START_PASSKEY = 'mutation { startPasskeyRegistration }';
const FINISH_PASSKEY =
  'mutation($response: JSON!) { finishPasskeyRegistration(response: $response) { recoveryCodes } }';

/** What the first factor's enrollment shows: ten recovery codes. */
function recoveryCodesOf(payload: { recoveryCodes: string[] }): string[] {
  if (payload.recoveryCodes.length !== 10) throw new Error('enrollment showed no recovery codes');
  return payload.recoveryCodes;
}

/** Adds an authenticator app to `account` on a session of its own, as its user would. */
export async function enrollTotp(target: GraphQLTarget, account: BenchAccount): Promise<FactorAccount> {
  const headers = { cookie: (await login(target, account.username, account.password)).cookie };
  type Started = { startTotpEnrollment: { secret: string } };
  const { startTotpEnrollment } = await graphql<Started>(target, START_TOTP, undefined, headers);
  const secret = Secret.fromBase32(startTotpEnrollment.secret);
  const step = currentStep();
  type Confirmed = { confirmTotpEnrollment: { recoveryCodes: string[] } };
  const confirmed = await graphql<Confirmed>(target, CONFIRM_TOTP, { code: codeAt(secret, step) }, headers);
  return { ...account, secret, lastStep: step, recoveryCodes: recoveryCodesOf(confirmed.confirmTotpEnrollment) };
}

/** An account with a passkey, held by an authenticator of its own. */
export interface PasskeyAccount extends BenchAccount {
  authenticator: SoftAuthenticator;
}

/** Registers a passkey for `account` on a session of its own, with an authenticator on `origin` (the server's). */
export function passkeyEnroller(origin: string) {
  return async (target: GraphQLTarget, account: BenchAccount): Promise<PasskeyAccount> => {
    const headers = { cookie: (await login(target, account.username, account.password)).cookie };
    const authenticator = new SoftAuthenticator(origin);
    type Started = { startPasskeyRegistration: CreationOptions };
    const { startPasskeyRegistration } = await graphql<Started>(target, START_PASSKEY, undefined, headers);
    const response = authenticator.register(startPasskeyRegistration);
    type Finished = { finishPasskeyRegistration: { recoveryCodes: string[] } };
    const finished = await graphql<Finished>(target, FINISH_PASSKEY, { response }, headers);
    recoveryCodesOf(finished.finishPasskeyRegistration);
    return { ...account, authenticator };
  };
}

/** `enroll` for every account, `inFlight` at a time. */
export async function enrollAll<A>(
  target: GraphQLTarget,
  accounts: BenchAccount[],
  inFlight: number,
  enroll: (target: GraphQLTarget, account: BenchAccount) => Promise<A>,
): Promise<A[]> {
  const enrolled: A[] = [];
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) enrolled.push(await enroll(target, accounts[next++]!));
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, accounts.length) }, worker));
  return enrolled;
}

/**
 * Accounts lent one sign-in at a time: `take` hands out one no sign-in in flight holds, `give`
 * takes it back while `usable` says it can sign in again (a password or a passkey always; a
 * recovery code while one is left; an app's code never, see above).
 */
export class AccountPool<A> {
  private readonly free: A[];

  constructor(
    readonly name: string,
    accounts: A[],
    private readonly usable: (account: A) => boolean,
  ) {
    this.free = [...accounts];
  }

  take(): A {
    const account = this.free.shift();
    if (account === undefined) throw new Error(`${this.name}: no account left to sign in with (too few enrolled)`);
    return account;
  }

  give(account: A): void {
    if (this.usable(account)) this.free.push(account);
  }
}
