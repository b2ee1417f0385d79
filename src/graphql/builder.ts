import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { forbidden, unauthenticated } from '../sessions/errors.js';
import type { SessionEvent } from '../events/types.js';
import type { AuthEventRecord } from '../sessions/audit.js';
import type { SessionPage } from '../sessions/service.js';
import type { SessionStats } from '../sessions/store.js';
import type { SessionEndReason, SessionRecord, UserRecord } from '../sessions/types.js';
import type { GraphQLContext } from './context.js';

export interface LoginPayloadShape {
  user: UserRecord;
  session: SessionRecord;
}

/**
 * The one schema builder. Authorization is declared on fields with `authScopes`: `signedIn`
 * (any session), `admin`, and `self` (the viewer is the user with the given id); a failed
 * check is UNAUTHENTICATED for the anonymous and FORBIDDEN for everyone else.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: { DateTime: { Input: Date; Output: Date }; ID: { Input: string; Output: string } };
  AuthScopes: { signedIn: boolean; admin: boolean; self: string };
  Objects: {
    User: UserRecord;
    Session: SessionRecord;
    LoginPayload: LoginPayloadShape;
    SessionConnection: SessionPage;
    SessionEdge: SessionRecord;
    PageInfo: { items: Array<{ createdAt: Date; id: string }>; hasNextPage: boolean };
    SessionStats: SessionStats & { since: Date };
    EndReasonCount: { reason: SessionEndReason; count: number };
    SessionRevokedEvent: SessionEvent;
    AuthEvent: AuthEventRecord;
    AuthEventConnection: { events: AuthEventRecord[]; hasNextPage: boolean; totalCount: number };
    AuthEventEdge: AuthEventRecord;
    SessionEvent: SessionEvent;
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      signedIn: context.viewer !== null,
      admin: context.viewer?.user.role === 'ADMIN',
      self: (userId) => context.viewer !== null && context.viewer.user.id === userId,
    }),
    unauthorizedError: (_parent, context) => (context.viewer ? forbidden() : unauthenticated()),
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
