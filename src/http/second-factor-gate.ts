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
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import type { PendingStep } from '../sessions/assurance.js';
import { secondFactorRequired } from '../sessions/errors.js';
import { useRootFieldGate } from './root-field-gate.js';

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

export function useSecondFactorGate(): Plugin<GraphQLContext> {
  return useRootFieldGate({
    applies: (context) => context.pendingLogin !== null,
    refusal: ({ pendingLogin }, rootFields) => {
      if (!pendingLogin) return undefined;
      const fields = PENDING_LOGIN_FIELDS[pendingLogin.nextStep];
      for (const name of rootFields) if (!fields.has(name)) return secondFactorRequired(pendingLogin.nextStep);
      return undefined;
    },
  });
}
