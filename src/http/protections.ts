import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Access } from '../config.js';
import { codeArmorRejection, errorResponse, withBadUserInputCode } from './errors.js';
import { useAdminOnlyIntrospection } from './introspection.js';

/**
 * Limits on what one document may ask for. Generous for any real client of this schema (its
 * deepest useful query is about 6 levels), tight enough that no document is expensive.
 */
export const DOCUMENT_LIMITS = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 10,
  maxTokens: 2_000,
  maxCost: 5_000,
} as const;

/** Fields that check a password: one per request, so aliases cannot multiply guesses. */
const CREDENTIAL_FIELDS = new Set(['login', 'changePassword', 'reauthenticate']);

function countCredentialFields(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen: Set<string>,
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (CREDENTIAL_FIELDS.has(selection.name.value)) count++;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countCredentialFields(selection.selectionSet, fragments, seen);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (fragment && !seen.has(name)) {
        seen.add(name);
        count += countCredentialFields(fragment.selectionSet, fragments, seen);
      }
    }
  }
  return count;
}

/** Refuses a document with more than one `login`/`changePassword` (e.g. 20 aliased guesses). */
export function singleCredentialCheckRule(context: ValidationContext): ASTVisitor {
  const fragments = new Map(
    context
      .getDocument()
      .definitions.filter(
        (definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION,
      )
      .map((fragment) => [fragment.name.value, fragment]),
  );
  return {
    OperationDefinition(operation) {
      if (operation.operation !== 'mutation') return;
      if (countCredentialFields(operation.selectionSet, fragments, new Set()) > 1) {
        context.reportError(
          new GraphQLError('Only one login or changePassword is allowed per request', {
            nodes: [operation],
            extensions: { code: 'BAD_USER_INPUT' },
          }),
        );
      }
    },
  };
}

export interface DocumentProtectionOptions {
  /** Who gets introspection answered: `admins` is checked at execution (see introspection.ts). */
  introspection: Access;
  /** Hide "Did you mean …?" hints, which reveal the schema when introspection is off. */
  blockFieldSuggestions: boolean;
}

/** Depth, alias, directive, token and cost limits; one credential check per request; who gets introspection. */
export function documentProtections(options: DocumentProtectionOptions): Plugin[] {
  const armor = { exposeLimits: true, onReject: [codeArmorRejection] };
  const plugins: Plugin[] = [
    maxTokensPlugin({ ...armor, n: DOCUMENT_LIMITS.maxTokens }) as Plugin,
    maxDepthPlugin({ ...armor, n: DOCUMENT_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ ...armor, n: DOCUMENT_LIMITS.maxAliases }),
    maxDirectivesPlugin({ ...armor, n: DOCUMENT_LIMITS.maxDirectives }),
    costLimitPlugin({ ...armor, maxCost: DOCUMENT_LIMITS.maxCost, ignoreIntrospection: true }),
    {
      onValidate({ addValidationRule }) {
        addValidationRule(singleCredentialCheckRule);
        if (options.introspection === 'off') addValidationRule(NoSchemaIntrospectionCustomRule);
      },
    },
  ];
  if (options.introspection === 'admins') plugins.push(useAdminOnlyIntrospection() as Plugin);
  if (options.blockFieldSuggestions) plugins.push(blockFieldSuggestionsPlugin());
  // Last, so that it sees the errors every other plugin reported.
  plugins.push({
    onValidate:
      () =>
      ({ result, setResult }) => {
        if (result.length > 0)
          setResult(result.map((error) => withBadUserInputCode(error, options.blockFieldSuggestions)));
      },
  });
  return plugins;
}

/** JSON is the only POST body accepted (see {@link useJsonOnlyPosts}). */
const JSON_MEDIA_TYPES = new Set(['application/json', 'application/graphql-response+json']);

/**
 * CSRF defence. A cross-site page can POST only "simple" bodies (form-encoded, multipart,
 * text/plain) without a CORS preflight, and SameSite=Lax already keeps the cookie off such
 * posts; refusing every non-JSON POST closes the door even for browsers that ignore SameSite.
 * Mutations over GET are refused by Yoga itself (405).
 */
export function useJsonOnlyPosts(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const mediaType = request.headers.get('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
      if (mediaType && JSON_MEDIA_TYPES.has(mediaType)) return;
      endResponse(errorResponse(fetchAPI, 415, 'BAD_USER_INPUT', 'POST bodies must be application/json'));
    },
  };
}
