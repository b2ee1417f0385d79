/**
 * Which browser origins may talk to Gatehouse with the user's cookie: the server's own, and
 * those listed in `ALLOWED_ORIGINS`. CORS answers and WebSocket upgrades ask the same question;
 * a refusal is logged at `warn` (throttled: the origin is the sender's choice), so a front end
 * whose origin is missing from the list is found in the log, not guessed at.
 *
 * An entry is an origin (`https://app.example.com`) or a wildcard over subdomains
 * (`https://*.example.com`). Wildcards are a known foot-gun, so they are strict:
 * - `*` is the whole leftmost label, and stands for one or more labels: `https://a.example.com`
 *   and `https://a.b.example.com` match, `https://example.com` does not (list it too if wanted);
 * - the scheme and the port are the entry's, exactly;
 * - the domain under the `*` has at least two labels (`https://*.com` is refused at start);
 * - names are compared in their ASCII form: a Unicode domain in the setting is turned into
 *   punycode, which is what browsers send in `Origin`.
 * What no rule here can know: whether every subdomain is yours. `*.github.io`, `*.vercel.app`
 * or `*.co.uk` would admit anyone who can publish a page there; list such origins one by one.
 */
import { throttledLogger, type Logger } from '../logger.js';

/** A label of a host name in its ASCII form (punycode included). */
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Parses an origin as browsers serialize it: scheme, host in ASCII, a port unless the default. */
const ORIGIN_PARTS = /^(https?):\/\/([a-z0-9.-]+)(?::(\d{1,5}))?$/;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };
/** Stands in for `*` while URL parsing normalises the rest of a wildcard entry. */
const PLACEHOLDER_LABEL = 'wildcard-placeholder';

/** Thrown for an entry that is neither an origin nor a strict wildcard; says why. */
export class OriginEntryError extends Error {}

/**
 * One `ALLOWED_ORIGINS` entry, normalised (lower case, punycode, no default port), or an
 * {@link OriginEntryError}. `https://*.example.com` stays a wildcard in the same form.
 */
export function parseAllowedOrigin(entry: string): string {
  const wildcard = entry.includes('*');
  if (wildcard && !/^[a-z][a-z0-9+.-]*:\/\/\*\.[^*]+$/i.test(entry)) {
    throw new OriginEntryError(
      `${entry}: a wildcard is allowed only as the whole leftmost label, once, as in https://*.example.com`,
    );
  }
  let url: URL;
  try {
    url = new URL(wildcard ? entry.replace('*', PLACEHOLDER_LABEL) : entry);
  } catch {
    throw new OriginEntryError(`${entry}: not an origin such as https://app.example.com`);
  }
  const exact = url.username === '' && url.password === '' && url.pathname === '/' && url.search + url.hash === '';
  if (!['http:', 'https:'].includes(url.protocol) || !exact || entry.endsWith('/')) {
    throw new OriginEntryError(`${entry}: an origin is a scheme (http or https), a host and a port, with no path`);
  }
  if (!wildcard) return url.origin;
  const domain = url.hostname.slice(PLACEHOLDER_LABEL.length + 1);
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => HOST_LABEL.test(label))) {
    throw new OriginEntryError(
      `${entry}: a wildcard needs a domain of two or more labels under it (https://*.example.com), never a top-level domain`,
    );
  }
  return url.origin.replace(PLACEHOLDER_LABEL, '*');
}

interface Wildcard {
  scheme: string;
  /** `.example.com`: what a matching host ends with. */
  suffix: string;
  /** '' for the scheme's default port. */
  port: string;
}

function wildcardOf(entry: string): Wildcard {
  const [, scheme = '', host = '', port = ''] = ORIGIN_PARTS.exec(entry.replace('*', PLACEHOLDER_LABEL)) ?? [];
  return { scheme, suffix: host.slice(PLACEHOLDER_LABEL.length), port };
}

function matchesWildcard(origin: string, wildcards: readonly Wildcard[]): boolean {
  const parts = ORIGIN_PARTS.exec(origin);
  if (!parts) return false;
  const [, scheme = '', host = '', givenPort = ''] = parts;
  const port = givenPort === DEFAULT_PORTS[scheme] ? '' : givenPort;
  return wildcards.some((wildcard) => {
    if (wildcard.scheme !== scheme || wildcard.port !== port || !host.endsWith(wildcard.suffix)) return false;
    const subdomain = host.slice(0, -wildcard.suffix.length);
    return subdomain !== '' && subdomain.split('.').every((label) => HOST_LABEL.test(label));
  });
}

/** Whether an `Origin` is one that `ALLOWED_ORIGINS` (entries from {@link parseAllowedOrigin}) lists. */
export type OriginMatcher = (origin: string) => boolean;

export function createOriginMatcher(allowedOrigins: readonly string[]): OriginMatcher {
  const exact = new Set(allowedOrigins.filter((entry) => !entry.includes('*')));
  const wildcards = allowedOrigins.filter((entry) => entry.includes('*')).map(wildcardOf);
  return (origin) => {
    if (exact.has(origin)) return true;
    // Browsers send origins in lower case; other clients may not, and case means nothing here.
    const lower = origin.toLowerCase();
    return exact.has(lower) || (wildcards.length > 0 && matchesWildcard(lower, wildcards));
  };
}

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
  const listed = createOriginMatcher(allowedOrigins);
  return ({ origin, host, ip }, where) => {
    if (listed(origin) || isSameOrigin(origin, host)) return true;
    log('warn', `refused-origin-${where}`, 'refused origin: not this server and not in ALLOWED_ORIGINS', {
      origin: origin.slice(0, 200),
      where,
      ip,
    });
    return false;
  };
}
