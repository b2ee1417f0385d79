/**
 * Chromium 150 for the DBSC end-to-end test: the only Chromium on this kind of machine that
 * speaks DBSC (Debian's current one ignores `Secure-Session-Registration`). It is not installed:
 * scripts/fetch-chromium150.sh unpacks Debian's package into a cache folder outside the work
 * tree (first run ~20 s and 103 MB, then ~0.2 s). When it cannot, the suite is skipped with the
 * script's one line as the reason.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBrowser, type TestBrowser } from './browser.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/fetch-chromium150.sh');

/** Where the unpacked browser is kept between runs: `$TMPDIR/gatehouse-chromium150` (/tmp when unset). */
export const CHROMIUM150_CACHE = join(tmpdir(), 'gatehouse-chromium150');

/**
 * Bound on the fetch. A first run takes ~20 s here; past this the suite is skipped rather than
 * holding CI (the brief: the test adds at most about a minute).
 */
export const FETCH_TIMEOUT_MS = 90_000;

/** What makes Chromium 150 run DBSC over http://localhost, with software keys (no TPM here). */
export const DBSC_FLAGS = [
  '--enable-features=DeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting',
];

export type Chromium150 = { path: string; skip?: undefined } | { path?: undefined; skip: string };

/** Runs the fetch script: the binary's path, or why not (the script's line, or the timeout). */
export function fetchChromium150(timeoutMs = FETCH_TIMEOUT_MS): Promise<Chromium150> {
  return new Promise((resolve) => {
    // Its own process group, so a timeout ends apt-get and dpkg with it.
    const child = spawn('bash', [SCRIPT, CHROMIUM150_CACHE], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone between the timer and the kill.
      }
      resolve({ skip: `fetch-chromium150: no answer within ${timeoutMs / 1000} s (a slow mirror?)` });
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ skip: `fetch-chromium150: ${error.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const path = stdout.trim();
      if (code === 0 && path !== '') resolve({ path });
      else resolve({ skip: stderr.trim().split('\n').at(-1) || `fetch-chromium150: exit ${code}, nothing said` });
    });
  });
}

/** Chromium 150 with DBSC on, started and connected as the console tests' browser is. */
export function startChromium150(executablePath: string): Promise<TestBrowser> {
  return startBrowser({ executablePath, flags: DBSC_FLAGS });
}
