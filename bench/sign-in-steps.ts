/**
 * The steps of signing in over the API, as a client takes them, each answer checked: a step that
 * finishes a login must answer `nextStep: DONE` with a session at AAL2 and set a new cookie (the
 * token rotates at the second step), or the benchmark stops with an error rather than time a
 * refusal.
 */
import type { RequestOptions, SoftAuthenticator } from '../test/support/soft-authenticator.js';
import {
  dataOf,
  graphql,
  login,
  post,
  prepare,
  sessionCookieOf,
  type BenchAccount,
  type GraphQLTarget,
  type PreparedRequest,
} from './support.js';

/** What a finished login is asked for, to check it. */
const FINISHED = '{ nextStep session { assurance } }';
const VERIFY = `mutation($code: String!) { verifySecondFactor(code: $code) ${FINISHED} }`;
const START_PASSKEY_LOGIN = 'mutation { startPasskeyLogin }';
const FINISH_PASSKEY_LOGIN = `mutation($response: JSON!) { finishPasskeyLogin(response: $response) ${FINISHED} }`;

/**
 * `login`: the cookie it set (a session, or a pending login), once its `nextStep` is `expected`
 * (DONE without a second factor, SECOND_FACTOR with one).
 */
export async function passwordStep(
  target: GraphQLTarget,
  account: BenchAccount,
  expected: 'DONE' | 'SECOND_FACTOR',
): Promise<string> {
  const { username, password } = account;
  const { cookie, data } = await login<{ login: { nextStep: string } }>(target, username, password, 'nextStep');
  if (data.login.nextStep !== expected) throw new Error(`login answered nextStep ${data.login.nextStep}`);
  return cookie;
}

/** Sends a request that finishes a login (`field`) and checks that it did, with a new cookie. */
async function finishLogin(target: GraphQLTarget, request: PreparedRequest, field: string, pendingCookie?: string) {
  const result = await post(target, request);
  type Finished = Record<string, { nextStep: string; session: { assurance: string } }>;
  const finished = dataOf<Finished>(result, field)[field];
  const { cookie } = sessionCookieOf(result, field);
  if (finished?.nextStep !== 'DONE' || finished.session.assurance !== 'AAL2' || cookie === pendingCookie) {
    throw new Error(`${field} answered ${result.body}`);
  }
}

/** `verifySecondFactor` with `code` on the pending login in `pendingCookie`. */
export function verifySecondFactor(target: GraphQLTarget, pendingCookie: string, code: string): Promise<void> {
  const request = prepare(VERIFY, { code }, { cookie: pendingCookie });
  return finishLogin(target, request, 'verifySecondFactor', pendingCookie);
}

/**
 * `startPasskeyLogin`, the authenticator's assertion, `finishPasskeyLogin`: the second step of
 * the pending login in `pendingCookie`, or without one a passwordless login (discoverable: no
 * username, the authenticator offers its passkey).
 */
export async function passkeyStep(
  target: GraphQLTarget,
  authenticator: SoftAuthenticator,
  pendingCookie?: string,
): Promise<void> {
  const headers = pendingCookie === undefined ? {} : { cookie: pendingCookie };
  type Options = { startPasskeyLogin: RequestOptions };
  const { startPasskeyLogin } = await graphql<Options>(target, START_PASSKEY_LOGIN, undefined, headers);
  const response = authenticator.authenticate(startPasskeyLogin);
  const request = prepare(FINISH_PASSKEY_LOGIN, { response }, headers);
  await finishLogin(target, request, 'finishPasskeyLogin', pendingCookie);
}
