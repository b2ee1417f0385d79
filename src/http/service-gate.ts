/**
 * The service tokens' gate (DESIGN.md, "Other services"): a request made with a service token
 * may select only the root fields of its scopes (and `__typename`). An operation that selects
 * any other root field, `me` or `login` included, is refused whole, before any resolver runs:
 * FORBIDDEN. Subscriptions too. The fields it lets through also declare the `service` scope
 * (`authScopes`), so each still checks it, and so do the nested fields a service reads.
 */
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import { forbidden } from '../sessions/errors.js';
import type { ServicePrincipal, ServiceScope } from '../sessions/service-tokens.js';
import { useRootFieldGate } from './root-field-gate.js';

/** The root fields each scope opens. */
export const SERVICE_SCOPE_FIELDS: Record<ServiceScope, readonly string[]> = {
  VERIFY_SESSIONS: ['verifySession', 'sessionEndFeed'],
  READ_SESSIONS: ['activeSessions', 'sessionsByUser', 'sessionStats'],
};

function allowedField(name: string, service: ServicePrincipal): boolean {
  if (name === '__typename') return true;
  for (const scope of service.scopes) if (SERVICE_SCOPE_FIELDS[scope].includes(name)) return true;
  return false;
}

export function useServiceGate(): Plugin<GraphQLContext> {
  return useRootFieldGate({
    applies: (context) => context.service !== null,
    refusal: ({ service }, rootFields) => {
      const refused = service && [...rootFields].find((name) => !allowedField(name, service));
      return refused
        ? forbidden(`A service token may not use ${refused}: it is outside the token's scopes`)
        : undefined;
    },
  });
}
