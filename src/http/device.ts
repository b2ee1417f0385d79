import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { DeviceInfo } from '../sessions/types.js';

/** Longest user agent kept: the column's size; longer ones are cut, not refused. */
const USER_AGENT_MAX_LENGTH = 512;
/** Longest address kept from `X-Forwarded-For`: the column's size. */
const IP_ADDRESS_MAX_LENGTH = 64;

/**
 * The client's IP. From the socket, unless `trustProxy`: then from `X-Forwarded-For`, taking
 * the last entry, which is the one our proxy appended (earlier entries are whatever the client
 * chose to send).
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const header = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
    const last = header?.split(',').pop()?.trim();
    if (last) return last.slice(0, IP_ADDRESS_MAX_LENGTH);
  }
  return req.socket.remoteAddress ?? null;
}

/** The value of a header of a Node request: the first, when it was sent more than once. */
export function headerOf(req: IncomingMessage | undefined, name: string): string | undefined {
  const value = req?.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Where a request (HTTP, SSE or a WebSocket upgrade) came from, as sessions and the audit log record it. */
export function deviceOf(req: IncomingMessage | undefined, trustProxy: boolean): DeviceInfo {
  if (!req) return { userAgent: null, ipAddress: null };
  return {
    userAgent: req.headers['user-agent']?.slice(0, USER_AGENT_MAX_LENGTH) ?? null,
    ipAddress: clientIp(req, trustProxy),
  };
}

/**
 * Whether the browser's side of this request was HTTPS: a TLS socket, or a trusted proxy saying
 * so (the last `X-Forwarded-Proto` entry, the one our proxy wrote).
 */
export function overHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted) return true;
  if (!trustProxy) return false;
  const header = req.headers['x-forwarded-proto'];
  const last = (Array.isArray(header) ? header.join(',') : header)?.split(',').pop()?.trim().toLowerCase();
  return last === 'https';
}
