import { STATUS_CODES } from 'node:http';
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
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Access } from '../config.js';
import { codeArmorRejection, codeForStatus, errorBody, errorResponse, withBadUserInputCode } from './errors.js';
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

/** Fields that check a password or a second factor: one per request, so aliases cannot multiply guesses. */
const CREDENTIAL_FIELDS = new Set(['login', 'changePassword', 'reauthenticate', 'verifySecondFactor']);

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
          new GraphQLError(
            'Only one login, changePassword, reauthenticate or verifySecondFactor is allowed per request',
            {
              nodes: [operation],
              extensions: { code: 'BAD_USER_INPUT' },
            },
          ),
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

/**
 * The POST bodies read: JSON, under the media types Yoga's JSON parser knows
 * (`application/json`, and `application/graphql+json` from drafts of GraphQL over HTTP), and
 * `application/graphql-response+json`, the spec's response type, which clients copying it into
 * their requests send. Nothing else: `application/graphql` (a bare query string) gives nothing
 * that JSON does not, and the form, multipart and text types are what a cross-site page can post.
 */
const JSON_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'application/graphql+json',
  'application/graphql-response+json',
]);

/** The charsets JSON may arrive in (RFC 8259: UTF-8 only), as clients spell it. */
const UTF8 = new Set(['utf-8', 'utf8']);

const UNSUPPORTED_MEDIA_TYPE =
  'POST bodies must be JSON, sent with Content-Type: application/json (charset UTF-8 if one is given)';

/**
 * Whether a Content-Type names a JSON body this endpoint reads. Media types, parameter names and
 * the charset's value are case-insensitive (RFC 9110 8.3.1, 8.3.2); a charset other than UTF-8
 * would be read wrong, so it is refused rather than guessed at.
 */
function isJsonContentType(contentType: string | null | undefined): boolean {
  if (!contentType) return false;
  const [mediaType = '', ...parameters] = contentType.split(';');
  if (!JSON_MEDIA_TYPES.has(mediaType.trim().toLowerCase())) return false;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=', 2);
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"(.*)"$/, '$1');
    if (!UTF8.has(charset.toLowerCase())) return false;
  }
  return true;
}

/** What Yoga's JSON parser matches, case and all: `application/json`, alone or before `;`. */
const readByYoga = (contentType: string) =>
  contentType === 'application/json' || contentType.startsWith('application/json;');

/**
 * CSRF defence, and the one decision on what a POST may carry. A cross-site page can POST only
 * "simple" bodies (form-encoded, multipart, text/plain) without a CORS preflight, and
 * SameSite=Lax already keeps the cookie off such posts; refusing every non-JSON POST closes the
 * door even for browsers that ignore SameSite. Mutations over GET are refused by Yoga (405).
 *
 * Yoga picks its parser by an exact, case-sensitive match, and would answer any other spelling
 * of JSON with an empty 415: an accepted spelling is handed on as plain `application/json`.
 */
export function useJsonOnlyPosts(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const contentType = request.headers.get('content-type');
      if (contentType === 'application/json') return;
      if (!isJsonContentType(contentType)) {
        return endResponse(errorResponse(fetchAPI, 415, 'BAD_USER_INPUT', UNSUPPORTED_MEDIA_TYPE));
      }
      if (!readByYoga(contentType!)) request.headers.set('content-type', 'application/json');
    },
  };
}

/** What a refusal Yoga left empty says, by its status. */
function refusalMessage(response: Response): string {
  if (response.status === 406) {
    // Yoga lists the types it can answer in the response's own Accept header.
    const answers = response.headers.get('accept') ?? 'application/json';
    return `Not acceptable: the request's Accept header allows none of the types answered here (${answers})`;
  }
  return STATUS_CODES[response.status] ?? `HTTP ${response.status}`;
}

/**
 * Refusals Yoga does not word like the others:
 * - it answers some with no body: 406 when the client accepts none of its response types, and
 *   404 or 415 should a request reach no route or parser (the HTTP server and
 *   {@link useJsonOnlyPosts} see that none does). Each gets the JSON error body every other
 *   refusal has, keeping its status and headers (Accept, CORS);
 * - a GET whose `variables` or `extensions` is not JSON makes its parser throw a bare
 *   SyntaxError, which would be masked as a 500 and logged as unexpected: it is bad input, 400.
 */
export function useJsonRefusals(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (request.method !== 'GET' || !requestParser) return;
      setRequestParser((parsed) => {
        try {
          return requestParser(parsed);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw createGraphQLError('The variables and extensions parameters must be JSON', {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
          });
        }
      });
    },
    onResponse({ response, setResponse, fetchAPI }) {
      if (response.status < 400 || response.headers.has('content-type')) return;
      const headers = new fetchAPI.Headers(response.headers);
      headers.set('content-type', 'application/json; charset=utf-8');
      headers.delete('content-length');
      const body = errorBody(codeForStatus(response.status), refusalMessage(response));
      setResponse(new fetchAPI.Response(body, { status: response.status, headers }));
    },
  };
}
