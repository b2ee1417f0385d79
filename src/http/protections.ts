import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
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
  /** Hide "Did you mean …?" hints, which reveal the schema when introspection is off (production). */
  blockFieldSuggestions: boolean;
}

/** What an `onValidate` hook's after-hook is handed (envelop's, not re-exported by Yoga). */
interface ValidationOutcome {
  result: readonly Error[];
  setResult(errors: Error[]): void;
}

/**
 * Depth, alias, directive, token and cost limits; one credential check per request; who gets
 * introspection; no "Did you mean …?" hints where the schema is not public.
 *
 * The validation rules are made once and added by one hook, and errors are recoded by one
 * shared function: every request runs these hooks (Yoga then answers a document it has seen
 * from its validation cache), so they allocate nothing per request.
 */
export function documentProtections(options: DocumentProtectionOptions): Plugin[] {
  const armor = { exposeLimits: true, onReject: [codeArmorRejection] };
  const rules: ValidationRule[] = [
    maxDepthRule({ ...armor, n: DOCUMENT_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesRule({ ...armor, n: DOCUMENT_LIMITS.maxAliases }),
    maxDirectivesRule({ ...armor, n: DOCUMENT_LIMITS.maxDirectives }),
    costLimitRule({ ...armor, maxCost: DOCUMENT_LIMITS.maxCost, ignoreIntrospection: true }),
    singleCredentialCheckRule,
  ];
  if (options.introspection === 'off') rules.push(NoSchemaIntrospectionCustomRule);
  // Every error a rule reported gets a code from the contract (and loses its hints).
  const recodeErrors = ({ result, setResult }: ValidationOutcome) => {
    if (result.length > 0) setResult(result.map((error) => withBadUserInputCode(error, options.blockFieldSuggestions)));
  };
  const plugins: Plugin[] = [
    maxTokensPlugin({ ...armor, n: DOCUMENT_LIMITS.maxTokens }) as Plugin,
    {
      onValidate({ addValidationRule }) {
        for (const rule of rules) addValidationRule(rule);
        return recodeErrors;
      },
    },
  ];
  if (options.introspection === 'admins') plugins.push(useAdminOnlyIntrospection() as Plugin);
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
