/**
 * Queries and mutations over HTTP. Every request is a POST of JSON (Gatehouse refuses other
 * bodies as a CSRF defence, and a GET would put variables in URLs) with `credentials: 'include'`,
 * so the session cookie goes with it from any origin of the same site, and a cookie set in the
 * answer is kept. Nothing here reads or stores a token: the cookie is HttpOnly.
 */
import { GatehouseError, type GraphQLErrorBody } from './errors.js';

/** A GraphQL document as a string, typed by its result and variables (the codegen `TypedDocumentString` fits). */
// `String` too: codegen's client preset (documentMode: string) makes its documents String objects.
// eslint-disable-next-line @typescript-eslint/no-wrapper-object-types
export type TypedDocument<Data, Variables> = (string | String) & {
  /** Never set: it carries the types only (graphql-typed-document-node's `DocumentTypeDecoration`). */
  readonly __apiType?: (variables: Variables) => Data;
};

/** The `fetch` the client uses: the global one, or a stand-in (tests in Node keep a cookie jar in theirs). */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

interface GraphQLAnswer {
  data?: unknown;
  errors?: GraphQLErrorBody[];
}

const isAnswer = (body: unknown): body is GraphQLAnswer =>
  typeof body === 'object' && body !== null && ('data' in body || 'errors' in body);

/** Posts one operation; resolves with its `data`, rejects with a {@link GatehouseError} on any error. */
export async function postGraphQL<Data, Variables>(
  fetcher: Fetch,
  url: string,
  document: TypedDocument<Data, Variables>,
  variables: Variables | undefined,
): Promise<Data> {
  let response: Response;
  try {
    response = await fetcher(url, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: String(document), variables: variables ?? {} }),
    });
  } catch (cause) {
    throw new GatehouseError('NETWORK_ERROR', `Gatehouse cannot be reached at ${url}: ${String(cause)}`);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!isAnswer(body)) {
    throw new GatehouseError('NETWORK_ERROR', `Gatehouse answered ${response.status} without GraphQL JSON`, {
      status: response.status,
    });
  }
  if (body.errors?.length) throw GatehouseError.fromErrors(body.errors, response.status);
  return body.data as Data;
}
