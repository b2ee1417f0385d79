/** The session cookie: how it is named, read and written. */

export interface SessionCookieOptions {
  /** Base name; `__Host-` is prepended when `secure`. */
  name: string;
  /** Adds `Secure` and the `__Host-` prefix, which binds the cookie to this exact host over HTTPS. */
  secure: boolean;
}

export class SessionCookie {
  readonly name: string;
  private readonly attributes: string;

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

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function readBearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(authorization);
  return match?.[1];
}
