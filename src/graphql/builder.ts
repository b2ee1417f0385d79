import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { SessionEvent } from '../events/types.js';
import type { LoginStep } from '../sessions/assurance.js';
import type { AuthEventRecord } from '../sessions/auth-events.js';
import { forbidden, secondFactorRequired, unauthenticated } from '../sessions/errors.js';
import type { Page } from '../sessions/page.js';
import type { TotpEnrollment } from '../sessions/second-factors.js';
import type { SessionStats } from '../sessions/store.js';
import type { SecondFactorRecord } from '../sessions/factor-store.js';
import type { ServiceScope } from '../sessions/service-tokens.js';
import type { SessionEndReason, SessionRecord, UserRecord } from '../sessions/types.js';
import type { GraphQLContext } from './context.js';

/** Anything listed newest first and paged by (createdAt, id). */
export interface Keyed {
  createdAt: Date;
  id: string;
}

/** The backing shape of every object type, and the context and scopes resolvers see. */
export interface BuilderTypes {
  Context: GraphQLContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
  };
  AuthScopes: { signedIn: boolean; admin: boolean; self: string; service: ServiceScope };
  Objects: {
    User: UserRecord;
    Session: SessionRecord;
    /** A session, or a pending login shown as one (see `pendingLoginAsSession`). */
    LoginPayload: { user: UserRecord; session: SessionRecord; nextStep: LoginStep };
    PageInfo: Page<Keyed>;
    SessionStats: SessionStats & { since: Date };
    EndReasonCount: { reason: SessionEndReason; count: number };
    SessionRevokedEvent: SessionEvent;
    AuthEvent: AuthEventRecord;
    SessionEvent: SessionEvent;
    SecondFactor: SecondFactorRecord;
    TotpEnrollment: TotpEnrollment;
    SecondFactorPayload: { factor: SecondFactorRecord; recoveryCodes: string[] };
  };
  DefaultFieldNullability: false;
}

/** The schema's types as Pothos sees them, for helpers that take builders and refs. */
export type Types = PothosSchemaTypes.ExtendDefaultTypes<BuilderTypes>;

/**
 * The one schema builder. Authorization is declared on fields with `authScopes`: `signedIn`
 * (any session), `admin`, `self` (the viewer is the user with the given id), and `service` (a
 * service token with the given scope); a failed check is UNAUTHENTICATED for the anonymous,
 * SECOND_FACTOR_REQUIRED for a pending login (a right password that still owes its second step),
 * and FORBIDDEN for everyone else, services included.
 */
export const builder = new SchemaBuilder<BuilderTypes>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      signedIn: context.viewer !== null,
      admin: context.viewer?.user.role === 'ADMIN',
      self: (userId) => context.viewer !== null && context.viewer.user.id === userId,
      service: (scope) => context.service?.scopes.has(scope) === true,
    }),
    unauthorizedError: (_parent, context) => {
      if (context.viewer || context.service) return forbidden();
      return context.pendingLogin ? secondFactorRequired(context.pendingLogin.nextStep) : unauthenticated();
    },
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
