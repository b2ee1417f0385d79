/**
 * `gatehouse/client` in Node, as a browser tab would run it: one cookie jar shared by its
 * `fetch` and its WebSocket (the cookie on the upgrade), and a record of every socket it opens
 * and how each closed, so tests can count sockets and see the 4403.
 */
import WebSocket from 'ws';
import { createClient, type ClientOptions, type GatehouseClient } from '../../src/client/index.js';
import type { CloseInfo } from './live.js';

/** The cookies a browser would hold for Gatehouse's site: name → value. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  get header(): string | undefined {
    return this.cookies.size ? [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') : undefined;
  }

  store(headers: Headers): void {
    for (const setCookie of headers.getSetCookie()) {
      const pair = setCookie.split(';', 1)[0] ?? '';
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /Max-Age=0\b/i.test(setCookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export interface SocketRecord {
  /** Upgrades attempted, in order. */
  opened: number;
  /** How each socket closed, in order. */
  closes: CloseInfo[];
}

export interface NodeClient {
  client: GatehouseClient;
  jar: CookieJar;
  sockets: SocketRecord;
}

export interface NodeClientOptions {
  /** Share another client's cookies (two tabs of one browser). */
  jar?: CookieJar;
  /** Keep no cookie at all, like a browser that refuses them. */
  refuseCookies?: boolean;
  url?: string;
  /** Where the socket connects instead of Gatehouse (a stand-in server); HTTP still goes to `url`. */
  socketUrl?: string;
  /**
   * Awaited before each HTTP request is sent (`request`) and before its answer is handed to the
   * client (`answer`): a test holds one there to order it against other steps. `body` is the
   * request's JSON (its operation name tells which).
   */
  pause?: (body: string, at: 'request' | 'answer') => Promise<void> | void;
}

export function nodeClient(server: { url: string }, options: NodeClientOptions = {}): NodeClient {
  const jar = options.jar ?? new CookieJar();
  const sockets: SocketRecord = { opened: 0, closes: [] };
  const fetchWithJar: NonNullable<ClientOptions['fetch']> = async (input, init) => {
    await options.pause?.(String(init.body), 'request');
    const headers = new Headers(init.headers);
    if (jar.header) headers.set('cookie', jar.header);
    const response = await fetch(input, { ...init, headers });
    await options.pause?.(String(init.body), 'answer');
    if (!options.refuseCookies) jar.store(response.headers);
    return response;
  };
  class JarWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(options.socketUrl ?? url, protocols, { headers: jar.header ? { cookie: jar.header } : {} });
      sockets.opened++;
      this.once('close', (code: number, reason: Buffer) => sockets.closes.push({ code, reason: reason.toString() }));
      this.on('error', () => {}); // a refused upgrade closes (1006), which graphql-ws reports
    }
  }
  const client = createClient({ url: options.url ?? server.url, fetch: fetchWithJar, webSocketImpl: JarWebSocket });
  return { client, jar, sockets };
}
