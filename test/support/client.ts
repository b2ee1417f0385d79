import assert from 'node:assert/strict';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode } from 'graphql';

export interface GraphQLResponse<TData> {
  status: number;
  headers: Headers;
  data?: TData | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: { code?: string; [key: string]: unknown } }>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
}

/**
 * A GraphQL client over real HTTP with a one-cookie jar, like a browser tab: it keeps the
 * session cookie the server sets and sends it back.
 */
export class TestClient {
  /** `name=value` of the session cookie, or undefined. */
  cookie: string | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly extraHeaders: Record<string, string> = {},
  ) {}

  get graphqlUrl(): string {
    return `${this.baseUrl}/graphql`;
  }

  async request<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables> | DocumentNode | string,
    variables?: TVariables,
    options: RequestOptions = {},
  ): Promise<GraphQLResponse<TData>> {
    const query = typeof document === 'string' ? document : print(document);
    const response = await fetch(this.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...this.extraHeaders,
        ...options.headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    this.storeCookies(response.headers);
    const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status' | 'headers'>;
    return { status: response.status, headers: response.headers, ...body };
  }

  /** Like {@link request}, but fails the test on any GraphQL error and returns `data`. */
  async data<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables> | DocumentNode | string,
    variables?: TVariables,
    options?: RequestOptions,
  ): Promise<TData> {
    const result = await this.request(document, variables, options);
    if (result.errors?.length || !result.data) {
      throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    }
    return result.data;
  }

  /** The raw token in the cookie jar. */
  get token(): string | undefined {
    return this.cookie?.slice(this.cookie.indexOf('=') + 1);
  }

  private storeCookies(headers: Headers): void {
    for (const setCookie of headers.getSetCookie()) {
      const pair = setCookie.split(';', 1)[0] ?? '';
      const value = pair.slice(pair.indexOf('=') + 1);
      const maxAge = /Max-Age=(\d+)/i.exec(setCookie)?.[1];
      this.cookie = value === '' || maxAge === '0' ? undefined : pair;
    }
  }
}

/** The first error's `extensions.code`. */
export function errorCode(result: GraphQLResponse<unknown>): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}

/** A refused operation: its first error has `code`, and no data came with it. */
export function assertRefused(result: GraphQLResponse<unknown>, code: string, label = ''): void {
  assert.equal(errorCode(result), code, `${label} ${JSON.stringify(result.errors)}`);
  assert.equal(result.data ?? null, null, `${label}: data despite the error`);
}
