/**
 * Which browser origins may talk to Gatehouse with the user's cookie: the server's own, and
 * those listed in `ALLOWED_ORIGINS`. CORS answers and WebSocket upgrades ask the same question;
 * a refusal is logged at `warn` (throttled: the origin is the sender's choice), so a front end
 * whose origin is missing from the list is found in the log, not guessed at.
 */
import { throttledLogger, type Logger } from '../logger.js';

/** Whether `origin` is the server's own, as the request's `Host` names it, over either scheme. */
export function isSameOrigin(origin: string, host: string | null | undefined): boolean {
  return host !== undefined && host !== null && (origin === `http://${host}` || origin === `https://${host}`);
}

export interface OriginRequest {
  origin: string;
  host: string | null | undefined;
  /** The client's address, for the log line of a refusal. */
  ip: string | null;
}

export type OriginCheck = (request: OriginRequest, where: 'cors' | 'websocket') => boolean;

/** The check both transports use; `where` and the origin go into the log line of a refusal. */
export function createOriginCheck(allowedOrigins: readonly string[], logger: Logger): OriginCheck {
  const log = throttledLogger(logger);
  return ({ origin, host, ip }, where) => {
    if (allowedOrigins.includes(origin) || isSameOrigin(origin, host)) return true;
    log('warn', `refused-origin-${where}`, 'refused origin: not this server and not in ALLOWED_ORIGINS', {
      origin: origin.slice(0, 200),
      where,
      ip,
    });
    return false;
  };
}
