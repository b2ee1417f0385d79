/**
 * Verifying a passkey assertion. Until `finishPasskeyLogin` exists (it needs the pending login
 * and proven sessions of the second-factor work), the tests reach the rule through the app's
 * services, with the site the server's own HTTP requests get: the rule is the same one the
 * mutation will call.
 */
import type { DeviceInfo } from '../../src/sessions/types.js';
import { GatehouseError } from '../../src/sessions/errors.js';
import { createWebauthnSites } from '../../src/http/webauthn-site.js';
import type { TestServer } from './server.js';

export type AssertionOutcome =
  { userId: string; code?: undefined; message?: undefined } | { userId?: undefined; code: string; message: string };

let addresses = 0;
/** A TEST-NET-2 address of its own per call: failures of one test count against no other's. */
const nextAddress = () => `198.51.100.${++addresses % 250}`;

export async function verifyAssertion(
  server: TestServer,
  response: unknown,
  options: { expectedUserId?: string; ipAddress?: string } = {},
): Promise<AssertionOutcome> {
  const { config } = server.app;
  const site = createWebauthnSites({
    ...{ rpId: config.webauthnRpId, origins: config.webauthnOrigins },
    ...{ allowedOrigins: config.allowedOrigins, trustProxy: config.trustProxy },
  })({ host: new URL(server.url).host, https: false });
  const device: DeviceInfo = { ipAddress: options.ipAddress ?? nextAddress(), userAgent: 'soft-authenticator' };
  try {
    const context = options.expectedUserId ? { device, expectedUserId: options.expectedUserId } : { device };
    const proof = await server.app.services.passkeys.login.verify(response, site, context);
    return { userId: proof.user.id };
  } catch (error) {
    if (error instanceof GatehouseError) return { code: error.code, message: error.message };
    throw error;
  }
}
