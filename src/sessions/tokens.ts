import { hash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;
/** base64url of 32 bytes, no padding. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/**
 * A pending login's token: the same 32 random bytes behind `p.`. `.` is outside base64url, so no
 * session token has this shape: a pending token is known by its look alone, and never reaches
 * the session lookup (or a pending lookup a session token).
 */
const PENDING_PREFIX = 'p.';
const PENDING_TOKEN_PATTERN = /^p\.[A-Za-z0-9_-]{43}$/;

/**
 * A service token (an admin's credential for another service, see service-tokens.ts): the same
 * 32 random bytes behind `ghs_`. At 47 characters it has neither a session token's shape nor a
 * pending login's: it is known by its look alone, and never reaches a session lookup.
 */
const SERVICE_PREFIX = 'ghs_';
const SERVICE_TOKEN_PATTERN = /^ghs_[A-Za-z0-9_-]{43}$/;

/** A new session token: 32 random bytes, base64url. Only the caller ever sees it. */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** A new pending login token (see {@link isPendingToken}). Only the caller ever sees it. */
export function generatePendingToken(): string {
  return PENDING_PREFIX + generateToken();
}

/** A new service token (see {@link isServiceToken}). Only the caller ever sees it. */
export function generateServiceToken(): string {
  return SERVICE_PREFIX + generateToken();
}

/** Whether `token` has a service token's shape; like {@link isWellFormedToken}, before any hashing. */
export function isServiceToken(token: string): boolean {
  return SERVICE_TOKEN_PATTERN.test(token);
}

/**
 * Whether an `Authorization` value is a bearer meant as a service token (well-formed or not): only
 * such a request leaves the session path. A prefix test, cheap enough for every request.
 */
export function isServiceBearer(authorization: string): boolean {
  return /^Bearer[ ]+ghs_/i.test(authorization);
}

/** Whether `token` has a pending login token's shape; like {@link isWellFormedToken}, before any hashing. */
export function isPendingToken(token: string): boolean {
  return PENDING_TOKEN_PATTERN.test(token);
}

/**
 * Whether `token` has a session token's shape. Garbage of any size or alphabet is rejected here,
 * before hashing or touching storage, so a hostile cookie costs nothing and can never reach a
 * query; so is a pending login's token.
 */
export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** {@link hashToken} of a token of the right shape; undefined for anything else, unhashed. */
export function hashIfWellFormed(token: string | undefined): string | undefined {
  return token !== undefined && isWellFormedToken(token) ? hashToken(token) : undefined;
}

/** What the database keeps: SHA-256 of the token, hex. A dump of it signs no one in. */
export function hashToken(token: string): string {
  // The one-shot hash (Node ≥ 20.12) costs a third of a createHash() chain: it runs per request.
  return hash('sha256', token, 'hex');
}
