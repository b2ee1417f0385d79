/**
 * DBSC over HTTP (docs/dbsc/protocol.md, plan.md §5): `POST /dbsc/register` and
 * `POST /dbsc/refresh`, and the headers a login sends. The rules are `sessions/dbsc.ts`'.
 *
 * The refresh endpoint answers no 4xx but its 403 challenge: Chrome deletes its DBSC session on
 * any other 4xx, and the server would then wait forever for a bound cookie the browser never
 * fetches again. Transient trouble (the database, throttling, a bug) is `503` + `Retry-After`;
 * an ended or unknown session is `200 {"continue": false}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DBSC_ALGORITHMS, parseSfStringOrBare } from '../sessions/dbsc-proof.js';
import type { BoundCookieIssue, DeviceBinding } from '../sessions/dbsc.js';
import type { Clock } from '../sessions/clock.js';
import type { Logger } from '../logger.js';
import type { SessionCookie } from './cookies.js';
import { deviceOf, headerOf } from './device.js';
import { RETRY_AFTER_SECONDS, sendError, sendJson } from './errors.js';

const DBSC_REGISTER_PATH = '/dbsc/register';
const DBSC_REFRESH_PATH = '/dbsc/refresh';

/** `Secure-Session-Registration` for a new session's challenge (an SF list; strings quoted). */
export function registrationHeader(challenge: string): string {
  return `(${DBSC_ALGORITHMS.join(' ')});path="${DBSC_REGISTER_PATH}";challenge="${challenge}"`;
}

/** `Secure-Session-Challenge` for the session `id`. */
const challengeHeader = (challenge: string, id: string) => `"${challenge}";id="${id}"`;

/** What the routes report, for metrics: `kind` register or refresh, and how it ended. */
type DbscOutcomeListener = (kind: 'register' | 'refresh', result: string) => void;

export interface DbscRoutesOptions {
  binding: DeviceBinding;
  cookie: SessionCookie;
  bound: SessionCookie;
  clock: Clock;
  trustProxy: boolean;
  logger: Logger;
  onOutcome?: DbscOutcomeListener;
}

/** `Secure-Session-Response`: undefined when absent, null when present but not a proof's shape. */
function proofOf(req: IncomingMessage): string | null | undefined {
  const header = headerOf(req, 'secure-session-response');
  return header === undefined ? undefined : (parseSfStringOrBare(header) ?? null);
}

/** The routes, or undefined when `DBSC=off` (then `/dbsc/*` is 404 like any unknown path). */
export function createDbscRoutes(options: DbscRoutesOptions) {
  if (!options.binding.enabled) return undefined;
  const { binding, cookie, bound, clock, trustProxy, logger } = options;
  const report = options.onOutcome ?? (() => {});

  /** The session instructions JSON (PROTOCOL §3) and the new bound cookie. */
  const sendBound = (res: ServerResponse, issue: BoundCookieIssue) => {
    res.appendHeader('Set-Cookie', bound.serialize(issue.boundToken, issue.boundExpiresAt, clock.now()));
    // Early challenge: the next refresh is one POST with its proof, not a 403 round trip.
    res.setHeader('Secure-Session-Challenge', challengeHeader(issue.nextChallenge, issue.sessionId));
    sendJson(res, 200, {
      session_identifier: issue.sessionId,
      refresh_url: DBSC_REFRESH_PATH,
      // No origin: the one the browser used, which behind a proxy is the only right one.
      scope: { include_site: false, scope_specification: [] },
      credentials: [{ type: 'cookie', name: bound.name, attributes: bound.attributes }],
    });
  };

  async function register(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const proof = proofOf(req);
    // The cookie only: a bearer token or a pending login binds nothing (a browser sends cookies).
    const outcome = await binding.register(cookie.read(req.headers.cookie), proof, deviceOf(req, trustProxy));
    if (outcome.result === 'bound') {
      report('register', 'bound');
      return sendBound(res, outcome);
    }
    report('register', outcome.reason.toLowerCase());
    logger.info('device binding refused', { reason: outcome.reason });
    // Any refusal leaves the session as it was; the browser simply stays unbound.
    const status = outcome.reason === 'NO_SESSION' ? 401 : 400;
    sendError(res, status, status === 401 ? 'UNAUTHENTICATED' : 'BAD_USER_INPUT', outcome.message);
  }

  async function refresh(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const outcome = await binding.refresh({
      sessionId: parseSfStringOrBare(headerOf(req, 'sec-secure-session-id')),
      sessionToken: cookie.read(req.headers.cookie),
      proof: proofOf(req),
      device: deviceOf(req, trustProxy),
    });
    report('refresh', outcome.result.replace('-', '_'));
    switch (outcome.result) {
      case 'rotated':
        return sendBound(res, outcome);
      case 'challenge':
        res.setHeader('Secure-Session-Challenge', challengeHeader(outcome.challenge, outcome.sessionId));
        return sendJson(res, 403, { challenge: 'sign the challenge in Secure-Session-Challenge' });
      case 'throttled':
        res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
        return sendError(res, 503, 'UNAVAILABLE', 'Too many refreshes without their session: retry later');
      case 'mismatch':
      case 'continue-false':
        // Chrome keeps the bound cookie after continue:false: clear it here.
        res.appendHeader('Set-Cookie', bound.clear());
        if (outcome.result === 'mismatch' || outcome.clearSession) res.appendHeader('Set-Cookie', cookie.clear());
        return sendJson(res, 200, { continue: false });
    }
  }

  const routes = new Map([
    [DBSC_REGISTER_PATH, register],
    [DBSC_REFRESH_PATH, refresh],
  ]);

  /** Answers `path` if it is a DBSC route; false otherwise. */
  return function serveDbsc(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const route = routes.get(path);
    if (!route) return false;
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendError(res, 405, 'BAD_USER_INPUT', `${path} takes POST`);
      return true;
    }
    // DBSC requests have no body (Content-Length: 0); one that has is not read.
    if (Number(req.headers['content-length'] ?? 0) !== 0 || req.headers['transfer-encoding']) {
      res.setHeader('Connection', 'close');
    }
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      // Never a 4xx nor a 500 that a browser could take for an end: 503 says "try again".
      logger.warn('DBSC request failed: answering 503', { error, path });
      report(path === DBSC_REFRESH_PATH ? 'refresh' : 'register', 'unavailable');
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      sendError(res, 503, 'UNAVAILABLE', 'Service unavailable: retry shortly');
    });
    return true;
  };
}

export type DbscRoutes = NonNullable<ReturnType<typeof createDbscRoutes>>;
