import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawErrorResponse, sendError, sendJson, type WireErrors } from './errors.js';
import type { BrowserPages } from './console.js';
import type { DbscRoutes } from './dbsc.js';
import { createForwardAuthHandler } from './forward-auth.js';
import { metricsAccess, type Metrics } from './metrics.js';
import type { ViewerResolver } from './viewer.js';
import type { GatehouseYoga } from './yoga.js';

/** `GET /metrics`: the Prometheus text, to whom may read it (401 with a wrong token, 404 when off). */
async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: Metrics | undefined,
  settings: HttpServerOptions['metricsSettings'],
): Promise<void> {
  const access = metrics ? metricsAccess(req, settings) : 'absent';
  if (!metrics || access === 'absent') return sendError(res, 404, 'NOT_FOUND', 'Not found');
  if (access === 'denied') {
    res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    return sendError(res, 401, 'UNAUTHENTICATED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
  }
  const body = await metrics.render();
  res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Largest request body accepted; GraphQL documents are small, so this is generous. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

/** Refuses oversized bodies (413) before they are read, and bodies of unknown size (411). */
function checkRequestBody(req: IncomingMessage): { status: number; message: string } | undefined {
  if (req.method !== 'POST') return undefined;
  const length = req.headers['content-length'];
  if (length === undefined) {
    return req.headers['transfer-encoding'] ? { status: 411, message: 'Content-Length is required' } : undefined;
  }
  const bytes = Number(length);
  if (!Number.isSafeInteger(bytes) || bytes < 0) return { status: 400, message: 'Invalid Content-Length' };
  if (bytes > MAX_REQUEST_BODY_BYTES) {
    return { status: 413, message: `Request body over ${MAX_REQUEST_BODY_BYTES} bytes` };
  }
  return undefined;
}

/**
 * Reads a POST body (its size already checked against MAX_REQUEST_BODY_BYTES from Content-Length,
 * which Node's parser holds the client to) and hands the bytes to Yoga as `req.body`. @whatwg-node
 * then builds the Fetch request from them instead of piping the socket through a stream pipeline,
 * whose cleanup aborts an AbortController, and so builds a DOMException with a stack trace, on
 * every request. A client that goes away mid-body gets no answer: there is no one to send it to.
 */
function readBody(req: IncomingMessage, then: () => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => {
    (req as IncomingMessage & { body?: Buffer }).body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    then();
  });
}

export interface HttpServerOptions {
  yoga: GatehouseYoga;
  resolveViewer: ViewerResolver;
  /** Which parts this instance depends on are down (for `/readyz`); empty when ready. */
  partsDown(): Promise<string[]>;
  errors: WireErrors;
  /** Undefined where metrics are not collected (production without METRICS_TOKEN). */
  metrics: Metrics | undefined;
  /** Who may read `/metrics` (see `metricsAccess`). */
  metricsSettings: { metricsToken: string | undefined; production: boolean };
  /** The console, GraphiQL and `/`: answered before Yoga. */
  browserPages: BrowserPages;
  /** `POST /dbsc/register` and `/dbsc/refresh`; undefined when `DBSC=off` (then 404). */
  dbsc?: DbscRoutes | undefined;
}

/** The HTTP server: health, forward-auth and browser pages beside GraphQL; everything else goes to Yoga. */
export function createHttpServer(options: HttpServerOptions): Server {
  const { yoga, resolveViewer, partsDown, errors, metrics, metricsSettings, browserPages, dbsc } = options;
  const forwardAuth = createForwardAuthHandler(resolveViewer);
  // A Map, not an object literal: a path such as `/constructor` must not find a prototype's method.
  const getRoutes = new Map<string, (res: ServerResponse, req: IncomingMessage) => Promise<void>>([
    ['/metrics', (res, req) => serveMetrics(req, res, metrics, metricsSettings)],
    [
      '/readyz',
      async (res) => {
        const down = await partsDown();
        sendJson(
          res,
          down.length === 0 ? 200 : 503,
          down.length === 0 ? { status: 'ready' } : { status: 'unavailable', down },
        );
      },
    ],
    ['/healthz', async (res) => sendJson(res, 200, { status: 'ok' })],
  ]);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Merged into whatever headers the route writes, Yoga's included.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const path = req.url?.split('?', 1)[0] ?? '';
    const fail = (error: unknown) => errors.send(res, error);
    if (path === '/auth/verify') return void forwardAuth(req, res).catch(fail);
    metrics?.timeRequest(path, res);
    const skipped = req.headers['secure-session-skipped'];
    if (skipped !== undefined) metrics?.countDbscSkipped(String(skipped));
    const route = req.method === 'GET' ? getRoutes.get(path) : undefined;
    if (route) return void route(res, req).catch(fail);
    const page = browserPages(req, path);
    if (page) return void Promise.resolve(page(res)).catch(fail);
    if (dbsc?.(req, res, path)) return;
    if (path !== GRAPHQL_PATH) return sendError(res, 404, 'NOT_FOUND', `Not found: GraphQL is at ${GRAPHQL_PATH}`);
    const bodyProblem = checkRequestBody(req);
    if (bodyProblem) {
      // The body is not read: close the connection rather than leave it to drain.
      res.setHeader('Connection', 'close');
      return sendError(res, bodyProblem.status, 'BAD_USER_INPUT', bodyProblem.message);
    }
    // GraphQL answers carry session data: no cache may keep them (set here, on the Node
    // response, rather than by a Yoga hook on every response's Fetch headers).
    res.setHeader('Cache-Control', 'no-store');
    // Only a body with a length: @whatwg-node reads an empty one from the socket itself.
    if (req.method === 'POST' && Number(req.headers['content-length']) > 0) readBody(req, () => void yoga(req, res));
    else void yoga(req, res);
  });
  server.on('clientError', answerClientError);
  return server;
}

/** Yoga's endpoint: the only path not answered above. */
const GRAPHQL_PATH = '/graphql';

/** What Node's parser gave up on, as Node's own default answers it: the status by the error's code. */
const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'Request headers too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, message: 'Chunk extensions too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive' },
};

/**
 * A request Node cannot parse (oversized headers, a malformed request line, a body too slow)
 * never reaches the handler above: Node answers it with an empty 400, 408 or 431. This answers
 * it with the same JSON body as every other refusal, where nothing of a response was written
 * yet (Node's own rule, so a response in flight is never corrupted), then closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
  const { status, message } = CLIENT_ERRORS[error.code ?? ''] ?? { status: 400, message: 'Malformed HTTP request' };
  socket.once('finish', () => socket.destroy());
  socket.end(rawErrorResponse(status, 'BAD_USER_INPUT', message));
}
