/**
 * Why a browser refused the session cookie of a sign-in step that succeeded. Gatehouse cannot
 * see it (it set the cookie), so the client asks `currentSession` right after each step and, when
 * the answer is not the session the step made, judges why from the two URLs.
 */

/**
 * - `PLAIN_HTTP`: Gatehouse was reached over plain HTTP off loopback, and its cookie is `Secure`
 *   (COOKIE_SECURE, on in production): HTTPS is needed.
 * - `OTHER_SITE`: Gatehouse is on another site than the page, so the `SameSite=Lax` cookie is
 *   not sent with the page's requests (`localhost` and `127.0.0.1` are two sites).
 * - `BLOCKED`: neither; the browser's settings or an extension block cookies for that site.
 */
export type CookieRefusal = 'PLAIN_HTTP' | 'OTHER_SITE' | 'BLOCKED';

/** Hosts a browser treats as secure even over plain HTTP, keeping `Secure` cookies from them. */
const LOOPBACK_HOST = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * A URL's site, as SameSite counts it: the scheme and the registrable domain. Without the public
 * suffix list this takes the last two labels, which misjudges hosts under suffixes such as co.uk
 * (two sites there look like one, and their refusal reads as `BLOCKED`).
 */
function siteOf(url: URL): string {
  const host = url.hostname;
  const isAddress = /^[\d.]+$/.test(host) || host.startsWith('[');
  return `${url.protocol}//${isAddress ? host : host.split('.').slice(-2).join('.')}`;
}

/** Why a cookie from `url` (the GraphQL endpoint) would be refused on the page at `pageUrl` (none outside a browser). */
export function cookieRefusal(url: URL, pageUrl: string | undefined): CookieRefusal {
  if (url.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) return 'PLAIN_HTTP';
  if (pageUrl !== undefined && siteOf(url) !== siteOf(new URL(pageUrl))) return 'OTHER_SITE';
  return 'BLOCKED';
}
