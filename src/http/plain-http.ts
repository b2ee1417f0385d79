/**
 * A `Secure` cookie sent over plain HTTP is thrown away by the browser: the login succeeds, the
 * next request is anonymous, and the user sees themself signed out with no reason given.
 * Browsers make one exception, a page on `localhost` or a loopback address, so a person trying
 * Gatehouse on their own machine is fine. Two warnings say so where an operator looks, the log:
 * one at start, from the settings, and one at the first login that proves it.
 *
 * Gatehouse itself speaks plain HTTP; HTTPS is a reverse proxy's job. Behind one, only
 * `TRUST_PROXY` lets it believe the proxy's `X-Forwarded-Proto`.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { clientIp, overHttps } from './device.js';

/** Whether an address (or `HOST`) is this machine's loopback, where browsers accept Secure cookies over HTTP. */
export function isLoopback(address: string | null | undefined): boolean {
  if (!address) return false;
  const host = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  const ipv4 = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  return isIP(ipv4) === 4 && ipv4.startsWith('127.');
}

const ADVICE =
  'Serve Gatehouse over HTTPS: behind a reverse proxy that terminates TLS, set TRUST_PROXY=on so that ' +
  'it believes X-Forwarded-Proto: https; only for a trial on a trusted network, set COOKIE_SECURE=off.';

/** The start's warning when the settings make plain HTTP off this machine likely, or undefined. */
export function plainHttpStartWarning(
  config: Pick<Config, 'cookieSecure' | 'host' | 'trustProxy'>,
): string | undefined {
  if (!config.cookieSecure || config.trustProxy || isLoopback(config.host)) return undefined;
  return (
    `COOKIE_SECURE is on, HOST=${config.host} is reachable from other machines over plain HTTP and TRUST_PROXY ` +
    `is off: a browser reaching Gatehouse over http:// refuses its Secure cookie, so sign-in does not stick. ${ADVICE}`
  );
}

/**
 * Called with each login's request when `COOKIE_SECURE` is on: the first one answered over plain
 * HTTP to a browser off this machine is logged at `warn` (once per process: it says something
 * about the deployment, not about that user).
 */
export function createPlainHttpCookieWarning(trustProxy: boolean, logger: Logger): (req: IncomingMessage) => void {
  let warned = false;
  return (req) => {
    if (warned || overHttps(req, trustProxy)) return;
    const ip = clientIp(req, trustProxy);
    if (isLoopback(ip)) return;
    warned = true;
    logger.warn(
      `a login was answered with a Secure cookie over plain HTTP: the browser drops it and the user stays ` +
        `signed out. ${ADVICE} (Logged once per process.)`,
      { ip },
    );
  };
}
