/**
 * One delivery attempt over node:http(s).
 *
 * Safety rules: `http` and `https` only; the target's address is checked where the socket is
 * made (`addresses.ts`); redirects are not followed (a 3xx is a failed attempt, retried like
 * any other); at most {@link MAX_RESPONSE_BYTES} of the response are read and the rest is
 * dropped with the connection; the whole attempt, from the lookup to the last byte read, is
 * bounded by the timeout; and no connection is reused, so every attempt is checked anew.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, refusedAddress } from './addresses.js';

/** What is read of a response at most: enough for an error message, never a flood. */
export const MAX_RESPONSE_BYTES = 4096;
/** What of the response body is kept with a failed attempt. */
const ERROR_BODY_CHARS = 200;
const USER_AGENT = 'Gatehouse-Webhooks/1';

export interface SendRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Aborts the attempt (the server is stopping). */
  signal?: AbortSignal;
}

export interface AttemptResult {
  /** The response's status; undefined when none came. */
  statusCode?: number;
  /** Why the attempt failed, for `lastError`; undefined for a 2xx. */
  error?: string;
  durationMs: number;
}

/** Printable text only, for an error message built from what a receiver sent. */
const printable = (text: string) => text.replace(/[^\x20-\x7e]+/g, ' ').trim();

function describeResponse(response: IncomingMessage, body: string): string | undefined {
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return undefined;
  const location = status >= 300 && status < 400 ? response.headers.location : undefined;
  const detail = location ? `redirect to ${location} not followed` : printable(body).slice(0, ERROR_BODY_CHARS);
  return `HTTP ${status}${detail ? `: ${detail}` : ''}`.slice(0, 500);
}

/** The URL to attempt, or why it is refused before any socket is opened. */
function checkedUrl(target: string, allowPrivate: boolean): { url: URL } | { error: string } {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { error: 'invalid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `unsupported protocol ${url.protocol}` };
  const refused = refusedAddress(url.hostname, allowPrivate);
  return refused ? { error: refused.message } : { url };
}

/** Makes one attempt; never throws: every failure is a result. */
export function sendWebhook(request: SendRequest): Promise<AttemptResult> {
  const checked = checkedUrl(request.url, request.allowPrivate);
  if ('error' in checked) return Promise.resolve({ error: checked.error, durationMs: 0 });
  return attempt(checked.url, request);
}

function attempt(url: URL, request: SendRequest): Promise<AttemptResult> {
  const startedAt = performance.now();
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      outgoing.destroy();
      resolve({ ...result, durationMs: Math.round(performance.now() - startedAt) });
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(url, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(request.allowPrivate),
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(request.body),
        'user-agent': USER_AGENT,
        connection: 'close',
        ...request.headers,
      },
    });
    const timer = setTimeout(() => finish({ error: `timed out after ${request.timeoutMs} ms` }), request.timeoutMs);
    const onAbort = () => finish({ error: 'interrupted: the server is stopping' });
    request.signal?.addEventListener('abort', onAbort);
    if (request.signal?.aborted) onAbort();
    outgoing.on('error', (error) => finish({ error: printable(error.message).slice(0, 500) }));
    outgoing.on('response', (response) => readBounded(response, finish));
    outgoing.end(request.body);
  });
}

/** Reads at most MAX_RESPONSE_BYTES of the response, then reports its status and what went wrong. */
function readBounded(response: IncomingMessage, finish: (result: Omit<AttemptResult, 'durationMs'>) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const done = () =>
    finish({
      statusCode: response.statusCode ?? 0,
      ...errorOf(response, Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8')),
    });
  response.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_RESPONSE_BYTES) done();
  });
  response.on('end', done);
  response.on('error', done);
}

function errorOf(response: IncomingMessage, body: string): { error?: string } {
  const error = describeResponse(response, body);
  return error === undefined ? {} : { error };
}
