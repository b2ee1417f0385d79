/**
 * What a real client and the server said to each other, seen from inside the server's own
 * `http.Server` (a listener added before the app's): for requests a test cannot see from the
 * client side, such as the ones Chromium's network service makes for DBSC by itself.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';

export interface Exchange {
  /** `Date.now()` when the request arrived and when its answer was finished. */
  at: number;
  doneAt?: number;
  method: string;
  path: string;
  requestHeaders: IncomingHttpHeaders;
  status?: number;
  responseHeaders?: OutgoingHttpHeaders;
  /** The answer's body as text (only for the paths recorded, all small). */
  body?: string;
}

export interface WireLog {
  readonly exchanges: readonly Exchange[];
  /** Finished exchanges whose path starts with `prefix`, in order of arrival. */
  to(prefix: string): Exchange[];
  stop(): void;
}

const lowerCased = (headers: OutgoingHttpHeaders): OutgoingHttpHeaders =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

function capture(res: ServerResponse, exchange: Exchange): void {
  const chunks: Buffer[] = [];
  const keep = (chunk: unknown) => {
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((...args: unknown[]) => (keep(args[0]), write(...args))) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => (
    typeof args[0] !== 'function' && keep(args[0]),
    end(...args)
  )) as ServerResponse['end'];
  // Headers given to writeHead() never reach getHeaders(): keep them too.
  let written: OutgoingHttpHeaders = {};
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    const headers = args.find((arg, index) => index > 0 && typeof arg === 'object' && arg !== null);
    if (headers && !Array.isArray(headers)) written = lowerCased(headers as OutgoingHttpHeaders);
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
  res.once('finish', () => {
    exchange.doneAt = Date.now();
    exchange.status = res.statusCode;
    exchange.responseHeaders = { ...res.getHeaders(), ...written };
    exchange.body = Buffer.concat(chunks).toString('utf8');
  });
}

/** Records every exchange whose path starts with one of `prefixes`, until `stop()`. */
export function recordWire(server: Server, prefixes: readonly string[]): WireLog {
  const exchanges: Exchange[] = [];
  const listener = (req: { method?: string; url?: string; headers: IncomingHttpHeaders }, res: ServerResponse) => {
    const path = req.url ?? '';
    if (!prefixes.some((prefix) => path.startsWith(prefix))) return;
    const exchange: Exchange = { at: Date.now(), method: req.method ?? '', path, requestHeaders: { ...req.headers } };
    exchanges.push(exchange);
    capture(res, exchange);
  };
  server.prependListener('request', listener);
  return {
    exchanges,
    to: (prefix) => exchanges.filter((exchange) => exchange.path.startsWith(prefix) && exchange.doneAt !== undefined),
    stop: () => void server.removeListener('request', listener),
  };
}
