/**
 * What `gatehouse/verify` shows its users. The HTTP frameworks appear only as the few members
 * the middleware touches (structural types of our own), so the published typings hold for a
 * service that has neither Express nor Fastify installed, and import nothing of theirs.
 */

/** Where a service logs: `console` fits, and so does a pino or winston logger. */
export type VerifierLogger = Pick<Console, 'info' | 'warn' | 'error'>;

export interface VerifierOptions {
  /** Gatehouse's base URL, e.g. `https://auth.example.com`; `/graphql` is appended. Required. */
  url: string;
  /** A service token (`ghs_…`) with the `VERIFY_SESSIONS` scope. Required. */
  serviceToken: string;
  /**
   * The session cookie's base name, as Gatehouse's `COOKIE_NAME`. Default `gatehouse_session`; the
   * `__Host-` form (`__Host-gatehouse_session`) is read too, and preferred when both are sent. The
   * bound cookie's name follows from it (`gatehouse_bound`, `__Host-gatehouse_bound`).
   */
  cookieName?: string;
  /**
   * The most verified sessions kept in memory; the least recently used goes first. A whole
   * number (else `createVerifier` throws a `TypeError`). Default 10,000; 0 caches nothing.
   */
  maxCachedSessions?: number;
  /**
   * How long a remote `verifySession` may take before the check fails with
   * {@link GatehouseUnavailableError} (the middleware answers 503): whole ms from 1 to 2^31 − 1
   * (else `createVerifier` throws a `TypeError`). Default 2,000 ms.
   */
  requestTimeoutMs?: number;
  /** Where the verifier says that its cache is off or back on, and why. Default `console`. */
  logger?: VerifierLogger;
}

/** The signed-in user and session behind a request, as Gatehouse verified it. */
export interface VerifiedSession {
  user: { id: string; username: string; role: 'ADMIN' | 'USER' };
  session: {
    id: string;
    /** The session's absolute end; the verifier never serves it past this. */
    expiresAt: Date;
    /** AAL2 after a second factor or a passkey, else AAL1: a service may ask for AAL2. */
    assurance: 'AAL1' | 'AAL2';
    /** Bound to its device (DBSC): checked with the bound cookie as well. */
    deviceBound: boolean;
  };
}

/** The least of an incoming Node request that the middleware reads (Express's `req` is one). */
export interface IncomingRequestLike {
  headers: { cookie?: string | undefined; authorization?: string | undefined };
  gatehouse?: VerifiedSession;
}

/** The least of a Node response that the middleware writes (Express's `res` is one). */
export interface ServerResponseLike {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body: string): unknown;
}

/** Express-style middleware: `app.use(verifier.express())`. */
export type RequestHandler = (
  req: IncomingRequestLike,
  res: ServerResponseLike,
  next: (error?: unknown) => void,
) => void;

/** The least of a Fastify request the plugin reads and writes. */
export interface FastifyRequestLike {
  headers: { cookie?: string | undefined; authorization?: string | undefined };
  gatehouse?: VerifiedSession | null;
}

/** The least of a Fastify reply the plugin answers a refusal with. */
export interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(body: string): FastifyReplyLike;
}

/**
 * The least of a Fastify instance the plugin uses. Methods (not function-valued properties), so
 * that Fastify's own richer signatures are accepted for them.
 */
export interface FastifyInstanceLike {
  decorateRequest(name: 'gatehouse', value: null): unknown;
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

/** A Fastify plugin: `await app.register(verifier.fastify())`. */
export type FastifyPluginAsync = (instance: FastifyInstanceLike) => Promise<void>;

export interface Verifier {
  /**
   * The user and session behind a session token (and the bound cookie of a device-bound session),
   * or null when there is none. From memory while the cache is trusted, else from Gatehouse.
   * Rejects with {@link GatehouseUnavailableError} when Gatehouse cannot answer in time.
   */
  verify(token: string, boundCookie?: string): Promise<VerifiedSession | null>;
  /** Express (or Connect) middleware: `req.gatehouse` is the session; 401 or 503 JSON otherwise. */
  express(): RequestHandler;
  /** A Fastify plugin for the whole app (not encapsulated): `request.gatehouse`; 401 or 503 JSON otherwise. */
  fastify(): FastifyPluginAsync;
  /** For fetch-style handlers (Hono, Next.js): the session, or a 401/503 Response to return as it is. */
  fetch(request: Request): Promise<VerifiedSession | Response>;
  /** Whether the cache is trusted right now: a heartbeat of the end feed proves every end reached it. */
  readonly trusted: boolean;
  /** Closes the end feed and its timers. Checks after this go to Gatehouse every time. */
  close(): Promise<void>;
}

declare global {
  // Express types `req` from this namespace: `req.gatehouse` after `app.use(verifier.express())`.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      gatehouse?: VerifiedSession;
    }
  }
}
