/**
 * The browser side of Gatehouse, on its own origin: the console at `/console` (`/` redirects
 * there), GraphiQL for a browser's GET of `/graphql`, and a plain answer when GraphiQL is not
 * for that browser. Both pages come from the Vite build (console/vite.config.ts).
 *
 * Safety rules:
 * - Pages carry a Content-Security-Policy with `default-src 'self'` and scripts only from this
 *   origin: no inline script, no `eval`, no CDN. GraphiQL's editor (Monaco) writes its own
 *   `<style>` elements and ships fonts as `data:` URLs, so its page also allows inline styles
 *   and `data:` images and fonts: never for scripts.
 * - With `GRAPHIQL=admins`, GraphiQL's page is served only to a browser holding an ADMIN
 *   session; anyone else is sent to the console. That costs one viewer lookup on this GET,
 *   which never reaches Yoga. GraphiQL's code itself is public; what it could reveal, the
 *   schema, is guarded by the introspection setting.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Access } from '../config.js';
import { sendError } from './errors.js';
import { StaticFiles } from './static-files.js';
import type { ViewerResolver } from './viewer.js';

/** Where the console lives; the Vite config's `base` says the same. */
export const CONSOLE_PATH = '/console/';

const COMMON_POLICY = ["object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"];
const CONSOLE_POLICY = ["default-src 'self'", ...COMMON_POLICY].join('; ');
const GRAPHIQL_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  ...COMMON_POLICY,
].join('; ');

const GRAPHIQL_OFF =
  'GraphiQL is off on this server (GRAPHIQL=off).\n\n' +
  'The GraphQL API answers POST requests with Content-Type: application/json at this address.\n' +
  `The console is at ${CONSOLE_PATH}\n`;

/** The build folder, `dist/console/` in the project, whether this runs from `src/` or `dist/src/`. */
function buildFolder(): string {
  const toProject = import.meta.url.includes('/dist/src/http/') ? '../../../' : '../../';
  return fileURLToPath(new URL(`${toProject}dist/console/`, import.meta.url));
}

export interface BrowserPagesOptions {
  /** Who gets GraphiQL (`GRAPHIQL`). */
  graphiql: Access;
  resolveViewer: ViewerResolver;
  /** The Vite build's folder. Default: found beside the code. */
  folder?: string;
}

type Handler = (res: ServerResponse) => Promise<void> | void;

/** What a browser navigating to `/graphql` asks for (Yoga's own test for serving GraphiQL). */
const wantsPage = (req: IncomingMessage) => req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { Location: location, 'Content-Length': 0, 'Cache-Control': 'no-store' });
  res.end();
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/**
 * The routes above, as a lookup: the handler for a request, or undefined to pass it on
 * (to Yoga). Only GET and HEAD are answered here.
 */
export function createBrowserPages(options: BrowserPagesOptions) {
  const files = new StaticFiles(options.folder ?? buildFolder());
  const page = (name: string, policy: string) => (res: ServerResponse) => {
    if (!files.send(res, name, res.req.headers['accept-encoding'], { 'Content-Security-Policy': policy })) {
      sendText(res, 503, 'The console is not built: run `npm run build` (`npm start` does).\n');
    }
  };
  const consolePage = page('index.html', CONSOLE_POLICY);
  const graphiqlPage = page('graphiql.html', GRAPHIQL_POLICY);

  const graphiqlFor = (req: IncomingMessage): Handler => {
    if (options.graphiql === 'on') return graphiqlPage;
    if (options.graphiql === 'off') return (res) => sendText(res, 404, GRAPHIQL_OFF);
    return async (res) => {
      const viewer = await options.resolveViewer({
        cookie: req.headers.cookie,
        authorization: req.headers.authorization,
      });
      if (viewer?.user.role === 'ADMIN') graphiqlPage(res);
      else redirect(res, CONSOLE_PATH);
    };
  };

  return function route(req: IncomingMessage, path: string): Handler | undefined {
    if (path === '/graphql') return wantsPage(req) ? graphiqlFor(req) : undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
    if (path === '/') return (res) => redirect(res, CONSOLE_PATH);
    if (path === '/console' || path === CONSOLE_PATH) return consolePage;
    if (!path.startsWith(CONSOLE_PATH)) return undefined;
    const name = path.slice(CONSOLE_PATH.length);
    // Pages go through the routes above, with their policy; everything else is an asset.
    if (name.endsWith('.html') || !files.has(name)) return (res) => sendError(res, 404, 'NOT_FOUND', 'Not found');
    return (res) => void files.send(res, name, req.headers['accept-encoding']);
  };
}

export type BrowserPages = ReturnType<typeof createBrowserPages>;
