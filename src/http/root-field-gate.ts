/**
 * A gate that refuses whole operations by their root fields, before any resolver runs: what the
 * pending login's gate (second-factor-gate.ts) and the service tokens' (service-gate.ts) are
 * made of. It runs at execution (and subscription), on the context the factory built; its cost
 * for a request the gate does not concern is what `refuse` spends deciding so (a property read).
 */
import { getOperationAST, GraphQLError, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import type { GatehouseError } from '../sessions/errors.js';
import { rootFieldNames } from './root-fields.js';

/** Which operations a gate looks at, and which of those it refuses. */
export interface RootFieldRule {
  /** Whether the gate looks at an operation run with `context` at all: cheap, it runs for every one. */
  applies(context: GraphQLContext): boolean;
  /** The refusal of an operation that selects `rootFields` (through its fragments), or undefined to let it run. */
  refusal(context: GraphQLContext, rootFields: ReadonlySet<string>): GatehouseError | undefined;
}

export function useRootFieldGate(rule: RootFieldRule): Plugin<GraphQLContext> {
  type Payload = {
    args: { document: DocumentNode; operationName?: string | null | undefined; contextValue: unknown };
    setResultAndStopExecution(result: { errors: GraphQLError[] }): void;
  };
  const gate = ({ args, setResultAndStopExecution }: Payload) => {
    const context = args.contextValue as GraphQLContext;
    if (!rule.applies(context)) return;
    const operation = getOperationAST(args.document, args.operationName);
    // No such operation: execution refuses it on its own.
    if (!operation) return;
    const error = rule.refusal(context, rootFieldNames(operation, args.document));
    if (!error) return;
    const extensions = { code: error.code, ...error.details };
    setResultAndStopExecution({ errors: [new GraphQLError(error.message, { extensions })] });
  };
  return { onExecute: gate, onSubscribe: gate };
}
