/**
 * Introspection for ADMIN viewers only (`GRAPHQL_INTROSPECTION=admins`).
 *
 * Yoga validates a document before the context factory has resolved the viewer, so this check
 * cannot be a validation rule without a second session lookup. It runs at execution instead,
 * on the viewer the context already holds. Its cost for an ordinary request is one WeakMap
 * lookup: Yoga hands the same parsed document object for the same query text (its parser
 * cache), and whether a document asks for `__schema` or `__type` is decided once per document.
 */
import { GraphQLError, Kind, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import { rootFieldNames } from './root-fields.js';

const INTROSPECTION_FIELDS = ['__schema', '__type'];

/** `__schema` and `__type` exist only on the query root: only root selections need a look. */
function asksIntrospection(document: DocumentNode): boolean {
  return document.definitions.some((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION) return false;
    const names = rootFieldNames(definition, document);
    return INTROSPECTION_FIELDS.some((field) => names.has(field));
  });
}

/** Refuses introspection to anyone but an ADMIN: UNAUTHENTICATED when signed out, else FORBIDDEN. */
export function useAdminOnlyIntrospection(): Plugin<GraphQLContext> {
  const verdicts = new WeakMap<DocumentNode, boolean>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let asks = verdicts.get(args.document);
      if (asks === undefined) verdicts.set(args.document, (asks = asksIntrospection(args.document)));
      if (!asks) return;
      const viewer = (args.contextValue as GraphQLContext).viewer;
      if (viewer?.user.role === 'ADMIN') return;
      const code = viewer ? 'FORBIDDEN' : 'UNAUTHENTICATED';
      setResultAndStopExecution({
        errors: [new GraphQLError('Introspection is for admins only: sign in as an admin.', { extensions: { code } })],
      });
    },
  };
}
