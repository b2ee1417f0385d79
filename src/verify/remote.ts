import { GatehouseUnavailableError } from './errors.js';
import type { VerifiedSession, VerifierLogger } from './types.js';

const VERIFY_SESSION = `query VerifySession($token: String!, $boundCookie: String) {
  verifySession(token: $token, boundCookie: $boundCookie) {
    user { id username role }
    session { id expiresAt assurance deviceBound }
    idleExpiresAt
  }
}`;

/** Gatehouse's answer for one session: the session, its idle end, and Gatehouse's clock when it answered. */
export interface RemoteAnswer {
  verified: VerifiedSession;
  /** By Gatehouse's clock. */
  idleExpiresAtMs: number;
  /** The answer's `Date` header (whole seconds), NaN without one. */
  gatehouseNowMs: number;
}

interface VerifySessionData {
  verifySession: {
    user: VerifiedSession['user'];
    session: { id: string; expiresAt: string; assurance: 'AAL1' | 'AAL2'; deviceBound: boolean };
    idleExpiresAt: string;
  } | null;
}

interface GraphQLBody {
  data?: VerifySessionData | null;
  errors?: Array<{ message?: string; extensions?: { code?: string } }>;
}

/**
 * `verifySession` over HTTP with the service token, bounded by `timeoutMs`. Anything but an
 * answer (a timeout, the network, a 5xx, the service token refused, a body that is not one) is
 * {@link GatehouseUnavailableError}: the caller cannot know the session, so the request gets 503,
 * never a guess. A refused service token is logged as an error, since no retry will mend it.
 */
export class RemoteVerifier {
  private readonly endpoint: string;
  /** The refusal is logged once, not on every request, until an answer comes again. */
  private refusalLogged = false;

  constructor(
    baseUrl: string,
    private readonly serviceToken: string,
    private readonly timeoutMs: number,
    private readonly logger: VerifierLogger,
  ) {
    this.endpoint = graphqlUrl(baseUrl).toString();
  }

  async verify(token: string, boundCookie: string | undefined): Promise<RemoteAnswer | null> {
    const { body, gatehouseNowMs } = await this.post({ token, boundCookie: boundCookie ?? null });
    const code = body.errors?.[0]?.extensions?.code;
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') {
      if (!this.refusalLogged) {
        this.logger.error(
          `gatehouse/verify: Gatehouse refused the service token (${code}): every check fails until it is replaced`,
        );
      }
      this.refusalLogged = true;
      throw new GatehouseUnavailableError(`Gatehouse refused the service token (${code})`);
    }
    if (body.errors?.length || body.data === undefined || body.data === null) {
      throw new GatehouseUnavailableError(`verifySession failed: ${code ?? body.errors?.[0]?.message ?? 'no data'}`);
    }
    this.refusalLogged = false;
    const answer = body.data.verifySession;
    if (answer === null) return null;
    const { session } = answer;
    return {
      verified: { user: answer.user, session: { ...session, expiresAt: new Date(session.expiresAt) } },
      idleExpiresAtMs: Date.parse(answer.idleExpiresAt),
      gatehouseNowMs,
    };
  }

  private async post(variables: Record<string, string | null>): Promise<{ body: GraphQLBody; gatehouseNowMs: number }> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${this.serviceToken}`,
        },
        body: JSON.stringify({ query: VERIFY_SESSION, variables }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const what = timedOut ? `did not answer within ${this.timeoutMs} ms` : 'could not be reached';
      throw new GatehouseUnavailableError(`Gatehouse ${what}`, { cause: error });
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new GatehouseUnavailableError(`Gatehouse answered ${response.status}`);
    }
    try {
      const body = (await response.json()) as GraphQLBody;
      return { body, gatehouseNowMs: Date.parse(response.headers.get('date') ?? '') };
    } catch (error) {
      throw new GatehouseUnavailableError(`Gatehouse's answer was cut off or not JSON (${response.status})`, {
        cause: error,
      });
    }
  }
}

/** `/graphql` under the base URL (a path prefix kept), as http(s). */
export function graphqlUrl(baseUrl: string): URL {
  return new URL('graphql', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
}
