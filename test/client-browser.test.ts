/**
 * gatehouse/client and gatehouse/react in Chromium, as a front end ships them: the page's script
 * is bundled by esbuild (platform browser) from the PACKED package installed in a fresh project
 * (support/packed-package.ts), and the page is served from another origin of the same site than
 * Gatehouse (http://localhost:<page port> and http://localhost:<Gatehouse's port>, the page's
 * origin in ALLOWED_ORIGINS). It signs in, renders the session with `useSession()`, hears an
 * admin's kick as KICKED through `onSessionEnded`, and opens no socket after the end (no
 * anonymous reconnect). The bundle holds none of the server's modules.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build, type Metafile } from 'esbuild';
import type { Page } from 'playwright-core';
import { KickSessionDocument } from './generated/graphql.js';
import { sleep, waitFor } from './support/async.js';
import { startBrowser, type RecordedContext, type TestBrowser } from './support/browser.js';
import { packedProject } from './support/packed-package.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createUser, passwordOf } from './support/sessions.js';

const WAIT_MS = 10_000;
/** graphql-ws would retry a closed socket within 1.3–4 s (docs/front-ends.md): watched longer than that. */
const NO_RECONNECT_MS = 4_500;
/** Packages only the server uses: none may reach a browser bundle. */
const SERVER_PACKAGES = [
  'knex',
  'objection',
  'sqlite3',
  'pg',
  'jose',
  '@node-rs/argon2',
  'graphql-yoga',
  'graphql',
  'ws',
  'pino',
  '@simplewebauthn/server',
  'prom-client',
];

/** The page's script: the client and the React hook as an app imports them, nothing else of Gatehouse. */
const PAGE_SCRIPT = `
import { createClient } from 'gatehouse/client';
import { GatehouseProvider, useSession } from 'gatehouse/react';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

const client = createClient({ url: window.GATEHOUSE_URL });
const ends = [];
client.onSessionEnded((reason, event) => ends.push({ reason, sessionId: event.sessionId }));

function Status() {
  const { status, user, endedReason } = useSession();
  return createElement('p', { id: 'status' }, [status, user?.username, endedReason].filter(Boolean).join(' '));
}

createRoot(document.getElementById('root')).render(createElement(GatehouseProvider, { client }, createElement(Status)));

window.app = {
  ends,
  login: (username, password) => client.login(username, password).then((result) => result.nextStep),
  me: () => client.me().then((user) => user?.username ?? null),
  sessionId: () => client.state.session?.id ?? null,
};
`;

/** What the page puts on `window.app` for the test to call. */
interface PageApp {
  ends: Array<{ reason: string | null; sessionId: string }>;
  login(username: string, password: string): Promise<string>;
  me(): Promise<string | null>;
  sessionId(): string | null;
}

/** The page's globals, as the test's functions read them in the page (`page.evaluate` sends their source). */
type PageGlobals = typeof globalThis & { app: PageApp };

interface Bundle {
  code: string;
  inputs: string[];
}

/** The page script bundled from the packed project, React and all: one copy of React, the app's own. */
async function bundlePage(): Promise<Bundle> {
  const project = await packedProject();
  const entry = join(project.dir, 'page.mjs');
  writeFileSync(entry, PAGE_SCRIPT);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys((result.metafile as Metafile).inputs) };
}

/** A plain HTTP server for the page: `/` and `/app.js`. */
async function servePage(bundle: string, gatehouseUrl: () => string): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.url === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><title>An app</title><div id="root"></div>` +
          `<script>window.GATEHOUSE_URL = ${JSON.stringify(gatehouseUrl())};</script>` +
          `<script type="module" src="/app.js"></script>`,
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe(
  'gatehouse/client in Chromium, from the packed package, on another origin of the same site',
  {
    timeout: 600_000,
  },
  () => {
    let bundle: Bundle;
    let page: { server: Server; port: number };
    let gatehouse: TestServer;
    let gatehouseUrl: string;
    let browser: TestBrowser;

    before(async () => {
      bundle = await bundlePage();
      page = await servePage(bundle.code, () => gatehouseUrl);
      const pageOrigin = `http://localhost:${page.port}`;
      [gatehouse, browser] = await Promise.all([
        startTestServer({ env: { ALLOWED_ORIGINS: pageOrigin } }),
        startBrowser({ flags: [] }),
      ]);
      gatehouseUrl = gatehouse.url.replace('127.0.0.1', 'localhost');
      await createUser(await gatehouse.adminClient(), 'alice');
    });
    after(async () => {
      await browser?.close();
      await gatehouse?.stop();
      page?.server.close();
    });

    it('the bundle is the packed client and holds none of the server’s modules', () => {
      assert.ok(
        bundle.inputs.some((input) => input.includes('node_modules/gatehouse/dist/src/client/')),
        'the client comes from the installed package',
      );
      const server = bundle.inputs.filter((input) =>
        SERVER_PACKAGES.some((name) => input.includes(`node_modules/${name}/`)),
      );
      assert.deepEqual(server, []);
      assert.ok(!bundle.inputs.some((input) => /(^|\/)src\/(sessions|graphql|http|storage)\//.test(input)));
    });

    it('signs in across origins, hears an admin’s kick as KICKED, and opens no socket afterwards', async () => {
      const recorded: RecordedContext = await browser.context();
      const tab: Page = await recorded.page();
      const sockets: string[] = [];
      tab.on('websocket', (socket) => void sockets.push(socket.url()));
      await tab.goto(`http://localhost:${page.port}/`);
      await tab.locator('#status', { hasText: 'signedOut' }).waitFor();

      assert.equal(
        await tab.evaluate(([username, password]) => (globalThis as PageGlobals).app.login(username, password), [
          'alice',
          passwordOf('alice'),
        ] as const),
        'DONE',
      );
      await tab.locator('#status', { hasText: 'signedIn alice' }).waitFor();
      assert.equal(
        await tab.evaluate(() => (globalThis as PageGlobals).app.me()),
        'alice',
        'the cookie goes with requests to the other origin',
      );
      const sessionId = await tab.evaluate(() => (globalThis as PageGlobals).app.sessionId());
      assert.ok(sessionId);
      await waitFor('the socket to watch the session', () => gatehouse.app.core.watcher.watchCount(sessionId) >= 3, {
        timeoutMs: WAIT_MS,
      });
      assert.deepEqual(sockets, [`${gatehouseUrl.replace(/^http/, 'ws')}/graphql`], 'one socket, to Gatehouse');

      await (await gatehouse.adminClient()).data(KickSessionDocument, { sessionId });
      await tab.locator('#status', { hasText: 'signedOut KICKED' }).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(await tab.evaluate(() => (globalThis as PageGlobals).app.ends), [
        { reason: 'KICKED', sessionId },
      ]);
      assert.equal(
        await tab.evaluate(() => (globalThis as PageGlobals).app.me()),
        null,
        'the old cookie is anonymous now',
      );

      await sleep(NO_RECONNECT_MS);
      assert.equal(sockets.length, 1, 'no socket after the end: it would be anonymous');
      assert.deepEqual(recorded.problems, []);
      await recorded.close();
    });
  },
);
