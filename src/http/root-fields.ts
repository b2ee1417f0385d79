import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * The names of the root fields an operation selects, through its fragments and inline fragments
 * (each fragment read once). What plugins that allow or refuse whole operations by their root
 * fields look at (introspection.ts, second-factor-gate.ts).
 */
export function rootFieldNames(operation: OperationDefinitionNode, document: DocumentNode): Set<string> {
  const names = new Set<string>();
  collect(operation.selectionSet, document, names, new Set());
  return names;
}

function collect(selectionSet: SelectionSetNode, document: DocumentNode, names: Set<string>, seen: Set<string>): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      names.add(selection.name.value);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collect(selection.selectionSet, document, names, seen);
    } else if (!seen.has(selection.name.value)) {
      const name = selection.name.value;
      seen.add(name);
      const fragment = document.definitions.find(
        (definition) => definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === name,
      );
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) collect(fragment.selectionSet, document, names, seen);
    }
  }
}
