/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): every request carries
 * `webhook-id` (the delivery's id, the same on every attempt, for the receiver to deduplicate),
 * `webhook-timestamp` (this attempt's time in seconds, which receivers check against replays)
 * and `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed
 * with the secret's bytes (the base64 after `whsec_`).
 */
import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
/** 256 bits: the size of the HMAC-SHA256 key. */
const SECRET_BYTES = 32;

/** A new secret, `whsec_` and 32 random bytes in base64, as the spec's libraries take it. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

export function signatureHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}
