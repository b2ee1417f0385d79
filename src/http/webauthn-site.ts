/**
 * The WebAuthn relying party a request belongs to: the RP ID passkeys are bound to, and the
 * origins a ceremony may come from (settings `WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGINS`).
 *
 * - RP ID: `WEBAUTHN_RP_ID`, or else the host name the request was sent to (its `Host`).
 * - Origins: exactly `WEBAUTHN_ORIGINS` when set; else the request's own origin (`https` over
 *   TLS or, with `TRUST_PROXY`, when the proxy's `X-Forwarded-Proto` says so; `http` otherwise;
 *   the `Host` as sent) and the origins of `ALLOWED_ORIGINS`, wildcards included (origins.ts).
 *
 * The defaults follow whatever name a client used, which suits a trial on one machine; a
 * deployment sets `WEBAUTHN_RP_ID`, since passkeys registered under one RP ID never work under
 * another. Built only when a passkey field asks (the context holds a function), so other
 * requests pay nothing for it.
 */
import type { IncomingMessage } from 'node:http';
import { badUserInput } from '../sessions/errors.js';
import type { WebauthnSite } from '../sessions/passkey-policy.js';
import { overHttps } from './device.js';
import { createOriginMatcher } from './origins.js';

/** What a site is read from: the request's `Host`, and whether the browser reached us over HTTPS. */
export interface SiteRequest {
  host: string | undefined;
  https: boolean;
}

export interface WebauthnSiteSettings {
  /** `WEBAUTHN_RP_ID`; undefined: the request's host name. */
  rpId: string | undefined;
  /** `WEBAUTHN_ORIGINS` (normalised origins); empty: the request's own origin and `allowedOrigins`. */
  origins: readonly string[];
  /** `ALLOWED_ORIGINS` entries (parseAllowedOrigin's form). */
  allowedOrigins: readonly string[];
  trustProxy: boolean;
}

/** A host name and optional port as `Host` carries it, IPv6 literals in brackets. */
const HOST_HEADER = /^(?<name>[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(?<port>\d{1,5}))?$/;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

export type WebauthnSites = (request: SiteRequest) => WebauthnSite;

/** What a Node request (HTTP, SSE, or a WebSocket's upgrade) says about the site it was sent to. */
export function siteRequestOf(req: IncomingMessage | undefined, trustProxy: boolean): SiteRequest {
  return { host: req?.headers.host, https: req ? overHttps(req, trustProxy) : false };
}

export function createWebauthnSites(settings: WebauthnSiteSettings): WebauthnSites {
  const configured = settings.origins.length > 0 ? new Set(settings.origins) : undefined;
  const allowed = createOriginMatcher(settings.allowedOrigins);
  return ({ host, https }) => {
    const parts = HOST_HEADER.exec(host?.toLowerCase() ?? '')?.groups;
    const rpId = settings.rpId ?? parts?.name;
    if (rpId === undefined) {
      throw badUserInput('Passkeys need WEBAUTHN_RP_ID, or a Host header naming this server');
    }
    if (configured) return { rpId, allowsOrigin: (origin) => configured.has(origin) };
    const scheme = https ? 'https' : 'http';
    const port = parts?.port === undefined || parts.port === DEFAULT_PORTS[scheme] ? '' : `:${parts.port}`;
    const own = parts ? `${scheme}://${parts.name}${port}` : undefined;
    return { rpId, allowsOrigin: (origin) => origin === own || allowed(origin) };
  };
}
