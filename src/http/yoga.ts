import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { createYoga, type Plugin, type YogaInitialContext, type YogaServerInstance } from 'graphql-yoga';
import type { SessionPubSub } from '../events/topics.js';
import type { SessionEndFeeds } from '../events/session-end-feeds.js';
import type { SessionEndWatcher } from '../events/session-end-watcher.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { Clock } from '../sessions/clock.js';
import { unknownServiceToken } from '../sessions/errors.js';
import type { ServicePrincipal } from '../sessions/service-tokens.js';
import type { SessionServices } from '../sessions/services.js';
import type { DeviceInfo, PendingLogin, Viewer } from '../sessions/types.js';
import type { WebhookAdmin } from '../webhooks/admin.js';
import type { SessionCookie } from './cookies.js';
import type { Access } from '../config.js';
import { registrationHeader } from './dbsc.js';
import { clientIp, deviceOf, headerOf } from './device.js';
import { useEndSubscriptions } from './end-subscriptions.js';
import { errorResponse, type WireErrors } from './errors.js';
import { createOriginMatcher, isSameOrigin, type OriginCheck } from './origins.js';
import { useReleaseRequestCaches } from './release-request-caches.js';
import { documentProtections, useJsonOnlyPosts, useJsonRefusals } from './protections.js';
import { useSecondFactorGate } from './second-factor-gate.js';
import { useServiceGate } from './service-gate.js';
import type { ShutdownSignal } from './shutdown-signal.js';
import { serviceTokenOf, type CredentialHeaders, type PendingLoginResolver, type ViewerResolver } from './viewer.js';
import { siteRequestOf, type SiteRequest, type WebauthnSites } from './webauthn-site.js';

/** What a non-HTTP transport (the WebSocket server) hands the context factory instead of a Request. */
export interface TransportContext {
  credentials: CredentialHeaders;
  device: DeviceInfo;
  /** The upgrade request's host and scheme, for passkeys. */
  site: SiteRequest;
}

export interface ServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
  /** Set by the WebSocket server; absent for HTTP and SSE. */
  transport?: TransportContext;
}

export type GatehouseYoga = YogaServerInstance<ServerContext, GraphQLContext>;

export interface YogaOptions {
  schema: GraphQLSchema;
  services: SessionServices;
  webhooks: WebhookAdmin;
  resolveViewer: ViewerResolver;
  /** Asked only when no viewer was found: a pending login waiting for its second step. */
  resolvePendingLogin: PendingLoginResolver;
  cookie: SessionCookie;
  /** DBSC's bound cookie: logout clears it with the session cookie. */
  boundCookie?: SessionCookie;
  clock: Clock;
  /** How failures reach clients: the error masker. */
  errors: WireErrors;
  /** Where `sessionEvents` subscribers hear each session start and end this instance applies. */
  pubsub: SessionPubSub;
  /** Watches a subscriber's own session, so that `sessionRevoked` hears of its end. */
  watcher: SessionEndWatcher;
  /** The open `sessionEndFeed`s of this instance: a service's subscription opens one here. */
  endFeeds: SessionEndFeeds;
  /** Resolves when the server begins to stop: every subscription then ends. */
  shutdown: ShutdownSignal;
  trustProxy: boolean;
  production: boolean;
  /** Who gets introspection answered (`GRAPHQL_INTROSPECTION`). */
  introspection: Access;
  /** Browser origins allowed cross-origin (CORS, with credentials). */
  allowedOrigins: readonly string[];
  /** Logs the refusal of any other foreign origin. */
  checkOrigin: OriginCheck;
  /** Called with the request of each login that sets the cookie (see `plain-http.ts`). */
  onSessionCookieSet?: (req: IncomingMessage) => void;
  /** The passkey relying party of a request (`webauthn-site.ts`). */
  webauthnSites: WebauthnSites;
}

/**
 * The one context factory: HTTP, SSE and WebSocket operations all authenticate here.
 *
 * Hot path: credentials are read from the Node request's own header object, the session
 * cookie is written straight onto the Node response (no Fetch `Headers` for either, which
 * Yoga's own floor does not pay), and a session the cache vouches for builds the context
 * synchronously, without a promise. Only a request without a viewer asks for a pending login,
 * and that answer is synchronous too for anything not shaped like a pending token.
 *
 * The context is one plain object literal per request, every property written out: V8 builds
 * it from a boilerplate in one step. An object spread in front of other properties (`{ ...{
 * services, viewer }, device }`) makes V8 define each property after it one by one through its
 * runtime, ~0.6 µs each on Node 20: that form cost every request ~3 µs and made `build` the
 * costliest function of Gatehouse's own in a CPU profile of cookie `{ me }` (3.5 % self time),
 * and the anonymous floor 25 % dearer in CPU (bench/request-cost.ts, against 8827eaa).
 */
function createContextFactory(options: YogaOptions) {
  const { services, webhooks, pubsub, watcher, endFeeds, cookie, clock, webauthnSites, trustProxy } = options;
  // DBSC's bound cookie goes with the session cookie, when the request carried one.
  const clearCookies = (req: IncomingMessage | undefined) =>
    options.boundCookie?.read(req?.headers.cookie) ? [cookie.clear(), options.boundCookie.clear()] : cookie.clear();
  // A WebSocket operation has no response: its cookie calls do nothing, as `res` and `req` are unset.
  const build = (
    viewer: Viewer | null,
    pendingLogin: PendingLogin | null,
    service: ServicePrincipal | null,
    server: ServerContext,
  ): GraphQLContext => {
    const { req, res, transport } = server;
    return {
      services,
      webhooks,
      pubsub,
      watcher,
      endFeeds,
      viewer,
      pendingLogin,
      service,
      device: transport ? transport.device : deviceOf(req, trustProxy),
      setSessionCookie: (token, expiresAt) => {
        res?.appendHeader('Set-Cookie', cookie.serialize(token, expiresAt, clock.now()));
        if (req) options.onSessionCookieSet?.(req);
      },
      clearSessionCookie: () => res?.appendHeader('Set-Cookie', clearCookies(req)),
      offerDeviceBinding: (challenge) =>
        res?.appendHeader('Secure-Session-Registration', registrationHeader(challenge)),
      webauthnSite: () => webauthnSites(transport ? transport.site : siteRequestOf(req, trustProxy)),
    };
  };
  const withPendingLogin = (credentials: CredentialHeaders, server: ServerContext) => {
    const pending = options.resolvePendingLogin(credentials);
    return pending instanceof Promise
      ? pending.then((found) => build(null, found, null, server))
      : build(null, pending, null, server);
  };
  // A service token is never a session: it is asked of the service tokens only, and one they
  // do not know (malformed, unknown, revoked) is refused, never taken for anonymous.
  const withService = async (token: string, server: ServerContext) => {
    const service = await services.serviceTokens.authenticate(token);
    if (!service) throw unknownServiceToken();
    return build(null, null, service, server);
  };
  return (server: YogaInitialContext & ServerContext): GraphQLContext | Promise<GraphQLContext> => {
    const { req, transport } = server;
    const credentials = transport
      ? transport.credentials
      : { cookie: headerOf(req, 'cookie'), authorization: headerOf(req, 'authorization') };
    const serviceToken = serviceTokenOf(credentials);
    if (serviceToken !== undefined) return withService(serviceToken, server);
    const viewer = options.resolveViewer(credentials);
    if (viewer instanceof Promise) {
      return viewer.then((found) => (found ? build(found, null, null, server) : withPendingLogin(credentials, server)));
    }
    return viewer ? build(viewer, null, null, server) : withPendingLogin(credentials, server);
  };
}

/**
 * Yoga's default reflects any Origin; with cookies that would let any site read responses.
 * Only listed origins get CORS answers; the server's own needs none.
 */
function corsFor({ allowedOrigins, checkOrigin, trustProxy }: YogaOptions) {
  const listed = createOriginMatcher(allowedOrigins);
  return (request: Request, server?: unknown) => {
    const origin = request.headers.get('origin');
    if (origin === null) return false;
    if (!listed(origin)) {
      const req = (server as ServerContext | undefined)?.req;
      const ip = req ? clientIp(req, trustProxy) : null;
      checkOrigin({ origin, host: request.headers.get('host'), ip }, 'cors');
      return false;
    }
    return {
      origin: [origin],
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'authorization', 'accept'],
      maxAge: 600,
    };
  };
}

/**
 * A preflight from an origin that got no CORS answer above is refused in words too: 403 with a
 * JSON body, rather than Yoga's empty 204 (the browser refuses either way; a person reading the
 * network panel sees why). Runs after Yoga's CORS hook, which has then set the headers or not.
 */
function useRefusedPreflights(): Plugin {
  return {
    onResponse({ request, response, setResponse, fetchAPI }) {
      if (request.method !== 'OPTIONS' || response.headers.has('access-control-allow-origin')) return;
      const origin = request.headers.get('origin');
      if (origin === null || isSameOrigin(origin, request.headers.get('host'))) return;
      setResponse(
        errorResponse(fetchAPI, 403, 'FORBIDDEN', 'This origin is not allowed: it is not in ALLOWED_ORIGINS'),
      );
    },
  };
}

export function createGatehouseYoga(options: YogaOptions): GatehouseYoga {
  return createYoga<ServerContext, GraphQLContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Served by Gatehouse itself, from its own build and under its policy (console.ts).
    graphiql: false,
    logging: false,
    batching: false,
    // The HTTP server bounds bodies before Yoga sees them (413 over MAX_REQUEST_BODY_BYTES, 411
    // without a length) and hands over bytes already read; Yoga's own limit would pipe each one
    // through a stream again to count what is already counted.
    maxRequestBodySize: false,
    cors: corsFor(options),
    maskedErrors: { maskError: options.errors.maskError },
    plugins: [
      useJsonOnlyPosts(),
      useRefusedPreflights(),
      useJsonRefusals(),
      ...documentProtections({ introspection: options.introspection, blockFieldSuggestions: options.production }),
      useSecondFactorGate(),
      useServiceGate(),
      useEndSubscriptions(options.watcher, options.shutdown),
      useReleaseRequestCaches(),
      // Executes each document through code compiled for it once (graphql-jit), cached by the
      // document: the same checks, resolvers and errors, with less work per request.
      // A document it cannot compile answers with the compiler's errors, masked like any
      // other request's: nothing to log beside them.
      useGraphQlJit({}, { onError: () => {} }),
    ],
    context: createContextFactory(options),
  });
}
