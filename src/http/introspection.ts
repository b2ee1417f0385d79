/**
 * Introspection for ADMIN viewers only (`GRAPHQL_INTROSPECTION=admins`).
 *
 * Yoga validates a document before the context factory has resolved the viewer, so this check
 * cannot be a validation rule without a second session lookup. It runs at execution instead,
 * on the viewer the context already holds. Its cost for an ordinary request is one WeakMap
 * lookup: Yoga hands the same parsed document object for the same query text (its parser
 * cache), and whether a document asks for `__schema` or `__type` is decided once per document.
 */
import { GraphQLError, Kind, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';

const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/** `__schema` and `__type` exist only on the query root: only root selections need a look. */
function selectsIntrospection(selectionSet: SelectionSetNode, document: DocumentNode, seen: Set<string>): boolean {
  return selectionSet.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) return INTROSPECTION_FIELDS.has(selection.name.value);
    if (selection.kind === Kind.INLINE_FRAGMENT) return selectsIntrospection(selection.selectionSet, document, seen);
    const name = selection.name.value;
    if (seen.has(name)) return false;
    seen.add(name);
    const fragment = document.definitions.find(
      (definition) => definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === name,
    );
    return fragment?.kind === Kind.FRAGMENT_DEFINITION && selectsIntrospection(fragment.selectionSet, document, seen);
  });
}

function asksIntrospection(document: DocumentNode): boolean {
  return document.definitions.some(
    (definition) =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      selectsIntrospection(definition.selectionSet, document, new Set()),
  );
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
