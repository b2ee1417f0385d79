import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SessionStore } from '../sessions/store.js';
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
}

/** The HTTP server: health routes beside GraphQL; everything else goes to Yoga. */
export function createHttpServer({ yoga, store }: HttpServerOptions): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url?.split('?', 1)[0];
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/readyz') {
      void store.ping().then((ok) => sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'database unreachable' }));
      return;
    }
    void yoga(req, res);
  });
}
