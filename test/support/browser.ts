/**
 * Real Chromium for the console's end-to-end tests: Debian's `/usr/bin/chromium` (never a
 * browser download), started once per suite with a fresh profile, driven over CDP by
 * playwright-core. Each test gets its own context (own cookie jar), which records every
 * request, CSP violation and page error so tests can assert "nothing left the origin".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { within } from './async.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Every test browser's flags: headless, no sandbox (root in CI), nothing fetched behind the test's back. */
const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];
/** The console tests' own: a plain-HTTP name that is not a secure context (console-operators.test.ts). */
const CONSOLE_FLAGS = ['--host-resolver-rules=MAP gatehouse.test 127.0.0.1'];

/** Which Chromium {@link startBrowser} runs, and with what besides {@link BASE_FLAGS}. */
export interface BrowserLaunch {
  /** Default {@link CHROMIUM_PATH}. */
  executablePath?: string;
  /** Default: the console tests' host mapping. */
  flags?: readonly string[];
}
/** Bound on any single browser step: a hung page fails the test instead of the run. */
export const BROWSER_TIMEOUT_MS = 10_000;

export interface TestBrowser {
  browser: Browser;
  /** A fresh context: its own cookies and storage; `viewport` defaults to a desktop. */
  context(options?: { viewport?: { width: number; height: number } }): Promise<RecordedContext>;
  close(): Promise<void>;
}

export interface RecordedContext {
  context: BrowserContext;
  page(): Promise<Page>;
  /** Every URL requested (HTTP and WebSocket), in order. */
  requests: string[];
  /** Console messages of type error, CSP violations among them, and uncaught page errors. */
  problems: string[];
  close(): Promise<void>;
}

function devToolsEndpoint(browserProcess: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    browserProcess.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    browserProcess.once('exit', (code) => reject(new Error(`chromium exited (${code}): ${output.slice(-500)}`)));
  });
}

/** Kills Chromium and its helpers (one process group) and waits until it has exited. */
function stop(browserProcess: ChildProcess): Promise<void> {
  if (browserProcess.exitCode !== null || browserProcess.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => browserProcess.once('exit', () => resolve()));
  if (browserProcess.pid !== undefined) process.kill(-browserProcess.pid, 'SIGKILL');
  return within(exited, 5_000, 'Chromium to exit');
}

function record(context: BrowserContext): RecordedContext {
  const requests: string[] = [];
  const problems: string[] = [];
  context.on('request', (request) => void requests.push(request.url()));
  const watch = (page: Page) => {
    page.on('websocket', (socket) => void requests.push(socket.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => void problems.push(`page error: ${error.message}`));
  };
  context.on('page', watch);
  return {
    context,
    requests,
    problems,
    page: async () => {
      const page = await context.newPage();
      page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
      return page;
    },
    close: () => context.close(),
  };
}

/** Starts Chromium (once per suite) with a fresh `--user-data-dir`, and connects to it. */
export async function startBrowser(launch: BrowserLaunch = {}): Promise<TestBrowser> {
  const { executablePath = CHROMIUM_PATH, flags = CONSOLE_FLAGS } = launch;
  const profile = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'));
  const browserProcess = spawn(
    executablePath,
    [...BASE_FLAGS, ...flags, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  try {
    const endpoint = await within(devToolsEndpoint(browserProcess), 20_000, 'Chromium to start');
    const browser = await chromium.connectOverCDP(endpoint, { timeout: 20_000 });
    return {
      browser,
      async context(options = {}) {
        const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
        return record(context);
      },
      async close() {
        // A graceful close lets Chromium finish writing its profile before the folder goes.
        const exited = new Promise<void>((resolve) => browserProcess.once('exit', () => resolve()));
        await (await browser.newBrowserCDPSession()).send('Browser.close').catch(() => {});
        await within(exited, 5_000, 'Chromium to close').catch(() => stop(browserProcess));
        rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      },
    };
  } catch (error) {
    await stop(browserProcess);
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    throw error;
  }
}

/** Requests that went anywhere but `origin` (its http and ws forms), ignoring the browser's own pages. */
export function foreignRequests(requests: readonly string[], origin: string): string[] {
  const wsOrigin = origin.replace(/^http/, 'ws');
  return requests.filter(
    (url) => !url.startsWith(`${origin}/`) && !url.startsWith(`${wsOrigin}/`) && !/^(about|data|blob):/.test(url),
  );
}
