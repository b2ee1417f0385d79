/**
 * Which relying party a passkey ceremony belongs to (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS, and by
 * default the request's own host and origin with ALLOWED_ORIGINS): the rule on its own, then
 * over real HTTP with each setting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebauthnSites } from '../src/http/webauthn-site.js';
import { GatehouseError } from '../src/sessions/errors.js';
import {
  finishRegistration,
  loginOptions,
  passkeyLogin,
  refusal,
  registerPasskey,
  registrationOptions,
  userIdOf,
} from './support/passkeys.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';
import { SoftAuthenticator } from './support/soft-authenticator.js';

const defaults = { rpId: undefined, origins: [], allowedOrigins: [], trustProxy: false };

describe('passkey sites: the rule', () => {
  it("by default: the Host's name is the RP ID, and its origin over the request's scheme is allowed", () => {
    const site = createWebauthnSites(defaults)({ host: 'Login.Example.com:8443', https: true });
    assert.equal(site.rpId, 'login.example.com');
    assert.equal(site.allowsOrigin('https://login.example.com:8443'), true);
    assert.equal(site.allowsOrigin('http://login.example.com:8443'), false, 'not the scheme the request came over');
    assert.equal(site.allowsOrigin('https://login.example.com'), false, 'not its port');
    assert.equal(site.allowsOrigin('https://other.example.com:8443'), false);
  });

  it('a default port is no part of the origin', () => {
    const sites = createWebauthnSites(defaults);
    assert.equal(sites({ host: 'example.com:443', https: true }).allowsOrigin('https://example.com'), true);
    assert.equal(sites({ host: 'example.com:80', https: false }).allowsOrigin('http://example.com'), true);
    assert.equal(sites({ host: 'example.com:80', https: true }).allowsOrigin('https://example.com:80'), true);
  });

  it('ALLOWED_ORIGINS are allowed too, wildcards matched as origins.ts matches them', () => {
    const site = createWebauthnSites({
      ...defaults,
      allowedOrigins: ['https://*.example.org', 'https://app.example.net'],
    })({
      host: 'gatehouse.example.org',
      https: true,
    });
    assert.equal(site.allowsOrigin('https://shop.example.org'), true);
    assert.equal(site.allowsOrigin('https://a.b.example.org'), true);
    assert.equal(site.allowsOrigin('https://example.org'), false, 'a wildcard stands for one label or more');
    assert.equal(site.allowsOrigin('http://shop.example.org'), false, "the entry's scheme");
    assert.equal(site.allowsOrigin('https://app.example.net'), true);
    assert.equal(site.allowsOrigin('https://gatehouse.example.org'), true, 'its own');
  });

  it('WEBAUTHN_RP_ID replaces the host; WEBAUTHN_ORIGINS replaces every default origin', () => {
    const site = createWebauthnSites({
      ...defaults,
      rpId: 'example.com',
      origins: ['https://app.example.com'],
      allowedOrigins: ['https://*.example.org'],
    })({ host: 'internal-host:4000', https: false });
    assert.equal(site.rpId, 'example.com');
    assert.equal(site.allowsOrigin('https://app.example.com'), true);
    assert.equal(site.allowsOrigin('http://internal-host:4000'), false);
    assert.equal(site.allowsOrigin('https://shop.example.org'), false);
  });

  it('without WEBAUTHN_RP_ID, a request without a usable Host is BAD_USER_INPUT', () => {
    const sites = createWebauthnSites(defaults);
    for (const host of [undefined, '', 'bad host', 'example.com:99999999']) {
      assert.throws(
        () => sites({ host, https: false }),
        (error: unknown) => error instanceof GatehouseError && error.code === 'BAD_USER_INPUT',
        String(host),
      );
    }
    assert.equal(
      createWebauthnSites({ ...defaults, rpId: 'example.com' })({ host: undefined, https: true }).rpId,
      'example.com',
    );
    assert.equal(sites({ host: '[::1]:4000', https: false }).allowsOrigin('http://[::1]:4000'), true);
  });
});

describe('passkey sites: WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS over HTTP (sqlite)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      env: { ...QUIET_SWEEPER, WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://app.example.com' },
    });
  });
  after(() => server?.stop());

  it('options name the configured RP ID; only the configured origin may register and sign in', async () => {
    const client = await server.userClient('xena');
    const options = await registrationOptions(client);
    assert.equal(options.rp.id, 'example.com');
    const own = await finishRegistration(client, new SoftAuthenticator(server.url).register(options));
    assert.equal(refusal(own), 'INVALID_SECOND_FACTOR', "the server's own origin is not configured");
    const app = new SoftAuthenticator('https://app.example.com');
    await registerPasskey(client, app);
    const login = await loginOptions(server.client());
    assert.equal(login.rpId, 'example.com');
    assert.deepEqual(await passkeyLogin(server, app.authenticate(login)), { userId: await userIdOf(client) });
  });
});

describe('passkey sites: TRUST_PROXY and X-Forwarded-Proto over HTTP (sqlite)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { ...QUIET_SWEEPER, TRUST_PROXY: 'on' } });
  });
  after(() => server?.stop());

  it("behind a proxy that says https, the server's own origin is its https one", async () => {
    await createUser(await server.adminClient(), 'yara');
    const { client } = await signIn(server, 'yara', undefined, { 'x-forwarded-proto': 'https' });
    const https = new SoftAuthenticator(server.url.replace(/^http:/, 'https:'));
    const refused = await finishRegistration(
      client,
      new SoftAuthenticator(server.url).register(await registrationOptions(client)),
    );
    assert.equal(refusal(refused), 'INVALID_SECOND_FACTOR', 'http:// is not where the browser was');
    await registerPasskey(client, https);
  });
});
