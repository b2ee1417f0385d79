import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './errors.js';
import type { ViewerResolver } from './viewer.js';

/**
 * `GET /auth/verify` for nginx `auth_request` and Traefik ForwardAuth: 200 with the viewer in
 * `X-User-*` / `X-Session-*` headers when the cookie or bearer token is good (`X-Session-Assurance`
 * is AAL1 or AAL2: a service may ask for AAL2), else 401 with
 * the JSON error body of every refusal (`UNAUTHENTICATED`); a pending login (a right password
 * still owing its second step) is no session here. Any method is answered alike, since Traefik
 * forwards the original one.
 *
 * Usernames may be any script, but header values must be Latin-1, so `X-User-Name` is
 * percent-encoded (decodeURIComponent gives the name back; plain ASCII names are unchanged
 * except `@`).
 */
export function createForwardAuthHandler(resolveViewer: ViewerResolver) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const viewer = await resolveViewer({ cookie: req.headers.cookie, authorization: req.headers.authorization });
    if (!viewer) {
      // Traefik hands this answer to the client as it is; nginx keeps only the status.
      res.setHeader('WWW-Authenticate', 'Bearer realm="gatehouse"');
      return sendError(res, 401, 'UNAUTHENTICATED', 'No valid session: sign in, or send Authorization: Bearer <token>');
    }
    const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'Content-Length': '0' };
    res.writeHead(200, {
      ...headers,
      'X-User-Id': viewer.user.id,
      'X-User-Name': encodeURIComponent(viewer.user.username),
      'X-User-Role': viewer.user.role,
      'X-Session-Id': viewer.session.id,
      'X-Session-Assurance': viewer.session.assurance,
    });
    res.end();
  };
}
