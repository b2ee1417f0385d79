import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { SessionStore } from '../sessions/store.js';
import { createForwardAuthHandler } from './forward-auth.js';
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

export interface HttpServerOptions {
  yoga: GatehouseYoga;
  store: SessionStore;
  resolveViewer: ViewerResolver;
  logger: Logger;
}

/** The HTTP server: health and forward-auth routes beside GraphQL; everything else goes to Yoga. */
export function createHttpServer({ yoga, store, resolveViewer, logger }: HttpServerOptions): Server {
  const forwardAuth = createForwardAuthHandler(resolveViewer);
  const fail = (res: ServerResponse) => (error: unknown) => {
    logger.error('request failed', { error });
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    else res.destroy();
  };
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url?.split('?', 1)[0];
    if (path === '/auth/verify') return void forwardAuth(req, res).catch(fail(res));
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/readyz') {
      void store
        .ping()
        .then((ok) => sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'database unreachable' }))
        .catch(fail(res));
      return;
    }
    void yoga(req, res);
  });
}
