import type { IncomingMessage } from 'node:http';

/**
 * The client's IP. From the socket, unless `trustProxy`: then from `X-Forwarded-For`, taking
 * the last entry, which is the one our proxy appended (earlier entries are whatever the client
 * chose to send).
 */
export function clientIp(req: IncomingMessage | undefined, trustProxy: boolean): string | null {
  if (!req) return null;
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const header = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
    const last = header?.split(',').pop()?.trim();
    if (last) return last.slice(0, 64);
  }
  return req.socket.remoteAddress ?? null;
}
