import type { SessionPubSub } from '../events/topics.js';
import type { SessionEndWatcher } from '../events/session-end-watcher.js';
import { unauthenticated } from '../sessions/errors.js';
import type { WebauthnSite } from '../sessions/passkey-policy.js';
import type { ServicePrincipal } from '../sessions/service-tokens.js';
import type { SessionServices } from '../sessions/services.js';
import type { Actor, DeviceInfo, PendingLogin, Viewer } from '../sessions/types.js';
import type { WebhookAdmin } from '../webhooks/admin.js';

/** What every resolver gets. Built per request (or per socket operation) by the context factory in `http/`. */
export interface GraphQLContext {
  /** The signed-in user and the session that made this request; null when anonymous. */
  viewer: Viewer | null;
  /**
   * The pending login (a right password waiting for its second step) that made this request;
   * null otherwise. Never set together with `viewer`. Such a request may only finish the login,
   * sign out or read itself (http/second-factor-gate.ts).
   */
  pendingLogin: PendingLogin | null;
  /**
   * The service whose token (`Bearer ghs_…`) made this request; null otherwise. Never set
   * together with `viewer` or `pendingLogin`: it may select only the root fields of its scopes
   * (http/service-gate.ts).
   */
  service: ServicePrincipal | null;
  /** The session rules: resolvers call these and do little else. */
  services: SessionServices;
  /** Registering webhooks and reading their deliveries (ADMIN). */
  webhooks: WebhookAdmin;
  /** Session events, for subscriptions. */
  pubsub: SessionPubSub;
  /** Session ends by session id, for subscriptions that end with their session. */
  watcher: SessionEndWatcher;
  /** Where this request came from, recorded on sessions it starts. */
  device: DeviceInfo;
  /** Sets the session cookie on this request's response (no-op over WebSocket). */
  setSessionCookie(token: string, expiresAt: Date): void;
  /** Clears the session cookie (and DBSC's bound cookie) on this request's response (no-op over WebSocket). */
  clearSessionCookie(): void;
  /** Offers the browser to bind the new session to a key it holds (DBSC; no-op over WebSocket). */
  offerDeviceBinding(challenge: string): void;
  /**
   * The passkey relying party this request was sent to (RP ID, allowed origins): worked out on
   * call, by passkey fields only. BAD_USER_INPUT when neither WEBAUTHN_RP_ID nor `Host` names one.
   */
  webauthnSite(): WebauthnSite;
}

/** The signed-in user asking, as the rules take it (with the device it asks from). */
export function actorOf(context: GraphQLContext): Actor {
  return { viewer: viewerOf(context), device: context.device };
}

/** The viewer of a field whose `authScopes` already require a session. */
export function viewerOf(context: GraphQLContext): Viewer {
  if (!context.viewer) throw unauthenticated();
  return context.viewer;
}
