/**
 * A Node DBSC client (docs/dbsc/protocol.md): a cookie jar with both cookies, a key WebCrypto
 * will not export the private half of (ES256, or RS256 2048), and compact JWS proofs built by
 * hand, so tests can also forge what a browser never sends (wrong `typ`, `alg: none`, HS256, no
 * `jwk`, another key). Header values go quoted (RFC 8941) or bare, as Chrome sends them.
 *
 * Stable API for other test files: {@link DbscClient.signIn}, {@link DbscClient.graphql},
 * {@link DbscClient.refresh}, {@link DbscClient.cookieHeader}, {@link DbscClient.copyJar}.
 */
import { createHmac } from 'node:crypto';
import { webcrypto } from 'node:crypto';

const { subtle } = webcrypto;

export type DbscAlg = 'ES256' | 'RS256';

/** A DBSC key: the browser's side of a binding. */
export interface DbscKey {
  alg: DbscAlg;
  privateKey: webcrypto.CryptoKey;
  publicJwk: Record<string, string>;
}

export async function generateDbscKey(alg: DbscAlg = 'ES256', rsaBits = 2048): Promise<DbscKey> {
  const params =
    alg === 'ES256'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: rsaBits,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        };
  const pair = (await subtle.generateKey(params, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const jwk = await subtle.exportKey('jwk', pair.publicKey);
  const publicJwk: Record<string, string> =
    alg === 'ES256' ? { crv: jwk.crv!, kty: 'EC', x: jwk.x!, y: jwk.y! } : { e: jwk.e!, kty: 'RSA', n: jwk.n! };
  return { alg, privateKey: pair.privateKey, publicJwk };
}

const b64url = (bytes: Uint8Array | string) =>
  Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes) : bytes).toString('base64url');

export interface ProofOptions {
  /** The claim `jti`: the challenge. */
  jti: string;
  /** Put the public key in the header (registration). Default: false. */
  withJwk?: boolean;
  /** Default `dbsc+jwt`; `null` leaves it out. */
  typ?: string | null;
  /** The header's `alg`; default the key's. `none` sends no signature; `HS256` signs with the JWK as secret. */
  alg?: string;
  /** A header `jwk` other than the key's own. */
  jwk?: Record<string, string>;
  /** Extra claims. */
  claims?: Record<string, unknown>;
}

/** A compact JWS signed by `key` (WebCrypto's ECDSA signature is already JOSE's raw r‖s). */
export async function buildProof(key: DbscKey, options: ProofOptions): Promise<string> {
  const alg = options.alg ?? key.alg;
  const header: Record<string, unknown> = { alg };
  const jwk = options.jwk ?? (options.withJwk ? key.publicJwk : undefined);
  if (jwk) header.jwk = jwk;
  const typ = options.typ === undefined ? 'dbsc+jwt' : options.typ;
  if (typ !== null) header.typ = typ;
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify({ jti: options.jti, ...options.claims }))}`;
  if (alg === 'none') return `${input}.`;
  if (alg === 'HS256')
    return `${input}.${createHmac('sha256', JSON.stringify(key.publicJwk)).update(input).digest('base64url')}`;
  const params = key.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  const signature = await subtle.sign(params, key.privateKey, Buffer.from(input));
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

/** A header value as RFC 8941 sf-string, or bare (Chrome's way). */
export const headerValue = (value: string, quoted: boolean) => (quoted ? `"${value}"` : value);

/** The challenge of a `Secure-Session-Registration` or `Secure-Session-Challenge` header. */
export function challengeOf(header: string | null): string | undefined {
  if (!header) return undefined;
  return /challenge="([^"]+)"/.exec(header)?.[1] ?? /^"([^"]+)"/.exec(header.trim())?.[1];
}

/** The `id` parameter of a `Secure-Session-Challenge` header. */
export const challengeIdOf = (header: string | null) => (header ? /;id="([^"]+)"/.exec(header)?.[1] : undefined);

export interface DbscResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> | null;
}

export interface RefreshOptions {
  /** Sign the cached challenge at once (default true); false sends no proof first. */
  proof?: boolean;
  /** Quote the header values (default false: Chrome's bare values). */
  quoted?: boolean;
  /** Send the jar's cookies (default true). */
  cookies?: boolean;
  /** A JWS to send as is. */
  jwt?: string;
  /** Follow a 403 challenge with a proof, as a browser does (default true). */
  followChallenge?: boolean;
}

/** A browser-like client: a cookie jar, a DBSC key, the cached challenge and session id. */
export class DbscClient {
  /** Cookies by name. */
  readonly jar = new Map<string, string>();
  /** The challenge to sign next (from any `Secure-Session-Challenge` or the registration header). */
  challenge: string | undefined;
  /** The DBSC session id (Gatehouse: the session's id) once registered. */
  sessionId: string | undefined;
  /** The last `Secure-Session-Registration` header received. */
  registration: string | null = null;
  /** The last instructions JSON received. */
  instructions: Record<string, unknown> | undefined;

  constructor(
    readonly baseUrl: string,
    public key: DbscKey | undefined = undefined,
  ) {}

  /**
   * A new client signed in as `username` and, unless `bind: false`, bound with a new key of
   * `alg` (default ES256): both cookies in its jar.
   */
  static async signIn(
    baseUrl: string,
    username: string,
    password: string,
    options: { alg?: DbscAlg; bind?: boolean } = {},
  ): Promise<DbscClient> {
    const client = new DbscClient(baseUrl, await generateDbscKey(options.alg ?? 'ES256'));
    const login = await client.graphql<{ login: { session: { id: string } } }>(
      'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { session { id } } }',
      { u: username, p: password },
    );
    if (login.errors) throw new Error(`login of ${username}: ${JSON.stringify(login.errors)}`);
    if (options.bind !== false) {
      const result = await client.register();
      if (result.status !== 200)
        throw new Error(`registration refused: ${result.status} ${JSON.stringify(result.body)}`);
    }
    return client;
  }

  /** `Cookie` header value with every cookie of the jar. */
  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** A second client with a copy of this jar and no key (what a thief copies). */
  copyJar(): DbscClient {
    const copy = new DbscClient(this.baseUrl);
    for (const [name, value] of this.jar) copy.jar.set(name, value);
    copy.sessionId = this.sessionId;
    return copy;
  }

  /** The value of the cookie whose name ends with `suffix` (e.g. `_session`, `_bound`). */
  cookie(suffix: string): string | undefined {
    for (const [name, value] of this.jar) if (name.endsWith(suffix)) return value;
    return undefined;
  }

  async fetch(path: string, init: RequestInit & { cookies?: boolean } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.cookies !== false && this.jar.size > 0 && !headers.has('cookie'))
      headers.set('cookie', this.cookieHeader());
    const response = await fetch(this.baseUrl + path, { ...init, headers, redirect: 'manual' });
    this.absorb(response.headers);
    return response;
  }

  async graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<{
    status: number;
    headers: Headers;
    data?: T | null;
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  }> {
    const response = await this.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, headers: response.headers, ...((await response.json()) as object) };
  }

  /** The signed-in user's id, or null (the `{ me }` of the hot path). */
  async me(headers: Record<string, string> = {}): Promise<string | null> {
    const result = await this.graphql<{ me: { id: string } | null }>('{ me { id } }', undefined, headers);
    return result.data?.me?.id ?? null;
  }

  /** `POST /dbsc/register` with a proof over the registration challenge (or `jwt` as given). */
  async register(
    options: {
      jwt?: string;
      omitProof?: boolean;
      quoted?: boolean;
      cookies?: boolean;
      proof?: Partial<ProofOptions>;
    } = {},
  ) {
    const challenge = challengeOf(this.registration);
    let jwt = options.jwt;
    if (jwt === undefined && this.key && !options.omitProof)
      jwt = await buildProof(this.key, { jti: challenge ?? '', withJwk: true, ...options.proof });
    const headers: Record<string, string> = { 'content-length': '0' };
    if (jwt !== undefined) headers['secure-session-response'] = headerValue(jwt, options.quoted ?? false);
    const response = await this.fetch('/dbsc/register', { method: 'POST', headers, cookies: options.cookies ?? true });
    const result = await this.read(response);
    if (response.status === 200 && result.body) {
      this.instructions = result.body;
      this.sessionId = String(result.body.session_identifier);
    }
    return result;
  }

  /**
   * `POST /dbsc/refresh` as Chrome does it: with a proof over the cached challenge when there is
   * one, and once more after a 403 with its new challenge.
   */
  async refresh(options: RefreshOptions = {}): Promise<DbscResponse> {
    let first = await this.refreshOnce(options, options.proof ?? true);
    if (first.status === 403 && (options.followChallenge ?? true) && options.jwt === undefined) {
      first = await this.refreshOnce(options, true);
    }
    return first;
  }

  private async refreshOnce(options: RefreshOptions, withProof: boolean): Promise<DbscResponse> {
    const quoted = options.quoted ?? false;
    const headers: Record<string, string> = { 'content-length': '0' };
    if (this.sessionId !== undefined) headers['sec-secure-session-id'] = headerValue(this.sessionId, quoted);
    let jwt = options.jwt;
    if (jwt === undefined && withProof && this.key && this.challenge)
      jwt = await buildProof(this.key, { jti: this.challenge });
    if (jwt !== undefined) headers['secure-session-response'] = headerValue(jwt, quoted);
    const response = await this.fetch('/dbsc/refresh', { method: 'POST', headers, cookies: options.cookies ?? true });
    const result = await this.read(response);
    if (response.status === 200 && result.body?.session_identifier) this.instructions = result.body;
    return result;
  }

  private async read(response: Response): Promise<DbscResponse> {
    const text = await response.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      body = null;
    }
    return { status: response.status, headers: response.headers, body };
  }

  /** Cookies, the registration header and challenges, as a browser keeps them. */
  private absorb(headers: Headers): void {
    for (const setCookie of headers.getSetCookie()) {
      const pair = setCookie.split(';', 1)[0] ?? '';
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const maxAge = /Max-Age=(\d+)/i.exec(setCookie)?.[1];
      if (value === '' || maxAge === '0') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const registration = headers.get('secure-session-registration');
    if (registration) this.registration = registration;
    const challenge = headers.get('secure-session-challenge');
    if (challenge) {
      this.challenge = challengeOf(challenge);
      this.sessionId = challengeIdOf(challenge) ?? this.sessionId;
    }
  }
}
