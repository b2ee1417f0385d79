import { GatehouseUnavailableError } from './errors.js';
import type {
  FastifyInstanceLike,
  FastifyPluginAsync,
  IncomingRequestLike,
  RequestHandler,
  ServerResponseLike,
  VerifiedSession,
} from './types.js';

/** What `Retry-After` says when Gatehouse cannot answer: Gatehouse's own outage answer says the same. */
const RETRY_AFTER_SECONDS = 5;
const HOST_PREFIX = '__Host-';

/** A refusal, in the shape of Gatehouse's own: `{ errors: [{ message, extensions: { code } }] }`. */
export interface Refusal {
  status: 401 | 503;
  headers: Record<string, string>;
  body: string;
}

function refusal(status: 401 | 503, code: string, message: string, headers: Record<string, string>): Refusal {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
    body,
  };
}

const UNAUTHENTICATED = refusal(
  401,
  'UNAUTHENTICATED',
  'No valid session: sign in, or send Authorization: Bearer <token>',
  { 'WWW-Authenticate': 'Bearer realm="gatehouse"' },
);
const UNAVAILABLE = refusal(
  503,
  'UNAVAILABLE',
  'Sessions cannot be checked: Gatehouse cannot be reached. Retry shortly.',
  {
    'Retry-After': String(RETRY_AFTER_SECONDS),
  },
);

/** The credentials of one request: the session token, and the bound cookie of a device-bound session. */
export interface Credentials {
  token: string | undefined;
  boundCookie: string | undefined;
}

/**
 * Reads a request's credentials as Gatehouse does (src/http/viewer.ts): a bearer token wins over
 * the session cookie; the bound cookie comes from the cookies either way. Both cookie forms are
 * read, the `__Host-` one first: no sibling host can set it (cookie tossing).
 */
export class CredentialReader {
  private readonly sessionNames: readonly string[];
  private readonly boundNames: readonly string[];

  constructor(cookieName: string) {
    const base = cookieName.startsWith(HOST_PREFIX) ? cookieName.slice(HOST_PREFIX.length) : cookieName;
    const bound = base.endsWith('_session') ? `${base.slice(0, -'_session'.length)}_bound` : `${base}_bound`;
    this.sessionNames = [HOST_PREFIX + base, base];
    this.boundNames = [HOST_PREFIX + bound, bound];
  }

  read(cookieHeader: string | null | undefined, authorization: string | null | undefined): Credentials {
    const cookies = cookieHeader ? parseCookies(cookieHeader) : undefined;
    const first = (names: readonly string[]) => names.map((name) => cookies?.get(name)).find(Boolean);
    return { token: bearerToken(authorization) ?? first(this.sessionNames), boundCookie: first(this.boundNames) };
  }
}

/** Every `name=value` of a Cookie header; the first of a repeated name wins, as browsers send the most specific first. */
function parseCookies(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    const name = pair.slice(0, equals).trim();
    if (!cookies.has(name)) cookies.set(name, pair.slice(equals + 1).trim());
  }
  return cookies;
}

function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  return /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(authorization)?.[1];
}

/** The session behind a request, or the refusal to answer it with; anything else (a bug) is thrown. */
export type RequestCheck = (
  cookieHeader: string | null | undefined,
  authorization: string | null | undefined,
) => Promise<{ session: VerifiedSession } | { refusal: Refusal }>;

/** Turns `verify` into the check every middleware shares. */
export function requestCheck(
  reader: CredentialReader,
  verify: (token: string, boundCookie?: string) => Promise<VerifiedSession | null>,
): RequestCheck {
  return async (cookieHeader, authorization) => {
    const { token, boundCookie } = reader.read(cookieHeader, authorization);
    if (token === undefined) return { refusal: UNAUTHENTICATED };
    try {
      const session = await verify(token, boundCookie);
      return session ? { session } : { refusal: UNAUTHENTICATED };
    } catch (error) {
      if (error instanceof GatehouseUnavailableError) return { refusal: UNAVAILABLE };
      throw error;
    }
  };
}

export function expressMiddleware(check: RequestCheck): RequestHandler {
  return (req: IncomingRequestLike, res: ServerResponseLike, next: (error?: unknown) => void) => {
    check(req.headers.cookie, req.headers.authorization).then((outcome) => {
      if ('refusal' in outcome) {
        res.writeHead(outcome.refusal.status, outcome.refusal.headers);
        res.end(outcome.refusal.body);
        return;
      }
      req.gatehouse = outcome.session;
      next();
    }, next);
  };
}

export function fastifyPlugin(check: RequestCheck): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (instance: FastifyInstanceLike) => {
    instance.decorateRequest('gatehouse', null);
    instance.addHook('onRequest', async (request, reply) => {
      const outcome = await check(request.headers.cookie, request.headers.authorization);
      if ('refusal' in outcome) {
        // An async hook that answered must return the reply, or Fastify carries on to the route.
        return reply.code(outcome.refusal.status).headers(outcome.refusal.headers).send(outcome.refusal.body);
      }
      request.gatehouse = outcome.session;
      return undefined;
    });
  };
  // What fastify-plugin would set: the hook applies to the whole app, not only to this plugin's scope.
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'gatehouse/verify',
  });
}

export async function fetchCheck(check: RequestCheck, request: Request): Promise<VerifiedSession | Response> {
  const outcome = await check(request.headers.get('cookie'), request.headers.get('authorization'));
  if ('session' in outcome) return outcome.session;
  return new Response(outcome.refusal.body, { status: outcome.refusal.status, headers: outcome.refusal.headers });
}
