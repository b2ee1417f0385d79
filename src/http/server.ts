import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { SessionStore } from '../sessions/store.js';
import { createForwardAuthHandler } from './forward-auth.js';
import type { Metrics } from './metrics.js';
import type { ViewerResolver } from './viewer.js';
import type { GatehouseYoga } from './yoga.js';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
  });
  res.end(payload);
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

export interface HttpServerOptions {
  yoga: GatehouseYoga;
  store: SessionStore;
  resolveViewer: ViewerResolver;
  logger: Logger;
  metrics: Metrics;
}

/** The HTTP server: health and forward-auth routes beside GraphQL; everything else goes to Yoga. */
export function createHttpServer({ yoga, store, resolveViewer, logger, metrics }: HttpServerOptions): Server {
  const forwardAuth = createForwardAuthHandler(resolveViewer);
  const fail = (res: ServerResponse) => (error: unknown) => {
    logger.error('request failed', { error });
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    else res.destroy();
  };
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    // Merged into whatever headers the route writes, Yoga's included.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const path = req.url?.split('?', 1)[0];
    if (path === '/auth/verify') return void forwardAuth(req, res).catch(fail(res));
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/metrics') {
      void metrics
        .render()
        .then((body) => {
          res.writeHead(200, {
            'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
            'Cache-Control': 'no-store',
          });
          res.end(body);
        })
        .catch(fail(res));
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      void store
        .ping()
        .then((ok) => sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'database unreachable' }))
        .catch(fail(res));
      return;
    }
    const bodyProblem = checkRequestBody(req);
    if (bodyProblem) {
      // The body is not read: close the connection rather than leave it to drain.
      res.setHeader('Connection', 'close');
      return sendJson(res, bodyProblem.status, {
        errors: [{ message: bodyProblem.message, extensions: { code: 'BAD_USER_INPUT' } }],
      });
    }
    void yoga(req, res);
  });
}
