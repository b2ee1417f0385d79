/**
 * The service tokens' gate (DESIGN.md, "Other services"): a request made with a service token
 * may select only the root fields of its scopes (and `__typename`). An operation that selects
 * any other root field, `me` or `login` included, is refused whole, before any resolver runs:
 * FORBIDDEN. Subscriptions too. The fields it may select also declare the `service` scope, so a
 * field the gate lets through still checks it (and their nested fields resolve for it).
 *
 * It runs at execution (and subscription), on the context the factory built, like the pending
 * login's gate (second-factor-gate.ts). Its cost for every other request is one property read.
 */
import { getOperationAST, GraphQLError, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import { forbidden } from '../sessions/errors.js';
import type { ServicePrincipal, ServiceScope } from '../sessions/service-tokens.js';
import { rootFieldNames } from './root-fields.js';

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

/** The first root field of the operation to run that `service` may not select; undefined if none. */
function refusedField(
  document: DocumentNode,
  operationName: string | null | undefined,
  service: ServicePrincipal,
): string | undefined {
  const operation = getOperationAST(document, operationName);
  // No such operation: execution refuses it on its own.
  if (!operation) return undefined;
  for (const name of rootFieldNames(operation, document)) if (!allowedField(name, service)) return name;
  return undefined;
}

function refusal(field: string) {
  const error = forbidden(`A service token may not use ${field}: it is outside the token's scopes`);
  return { errors: [new GraphQLError(error.message, { extensions: { code: error.code } })] };
}

export function useServiceGate(): Plugin<GraphQLContext> {
  type Payload = {
    args: { document: DocumentNode; operationName?: string | null | undefined; contextValue: unknown };
    setResultAndStopExecution(result: ReturnType<typeof refusal>): void;
  };
  const gate = ({ args, setResultAndStopExecution }: Payload) => {
    const service = (args.contextValue as GraphQLContext).service;
    if (!service) return;
    const field = refusedField(args.document, args.operationName, service);
    if (field !== undefined) setResultAndStopExecution(refusal(field));
  };
  return { onExecute: gate, onSubscribe: gate };
}
