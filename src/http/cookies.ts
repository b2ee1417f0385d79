/** The session cookie: how it is named, read and written. */

export interface SessionCookieOptions {
  /** Base name; `__Host-` is prepended when `secure`. */
  name: string;
  /** Adds `Secure` and the `__Host-` prefix, which binds the cookie to this exact host over HTTPS. */
  secure: boolean;
}

/**
 * A cookie of Gatehouse's: the session cookie, and (DBSC) the short bound cookie, which has the
 * same attributes under another name (see {@link boundCookieName}).
 */
export class SessionCookie {
  readonly name: string;
  /**
   * Everything after `name=value; Max-Age=…; Expires=…`: the one source of the attributes, also
   * for DBSC's instructions JSON, which must equal the Set-Cookie's or Chrome refreshes on every
   * request (docs/dbsc/findings.md §3).
   */
  readonly attributes: string;

  constructor(options: SessionCookieOptions) {
    this.name = options.secure ? `__Host-${options.name}` : options.name;
    // No Domain: the cookie goes back only to the host that set it. Lax: sent on top-level
    // navigations, never on cross-site subrequests or form POSTs.
    this.attributes = `Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
  }

  serialize(token: string, expiresAt: Date, now: Date): string {
    const maxAgeSeconds = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
    return `${this.name}=${token}; Max-Age=${maxAgeSeconds}; Expires=${expiresAt.toUTCString()}; ${this.attributes}`;
  }

  clear(): string {
    return `${this.name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${this.attributes}`;
  }

  /**
   * The token from a `Cookie` header, or undefined. Hand-rolled because it runs on every
   * request and needs one cookie, not a parsed map of all of them.
   */
  read(cookieHeader: string | null | undefined): string | undefined {
    if (!cookieHeader) return undefined;
    const prefix = this.name + '=';
    let start = 0;
    while (start < cookieHeader.length) {
      let end = cookieHeader.indexOf(';', start);
      if (end === -1) end = cookieHeader.length;
      let pairStart = start;
      while (cookieHeader.charCodeAt(pairStart) === 32) pairStart++;
      if (cookieHeader.startsWith(prefix, pairStart)) {
        const value = cookieHeader.slice(pairStart + prefix.length, end).trim();
        return value === '' ? undefined : value;
      }
      start = end + 1;
    }
    return undefined;
  }
}

/**
 * The bound cookie's base name beside the session cookie's: `gatehouse_session` →
 * `gatehouse_bound`; any other name gains `_bound`.
 */
export function boundCookieName(sessionCookieName: string): string {
  return sessionCookieName.endsWith('_session')
    ? `${sessionCookieName.slice(0, -'_session'.length)}_bound`
    : `${sessionCookieName}_bound`;
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function readBearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(authorization);
  return match?.[1];
}
