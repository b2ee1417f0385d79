/**
 * HTTP below the GraphQL client: raw requests (what a hostile client can send that fetch() would
 * not, or would fix up), and the health check.
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  path?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Written one by one with no Content-Length: Node sends them as `Transfer-Encoding: chunked`. */
  chunks?: ReadonlyArray<string | Buffer>;
}

/** One request over a fresh connection through node:http, which sends header bytes as given. */
export function rawRequest(baseUrl: string, options: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const url = new URL(options.path ?? '/graphql', baseUrl);
  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const req = httpRequest(
      url,
      { method: options.method ?? 'POST', headers: options.headers ?? {}, agent: false },
      (res) => {
        const body: Buffer[] = [];
        res.on('data', (chunk: Buffer) => body.push(chunk));
        res.on('end', () =>
          settle(() =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(body).toString('utf8') }),
          ),
        );
        res.on('error', (error) => settle(() => reject(error)));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      settle(() => reject(new Error(`${options.method ?? 'POST'} ${url.pathname} timed out after ${timeoutMs} ms`)));
    }, timeoutMs);
    req.on('error', (error) => settle(() => reject(error)));
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/** The status of `GET /healthz`. */
export async function healthz(server: { url: string }): Promise<number> {
  const response = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return response.status;
}
