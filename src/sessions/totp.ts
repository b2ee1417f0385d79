/**
 * Authenticator apps: RFC 6238 TOTP with the parameters every app supports (SHA-1, 6 digits,
 * 30-second steps), computed by `otpauth`, not by hand.
 *
 * Rules: a code is checked against the current step and one either way (a phone's clock may be
 * off, the user may type slowly), and only against steps later than the last one accepted for
 * that factor, so a code works once: an onlooker who sees it typed cannot use it again.
 */
import { HOTP, Secret, TOTP } from 'otpauth';

export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps either way of the current one that are accepted. */
export const TOTP_WINDOW = 1;
const ALGORITHM = 'SHA1';
/** 160 bits, as RFC 4226 recommends for HMAC-SHA-1. */
const SECRET_BYTES = 20;
/** What apps show above the code. */
const ISSUER = 'Gatehouse';

/** A new secret, base32 (as apps and `otpauth://` URIs take it). Only the enrolling user sees it. */
export function newTotpSecret(): string {
  // otpauth draws the bytes from node:crypto's randomBytes.
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** The `otpauth://totp/…` URI an app reads from a QR code: issuer Gatehouse, labelled with the username. */
export function totpUri(secret: string, username: string): string {
  return new TOTP({
    issuer: ISSUER,
    label: username,
    secret: Secret.fromBase32(secret),
    algorithm: ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

/** The time step `at` falls in. */
export function totpStep(at: Date): number {
  return TOTP.counter({ period: TOTP_PERIOD_SECONDS, timestamp: at.getTime() });
}

/**
 * The step `code` (6 digits) matches among the current one and {@link TOTP_WINDOW} either way,
 * the earliest first, leaving out steps at or before `lastStep`; undefined when none does.
 */
export function matchTotpStep(secret: string, code: string, at: Date, lastStep: number | null): number | undefined {
  const key = Secret.fromBase32(secret);
  const current = totpStep(at);
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    if (lastStep !== null && step <= lastStep) continue;
    // One counter at a time (window 0): otpauth compares in constant time.
    const options = { token: code, secret: key, algorithm: ALGORITHM, digits: TOTP_DIGITS, counter: step };
    if (HOTP.validate({ ...options, window: 0 }) !== null) return step;
  }
  return undefined;
}
