/**
 * Operators' tools over plain HTTP (issue 10): who gets introspection and GraphiQL (`on`, `off`,
 * `admins`, the production default), the console's files and their caching and policy, what a
 * browser opening `/graphql` reads, and refused origins in the log. What a real browser does
 * with all this is in test/console.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig, ConfigError } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { SchemaTypeNamesDocument, SessionTypeFieldsDocument, TypenameDocument } from './generated/graphql.js';
import { assertRefused, type TestClient } from './support/client.js';
import { rawRequest } from './support/http.js';
import { openSocket, subscribeWs, tryUpgrade } from './support/live.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { waitFor } from './support/async.js';

const BOUNDED = { timeout: 30_000 };

/** A browser's navigation to `path`, redirects not followed. */
async function navigate(server: TestServer, path: string, client?: TestClient) {
  const response = await fetch(`${server.url}${path}`, {
    headers: { accept: 'text/html,application/xhtml+xml', ...(client?.cookie ? { cookie: client.cookie } : {}) },
    redirect: 'manual',
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function recordingLogger(lines: LogLine[]): Logger {
  const record =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, fields });
  return { info: record('info'), warn: record('warn'), error: record('error') };
}

describe('settings: GRAPHIQL and GRAPHQL_INTROSPECTION', () => {
  it('take on, off or admins (booleans still work); admins is the production default', () => {
    assert.equal(loadConfig({}).graphiql, 'on');
    assert.equal(loadConfig({ NODE_ENV: 'production' }).graphiql, 'admins');
    assert.equal(loadConfig({ NODE_ENV: 'production' }).introspection, 'admins');
    assert.equal(loadConfig({ GRAPHIQL: 'Admins', GRAPHQL_INTROSPECTION: 'false' }).graphiql, 'admins');
    assert.equal(loadConfig({ GRAPHQL_INTROSPECTION: 'false' }).introspection, 'off');
    assert.equal(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'yes' }).graphiql, 'on');
    assert.throws(
      () => loadConfig({ GRAPHIQL: 'admin' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, 'Invalid setting GRAPHIQL="admin": expected on, off or admins');
        return true;
      },
    );
  });
});

describe('production defaults: introspection and GraphiQL for admins only (sqlite)', () => {
  let server: TestServer;
  let admin: TestClient;
  let user: TestClient;
  const lines: LogLine[] = [];

  before(async () => {
    server = await startTestServer({
      env: { ...QUIET_SWEEPER, NODE_ENV: 'production', COOKIE_SECURE: 'off', ALLOWED_ORIGINS: 'http://app.test' },
      overrides: { logger: recordingLogger(lines) },
    });
    admin = await server.adminClient();
    user = await server.userClient('alice');
  });
  after(() => server.stop());

  it('introspection: UNAUTHENTICATED signed out, FORBIDDEN for a user, answered for an admin', BOUNDED, async () => {
    for (const document of [SchemaTypeNamesDocument, SessionTypeFieldsDocument]) {
      assertRefused(await server.client().request(document), 'UNAUTHENTICATED');
      assertRefused(await user.request(document), 'FORBIDDEN');
      const answer = await admin.request(document);
      assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
    }
    // __typename is not introspection: clients add it everywhere.
    assert.deepEqual((await server.client().request(TypenameDocument)).data, { __typename: 'Query' });
  });

  it('introspection hidden in a fragment or an inline fragment is refused too', BOUNDED, async () => {
    for (const query of [
      '{ ... on Query { __schema { queryType { name } } } }',
      'query { ...F } fragment F on Query { __type(name: "User") { name } }',
    ]) {
      assertRefused(await user.request(query), 'FORBIDDEN', query);
    }
  });

  it('introspection over a WebSocket follows the same rule', BOUNDED, async () => {
    const anonymous = openSocket(server);
    const refused = subscribeWs(anonymous.client, SchemaTypeNamesDocument);
    await refused.received(1);
    assert.equal(refused.events[0]?.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    const signedIn = openSocket(server, { cookie: admin.cookie });
    const answered = subscribeWs(signedIn.client, SchemaTypeNamesDocument);
    await answered.received(1);
    assert.equal(answered.events[0]?.errors, undefined);
    await Promise.all([anonymous.dispose(), signedIn.dispose()]);
  });

  it('GraphiQL: an admin gets it with its policy; anyone else is sent to the console', BOUNDED, async () => {
    const page = await navigate(server, '/graphql', admin);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.body, /<title>GraphiQL · Gatehouse<\/title>/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'; script-src 'self';/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    for (const client of [undefined, user]) {
      const away = await navigate(server, '/graphql', client);
      assert.equal(away.status, 302);
      assert.equal(away.headers.get('location'), '/console/');
    }
  });

  it('a refused CORS origin and a refused WebSocket origin are logged at warn, with the IP', BOUNDED, async () => {
    const preflight = await rawRequest(server.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    const upgrade = await tryUpgrade(server, { origin: 'http://localhost:5173' });
    assert.deepEqual(upgrade, { accepted: false, status: 403 });
    const refusals = await waitFor('both refusals in the log', () => {
      const found = lines.filter((line) => line.level === 'warn' && line.message.startsWith('refused origin'));
      return found.length >= 2 && found;
    });
    assert.deepEqual(
      refusals.map((line) => [line.fields.where, line.fields.origin, line.fields.ip]),
      [
        ['cors', 'http://localhost:5173', '127.0.0.1'],
        ['websocket', 'http://localhost:5173', '127.0.0.1'],
      ],
    );
    // The server's own origin and a listed one are not refusals.
    lines.length = 0;
    await rawRequest(server.url, { method: 'OPTIONS', headers: { origin: 'http://app.test' } });
    await rawRequest(server.url, {
      headers: { origin: server.url, 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    assert.deepEqual(lines, []);
  });
});

describe('the console’s files (sqlite)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: QUIET_SWEEPER });
  });
  after(() => server.stop());

  it('/ redirects to /console/; the page is not cached and carries the policy', BOUNDED, async () => {
    const root = await navigate(server, '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/console/');
    for (const path of ['/console', '/console/']) {
      const page = await navigate(server, path);
      assert.equal(page.status, 200, path);
      assert.equal(page.headers.get('cache-control'), 'no-cache');
      const policy = page.headers.get('content-security-policy') ?? '';
      assert.match(policy, /^default-src 'self'; /);
      assert.doesNotMatch(policy, /unsafe|data:|https?:/);
      assert.doesNotMatch(page.body, /<script>|<script [^>]*>[^<]/, 'no inline script');
    }
  });

  it('hashed assets are cached for a year, gzipped on request; nothing else is served', BOUNDED, async () => {
    const page = await navigate(server, '/console/');
    const script = /src="(\/console\/assets\/console-[\w-]+\.js)"/.exec(page.body)?.[1];
    assert.ok(script, page.body);
    const asset = await rawRequest(server.url, { method: 'GET', path: script, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(asset.headers['content-encoding'], 'gzip');
    assert.match(asset.headers['content-type'] ?? '', /^text\/javascript/);
    for (const path of [
      '/console/assets/nope.js',
      '/console/graphiql.html',
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/assets/..%2f..%2fpackage.json',
    ]) {
      const response = await rawRequest(server.url, { method: 'GET', path });
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(response.body, /gatehouse/i, path);
    }
  });
});
