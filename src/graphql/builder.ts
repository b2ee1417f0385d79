import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { forbidden, unauthenticated } from '../sessions/errors.js';
import type { SessionRecord, UserRecord } from '../sessions/types.js';
import type { GraphQLContext } from './context.js';

export interface LoginPayloadShape {
  user: UserRecord;
  session: SessionRecord;
}

/**
 * The one schema builder. Authorization is declared on fields with `authScopes`: `signedIn`
 * (any session) and `admin`; a failed check is UNAUTHENTICATED for the anonymous and
 * FORBIDDEN for everyone else.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: { DateTime: { Input: Date; Output: Date }; ID: { Input: string; Output: string } };
  AuthScopes: { signedIn: boolean; admin: boolean };
  Objects: { User: UserRecord; Session: SessionRecord; LoginPayload: LoginPayloadShape };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      signedIn: context.viewer !== null,
      admin: context.viewer?.user.role === 'ADMIN',
    }),
    unauthorizedError: (_parent, context) => (context.viewer ? forbidden() : unauthenticated()),
  },
});

builder.queryType({});
builder.mutationType({});
