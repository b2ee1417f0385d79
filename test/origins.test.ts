/**
 * `ALLOWED_ORIGINS` with wildcards over subdomains (`https://*.example.com`): strict at start
 * (a bad entry stops it, naming the setting), strict in matching (one or more labels under the
 * domain, same scheme and port, never the domain itself nor a look-alike), and the same answer
 * for CORS and WebSocket upgrades over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { print } from 'graphql';
import { ConfigError, loadConfig } from '../src/config.js';
import { createOriginMatcher } from '../src/http/origins.js';
import { WhoamiDocument } from './generated/graphql.js';
import { rawRequest } from './support/http.js';
import { tryUpgrade } from './support/live.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';

const BOUNDED = { timeout: 60_000 };

const allowedOrigins = (value: string) => loadConfig({ ALLOWED_ORIGINS: value }).allowedOrigins;

describe('ALLOWED_ORIGINS at start', () => {
  it('takes origins and wildcards, normalised: lower case, punycode, no default port', () => {
    const cases: Array<[string, string[]]> = [
      ['https://*.example.com', ['https://*.example.com']],
      ['HTTPS://*.Example.COM', ['https://*.example.com']],
      ['https://*.example.com:443', ['https://*.example.com']],
      ['http://*.dev.example.net:8080', ['http://*.dev.example.net:8080']],
      ['https://*.bücher.example', ['https://*.xn--bcher-kva.example']],
      ['https://bücher.example', ['https://xn--bcher-kva.example']],
      [
        'https://app.example.org, https://*.example.com,http://localhost:5173',
        ['https://app.example.org', 'https://*.example.com', 'http://localhost:5173'],
      ],
    ];
    for (const [value, expected] of cases) assert.deepEqual(allowedOrigins(value), expected, value);
  });

  it('refuses anything else, with a message naming ALLOWED_ORIGINS, the value and the entry', () => {
    const refused: Array<[string, RegExp]> = [
      ['*', /leftmost label/],
      ['https://*', /leftmost label/],
      ['*.example.com', /leftmost label/],
      ['https://a*.example.com', /leftmost label/],
      ['https://*a.example.com', /leftmost label/],
      ['https://a.*.example.com', /leftmost label/],
      ['https://*.*.example.com', /leftmost label/],
      ['https://example.*', /leftmost label/],
      ['https://*.example.com:*', /leftmost label/],
      ['https://*.com', /two or more labels/],
      ['https://*.localhost', /two or more labels/],
      ['https://*.example.com.', /two or more labels/],
      ['https://*.exa_mple.com', /two or more labels/],
      ['https://*.192.168.0.1', /not an origin/],
      ['https://*.example.com/', /no path/],
      ['https://*.example.com/app', /no path/],
      ['ftp://*.example.com', /http or https/],
      ['https://app.example.com/', /no path/],
      ['https://app.example.com?x=1', /no path/],
      ['https://app.example.com#top', /no path/],
      ['https://user@app.example.com', /no path/],
      ['ftp://app.example.com', /http or https/],
      ['null', /not an origin/],
      ['https://app.example.org, https://*.com', /two or more labels/],
    ];
    for (const [value, reason] of refused) {
      assert.throws(
        () => loadConfig({ ALLOWED_ORIGINS: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `${value}: ${String(error)}`);
          assert.equal(error.setting, 'ALLOWED_ORIGINS');
          assert.ok(error.message.includes('ALLOWED_ORIGINS'), error.message);
          assert.ok(error.message.includes(JSON.stringify(value)), error.message);
          assert.match(error.message, reason, value);
          return true;
        },
        value,
      );
    }
  });
});

describe('which origins a wildcard matches', () => {
  const listed = createOriginMatcher(
    allowedOrigins(
      'https://*.example.com, https://app.example.org, http://*.dev.example.net:8080, https://*.bücher.example',
    ),
  );

  it('one or more labels under the domain, with the same scheme and port', () => {
    for (const origin of [
      'https://a.example.com',
      'https://a.b.example.com',
      'https://preview-123.example.com',
      'https://xn--80ak6aa92e.example.com',
      'https://A.Example.COM',
      'https://a.example.com:443',
      'http://a.dev.example.net:8080',
      'https://shop.xn--bcher-kva.example',
      'https://app.example.org',
    ]) {
      assert.equal(listed(origin), true, origin);
    }
  });

  it('never the domain itself, another scheme or port, a look-alike, or anything that is not an origin', () => {
    for (const origin of [
      'https://example.com',
      'http://a.example.com',
      'https://a.example.com:8443',
      'https://evil-example.com',
      'https://aexample.com',
      'https://example.com.evil.net',
      'https://a.example.com.evil.net',
      'https://.example.com',
      'https://a..example.com',
      'https://a_b.example.com',
      'https://-a.example.com',
      'https://a.example.com/',
      'https://a.example.com@evil.net',
      'https://evil.net#.example.com',
      'https://*.example.com',
      'http://a.dev.example.net',
      'https://a.dev.example.net:8080',
      'https://xn--bcher-kva.example',
      'https://shop.bücher.example',
      'https://other.example.org',
      'null',
      '',
    ]) {
      assert.equal(listed(origin), false, origin);
    }
  });
});

describe('wildcard origins over real HTTP: CORS and WebSocket upgrades (sqlite)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ env: { ...QUIET_SWEEPER, ALLOWED_ORIGINS: 'https://*.example.com' } });
  });
  after(() => server.stop());

  const preflight = (origin: string) =>
    rawRequest(server.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  const post = (origin: string) =>
    rawRequest(server.url, {
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ query: print(WhoamiDocument) }),
    });

  it('a subdomain gets CORS answers with credentials, on the preflight and the POST', BOUNDED, async () => {
    for (const origin of ['https://app.example.com', 'https://pr-7.preview.example.com']) {
      const answer = await preflight(origin);
      assert.equal(answer.status, 204, origin);
      assert.equal(answer.headers['access-control-allow-origin'], origin);
      assert.equal(answer.headers['access-control-allow-credentials'], 'true');
      const response = await post(origin);
      assert.equal(response.status, 200, origin);
      assert.equal(response.headers['access-control-allow-origin'], origin);
      assert.equal(response.headers['access-control-allow-credentials'], 'true');
    }
  });

  it('the domain itself and look-alikes get none: the preflight is 403 FORBIDDEN', BOUNDED, async () => {
    for (const origin of [
      'https://example.com',
      'https://evil-example.com',
      'https://example.com.evil.net',
      'http://app.example.com',
      'https://app.example.com:8443',
    ]) {
      const answer = await preflight(origin);
      assert.equal(answer.status, 403, origin);
      assert.equal(answer.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(
        (JSON.parse(answer.body) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code,
        'FORBIDDEN',
      );
      const response = await post(origin);
      assert.equal(response.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(response.headers['access-control-allow-credentials'], undefined, origin);
    }
  });

  it(
    'a WebSocket from a subdomain opens; from the domain itself or a look-alike it is refused (403)',
    BOUNDED,
    async () => {
      for (const origin of ['https://app.example.com', 'https://a.b.example.com']) {
        const outcome = await tryUpgrade(server, { origin });
        assert.ok(outcome.accepted, `${origin}: refused`);
        outcome.socket.close();
      }
      for (const origin of ['https://example.com', 'https://evil-example.com', 'https://example.com.evil.net']) {
        const outcome = await tryUpgrade(server, { origin });
        assert.equal(outcome.accepted ? 'open' : outcome.status, 403, origin);
      }
    },
  );
});
