/**
 * The pending login's gate (DESIGN.md, "Second factors and passkeys"): a right password that
 * still owes its second step may finish the login, start over, sign out or read itself, and
 * nothing else. An operation that selects any other root field is refused whole, before any
 * resolver runs: SECOND_FACTOR_REQUIRED, with `nextStep` in its extensions. Subscriptions too:
 * a pending login has no live feed.
 *
 * It runs at execution (and subscription), on the context the factory built, like the admin-only
 * introspection (introspection.ts). Its cost for every other request is one property read; the
 * rare pending request walks its document's root selections.
 */
import { getOperationAST, GraphQLError, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import type { PendingStep } from '../sessions/assurance.js';
import { secondFactorRequired } from '../sessions/errors.js';
import { rootFieldNames } from './root-fields.js';

/** What every pending login may do: start over, sign out, read itself. */
const ALWAYS = ['login', 'logout', 'currentSession', '__typename'];

/** The root fields a pending login may select, by the step it waits for. */
export const PENDING_LOGIN_FIELDS: Record<PendingStep, ReadonlySet<string>> = {
  SECOND_FACTOR: new Set([...ALWAYS, 'verifySecondFactor', 'startPasskeyLogin', 'finishPasskeyLogin']),
  ENROLL_SECOND_FACTOR: new Set([
    ...ALWAYS,
    'startTotpEnrollment',
    'confirmTotpEnrollment',
    'startPasskeyRegistration',
    'finishPasskeyRegistration',
  ]),
};

/** Whether the operation to run selects only root fields that `step` allows. */
function allowed(document: DocumentNode, operationName: string | null | undefined, step: PendingStep): boolean {
  const operation = getOperationAST(document, operationName);
  // No such operation: execution refuses it on its own.
  if (!operation) return true;
  const fields = PENDING_LOGIN_FIELDS[step];
  for (const name of rootFieldNames(operation, document)) if (!fields.has(name)) return false;
  return true;
}

/** The refusal, as an execution result with the contract's code. */
function refusal(step: PendingStep) {
  const error = secondFactorRequired(step);
  return { errors: [new GraphQLError(error.message, { extensions: { code: error.code, ...error.details } })] };
}

export function useSecondFactorGate(): Plugin<GraphQLContext> {
  type Payload = {
    args: { document: DocumentNode; operationName?: string | null | undefined; contextValue: unknown };
    setResultAndStopExecution(result: ReturnType<typeof refusal>): void;
  };
  const gate = ({ args, setResultAndStopExecution }: Payload) => {
    const pending = (args.contextValue as GraphQLContext).pendingLogin;
    if (!pending || allowed(args.document, args.operationName, pending.nextStep)) return;
    setResultAndStopExecution(refusal(pending.nextStep));
  };
  return { onExecute: gate, onSubscribe: gate };
}
