/**
 * Other services as their teams would write them: an Express app and a Fastify app that check
 * Gatehouse sessions with `gatehouse/verify`, each run as its own Node process from a project
 * folder (the packed tarball installed there, see packed-package.ts), so that `express`,
 * `fastify` and `gatehouse/verify` resolve as they would for a user. Each app answers `GET /me`
 * (and, in Fastify, `GET /nested/me` from an encapsulated plugin) with the session it was given,
 * and prints its verifier's log lines as JSON, which the test reads with the time they arrived.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { within } from './async.js';

export type Framework = 'express' | 'fastify';

/** The verifier's options from the environment, and its log lines on stdout, one JSON object each. */
const PRELUDE = `import { createVerifier } from 'gatehouse/verify';
const print = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
const logAt = (level) => (message) => print({ log: level, message: String(message) });
const verifier = createVerifier({
  url: process.env.GATEHOUSE_URL,
  serviceToken: process.env.GATEHOUSE_SERVICE_TOKEN,
  requestTimeoutMs: Number(process.env.REQUEST_TIMEOUT_MS),
  logger: { info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
});
const me = (verified) => ({ sessionId: verified.session.id, username: verified.user.username });
`;

const APPS: Record<Framework, string> = {
  express: `import express from 'express';
${PRELUDE}
const app = express();
app.use(verifier.express());
app.get('/me', (req, res) => res.json(me(req.gatehouse)));
const server = app.listen(0, '127.0.0.1', () => print({ url: 'http://127.0.0.1:' + server.address().port }));
process.once('SIGTERM', async () => {
  await verifier.close();
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
`,
  fastify: `import Fastify from 'fastify';
${PRELUDE}
const app = Fastify();
await app.register(verifier.fastify());
app.get('/me', async (request) => me(request.gatehouse));
// Routes of an encapsulated plugin are guarded too: the verifier's plugin is not encapsulated.
await app.register(async (child) => child.get('/nested/me', async (request) => me(request.gatehouse)));
print({ url: await app.listen({ port: 0, host: '127.0.0.1' }) });
process.once('SIGTERM', async () => {
  await verifier.close();
  await app.close();
  process.exit(0);
});
`,
};

export interface AppLogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  /** `performance.now()` here when the line arrived. */
  at: number;
}

export interface ServiceApp {
  framework: Framework;
  url: string;
  readonly logs: readonly AppLogLine[];
  /** Resolves with the first log line at `level` matching `pattern` after `since`; rejects after `ms`. */
  waitForLog(level: AppLogLine['level'], pattern: RegExp, since: number, ms: number): Promise<AppLogLine>;
  /** `GET path` with the session cookie of `token` (none when undefined). */
  get(path: string, token: string | undefined): Promise<{ status: number; body: unknown; headers: Headers }>;
  stop(): Promise<void>;
}

export interface ServiceAppOptions {
  gatehouseUrl: string;
  serviceToken: string;
  requestTimeoutMs: number;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Writes the app into `projectDir` and starts it there. */
export async function startServiceApp(
  projectDir: string,
  framework: Framework,
  options: ServiceAppOptions,
): Promise<ServiceApp> {
  const file = join(projectDir, `${framework}-app.mjs`);
  writeFileSync(file, APPS[framework]);
  const child = spawn(process.execPath, [file], {
    cwd: projectDir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      GATEHOUSE_URL: options.gatehouseUrl,
      GATEHOUSE_SERVICE_TOKEN: options.serviceToken,
      REQUEST_TIMEOUT_MS: String(options.requestTimeoutMs),
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  const logs: AppLogLine[] = [];
  const listeners = new Set<() => void>();
  const url = within(
    new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const parsed = JSON.parse(line) as { url?: string; log?: AppLogLine['level']; message?: string };
        if (parsed.url) resolve(parsed.url);
        if (parsed.log) logs.push({ level: parsed.log, message: parsed.message ?? '', at: performance.now() });
        for (const listener of listeners) listener();
      });
      void exited.then(() => reject(new Error(`the ${framework} app exited with ${child.exitCode}`)));
    }),
    START_TIMEOUT_MS,
    `the ${framework} app to listen`,
  );
  try {
    return serviceApp(framework, await url, child, exited, logs, listeners);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

function serviceApp(
  framework: Framework,
  url: string,
  child: ChildProcess,
  exited: Promise<void>,
  logs: AppLogLine[],
  listeners: Set<() => void>,
): ServiceApp {
  return {
    framework,
    url,
    logs,
    waitForLog(level, pattern, since, ms) {
      const find = () => logs.find((line) => line.level === level && line.at >= since && pattern.test(line.message));
      let listener: (() => void) | undefined;
      const found = new Promise<AppLogLine>((resolve) => {
        listener = () => {
          const line = find();
          if (line) resolve(line);
        };
        listeners.add(listener);
        listener();
      });
      return within(found, ms, `a ${level} line ${pattern} from the ${framework} app`).finally(() =>
        listeners.delete(listener!),
      );
    },
    async get(path, token) {
      const response = await fetch(`${url}${path}`, {
        headers: token === undefined ? {} : { cookie: `gatehouse_session=${token}` },
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One round of {@link kickRounds}: how long the app still served the session. */
export interface KickRound {
  /** From the kick's request being sent to the app's first refusal (401). */
  fromKickMs: number;
  /** From the kick's answer (the call that ended the session returned) to that refusal. */
  fromReturnMs: number;
}

/** Longer than this without a refusal and the round fails outright (the bound under test is far less). */
const KICK_ROUND_TIMEOUT_MS = 5_000;

/**
 * `rounds` times: a new session is served by the app twice (the first asks Gatehouse, the second
 * comes from its cache), then `kick` ends it and the app is asked again and again, one request
 * at a time, until it refuses it (401). A 503 or anything but 200/401 fails the round, and so
 * does a lapse of the app's trust (a `warn` line) during the rounds: the second request was then
 * not served from the cache, and the refusal measured would not be the feed's.
 */
export async function kickRounds(
  app: ServiceApp,
  rounds: number,
  signIn: () => Promise<{ token: string; sessionId: string }>,
  kick: (sessionId: string) => Promise<void>,
): Promise<KickRound[]> {
  const results: KickRound[] = [];
  const startedAt = performance.now();
  const lapses = () => app.logs.filter((line) => line.level === 'warn' && line.at >= startedAt);
  for (let round = 1; round <= rounds; round++) {
    const { token, sessionId } = await signIn();
    for (let i = 0; i < 2; i++) {
      const served = await app.get('/me', token);
      if (served.status !== 200) throw new Error(`round ${round}: the new session got ${served.status}`);
    }
    const sentAt = performance.now();
    await kick(sessionId);
    const returnedAt = performance.now();
    for (;;) {
      const { status } = await app.get('/me', token);
      const now = performance.now();
      if (status === 401) {
        results.push({ fromKickMs: now - sentAt, fromReturnMs: now - returnedAt });
        break;
      }
      if (status !== 200) throw new Error(`round ${round}: the app answered ${status}`);
      if (now - sentAt > KICK_ROUND_TIMEOUT_MS)
        throw new Error(`round ${round}: still served after ${now - sentAt} ms`);
    }
    const lapsed = lapses();
    if (lapsed.length > 0) throw new Error(`round ${round}: the app's cache was off: ${lapsed[0]!.message}`);
  }
  return results;
}
