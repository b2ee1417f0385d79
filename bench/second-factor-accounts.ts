/**
 * Accounts for bench/second-factor-login.ts, enrolled through the API as their users would be
 * (sign in, `startTotpEnrollment`, `confirmTotpEnrollment` with the app's first code), and handed
 * out so that the timed sign-ins stay valid:
 *
 * - No two sign-ins in flight share an account: the server runs one account's logins one after
 *   another, so 8 in flight must be 8 accounts ({@link AccountPool}).
 * - An app's code is accepted once per account (only for a time step after the last one
 *   accepted), so each account with an app signs in once: the bench enrolls as many as it times.
 *   The code is the one for the current step, or for the next one when the account's last
 *   accepted code is the current step's (the server takes one step either way, as from a phone
 *   whose clock runs a little ahead): same work for the server, no wait for the clock.
 * - A recovery code is good once: each account's ten are used one by one.
 */
import { Secret, TOTP } from 'otpauth';
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

const START = 'mutation { startTotpEnrollment { secret } }';
const CONFIRM = 'mutation($code: String!) { confirmTotpEnrollment(code: $code) { factor { id } recoveryCodes } }';

/** Adds an authenticator app to `account` on a session of its own, as its user would. */
async function enrollTotp(target: GraphQLTarget, account: BenchAccount): Promise<FactorAccount> {
  const { cookie } = await login(target, account.username, account.password);
  const { startTotpEnrollment } = await graphql<{ startTotpEnrollment: { secret: string } }>(target, START, undefined, {
    cookie,
  });
  const secret = Secret.fromBase32(startTotpEnrollment.secret);
  const step = currentStep();
  const { confirmTotpEnrollment } = await graphql<{ confirmTotpEnrollment: { recoveryCodes: string[] } }>(
    target,
    CONFIRM,
    { code: codeAt(secret, step) },
    { cookie },
  );
  if (confirmTotpEnrollment.recoveryCodes.length !== 10) throw new Error('enrollment showed no recovery codes');
  return { ...account, secret, lastStep: step, recoveryCodes: confirmTotpEnrollment.recoveryCodes };
}

/** {@link enrollTotp} for every account, `inFlight` at a time. */
export async function enrollAll(
  target: GraphQLTarget,
  accounts: BenchAccount[],
  inFlight: number,
): Promise<FactorAccount[]> {
  const enrolled: FactorAccount[] = [];
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) enrolled.push(await enrollTotp(target, accounts[next++]!));
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, accounts.length) }, worker));
  return enrolled;
}

/**
 * Accounts lent one sign-in at a time: `take` hands out one no sign-in in flight holds, `give`
 * takes it back while `usable` says it can sign in again (a password always; a recovery code
 * while one is left; an app's code never, see above).
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
