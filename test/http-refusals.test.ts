/**
 * Every refusal of the HTTP server, whichever layer makes it (Node's parser, the server's routes,
 * Yoga, the WebSocket upgrade, forward auth, metrics), answers with a JSON body
 * `{ errors: [{ message, extensions: { code } }] }` and a code from the contract; and every
 * spelling of a JSON media type is read (RFC 9110 8.3.1: media types are case-insensitive).
 * Over real HTTP, against one server that must still serve a good request afterwards.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { print } from 'graphql';
import { LoginDocument, WhoamiDocument } from './generated/graphql.js';
import { healthz, rawRequest, type RawRequest, type RawResponse } from './support/http.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';

const BOUNDED = { timeout: 60_000 };
const METRICS_TOKEN = 'metrics-token-for-refusal-tests';
const ME = JSON.stringify({ query: print(WhoamiDocument) });
/** What {@link ME} answers without a session. */
const ANONYMOUS = { data: { me: null, currentSession: null } };
const WEBSOCKET_UPGRADE = {
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-protocol': 'graphql-transport-ws',
};

/**
 * Sends `text` as it is over a new connection and reads until the server closes it: for what
 * no HTTP client sends (a broken request line, headers over Node's limit).
 */
function rawExchange(baseUrl: string, text: string, timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(text.slice(0, 40))} in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // the server may reset after answering: what it sent is judged
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

/** What a refusal must carry: its status, JSON, one error with this code, and a body of its stated length. */
function assertRefusal(response: RawResponse, status: number, code: string, label: string): void {
  assert.equal(response.status, status, `${label}: status (body ${response.body.slice(0, 200)})`);
  assert.match(String(response.headers['content-type']), /^application\/json\b/, `${label}: content type`);
  assert.equal(Number(response.headers['content-length']), Buffer.byteLength(response.body), `${label}: length`);
  let body: { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> };
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    assert.fail(`${label}: not JSON: ${JSON.stringify(response.body.slice(0, 200))}`);
  }
  assert.equal(body.errors?.length, 1, `${label}: ${response.body}`);
  const [error] = body.errors;
  assert.equal(error?.extensions?.code, code, `${label}: ${response.body}`);
  assert.ok(typeof error?.message === 'string' && error.message.length > 0, `${label}: a message`);
  assert.equal(response.headers['x-content-type-options'], 'nosniff', `${label}: nosniff`);
}

/**
 * A kind of bad request: what names it, what is sent (through node:http, or as raw bytes), the
 * status and code it must get, and other headers the answer must carry.
 */
type Refusal = [label: string, request: RawRequest | string, status: number, code: string, headers?: ExpectedHeaders];
type ExpectedHeaders = Record<string, string | RegExp>;

const json = (body: string, headers: Record<string, string> = {}): RawRequest => ({
  headers: { 'content-type': 'application/json', ...headers },
  body,
});
const typed = (contentType: string, body = ME): RawRequest => ({ headers: { 'content-type': contentType }, body });
const get = (path: string, headers: Record<string, string> = { accept: 'application/json' }): RawRequest => ({
  method: 'GET',
  path,
  headers,
});
/** A refusal of bad input: BAD_USER_INPUT, whatever its status. */
function input(label: string, request: RawRequest | string, status: number, headers?: ExpectedHeaders): Refusal {
  return [label, request, status, 'BAD_USER_INPUT', headers];
}
const upgrade = (path: string, headers: Record<string, string> = {}) => get(path, { ...WEBSOCKET_UPGRADE, ...headers });
const ME_BY_GET = '/graphql?query=%7Bme%7Bid%7D%7D';
const FOREIGN = 'https://evil.example';

const REFUSALS: Refusal[] = [
  // What a POST may carry: JSON only (the CSRF rule), whatever its spelling.
  input('text/plain', typed('text/plain'), 415),
  input('no Content-Type', { body: ME }, 415),
  input('form-urlencoded', typed('application/x-www-form-urlencoded'), 415),
  input('multipart', typed('multipart/form-data; boundary=x'), 415),
  input('application/graphql', typed('application/graphql', '{ me { id } }'), 415),
  input('JSON in Latin-1', typed('application/json; charset=iso-8859-1'), 415),
  input('a type beginning like JSON', typed('application/jsonp'), 415),
  // What the body says.
  input('malformed JSON', json('{'), 400),
  input('a JSON string', json('"x"'), 400),
  input('a JSON null', json('null'), 400),
  input('a batch', json(`[${ME}]`), 400),
  input('no query', json('{}'), 400),
  input('a query that is a number', json('{"query":5}'), 400),
  input('variables that are a number', json('{"query":"{me{id}}","variables":5}'), 400),
  input('a syntax error', json('{"query":"{"}'), 400),
  // Methods and GET.
  input('PUT', { ...json(ME), method: 'PUT' }, 405, { allow: /POST/ }),
  input('DELETE', { method: 'DELETE' }, 405, { allow: /GET/ }),
  input('GET without a query', get('/graphql'), 400),
  input('GET mutation', get('/graphql?query=mutation%7Blogout%7D'), 405),
  input('GET with variables that are not JSON', get(`${ME_BY_GET}&variables=nope`), 400),
  input('GET with extensions that are not JSON', get(`${ME_BY_GET}&extensions=%7B`), 400),
  // Accept.
  input('GET accepting only image/png', get(ME_BY_GET, { accept: 'image/png' }), 406, { accept: /application\/json/ }),
  input('POST accepting only image/png', json(ME, { accept: 'image/png' }), 406),
  // Paths.
  ['GET of an unknown path', get('/nope'), 404, 'NOT_FOUND'],
  ['a console file that is not there', get('/console/assets/nope.js', {}), 404, 'NOT_FOUND'],
  ['POST to an unknown path', { ...json(ME), path: '/api/graphql' }, 404, 'NOT_FOUND'],
  ['GraphQL under a trailing slash', { ...json(ME), path: '/graphql/' }, 404, 'NOT_FOUND'],
  ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'NOT_FOUND'],
  // Sizes.
  input('a body over the limit', json('', { 'content-length': String(10 * 1024 * 1024) }), 413),
  input('a chunked body', { headers: { 'content-type': 'application/json' }, chunks: [ME] }, 411),
  input("headers over Node's limit", `GET /graphql HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431),
  // What Node's parser refuses.
  input('a broken request line', 'NOT HTTP AT ALL\r\n\r\n', 400),
  input(
    'a Content-Length that is not a number',
    'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
    400,
  ),
  input(
    'Content-Length beside chunked',
    'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}',
    400,
  ),
  // Origins: a preflight or a WebSocket from a page that is not allowed.
  [
    'a foreign preflight',
    { method: 'OPTIONS', headers: { origin: FOREIGN, 'access-control-request-method': 'POST' } },
    403,
    'FORBIDDEN',
  ],
  ['upgrade from a foreign origin', upgrade('/graphql', { origin: FOREIGN }), 403, 'FORBIDDEN'],
  // Other bad upgrades.
  ['upgrade on an unknown path', upgrade('/nope'), 404, 'NOT_FOUND'],
  input('upgrade by POST', { method: 'POST', headers: WEBSOCKET_UPGRADE }, 405, { allow: 'GET' }),
  input('upgrade to another protocol', get('/graphql', { connection: 'Upgrade', upgrade: 'h2c' }), 400),
  input('upgrade without a key', upgrade('/graphql', { 'sec-websocket-key': '' }), 400),
  input('upgrade of an unknown version', upgrade('/graphql', { 'sec-websocket-version': '99' }), 400, {
    'sec-websocket-version': /13/,
  }),
  // Beside GraphQL.
  ['forward auth without a session', get('/auth/verify', {}), 401, 'UNAUTHENTICATED', { 'www-authenticate': /Bearer/ }],
  ['forward auth with an unknown token', get('/auth/verify', { authorization: 'Bearer nope' }), 401, 'UNAUTHENTICATED'],
  ['metrics without the token', get('/metrics', {}), 401, 'UNAUTHENTICATED'],
  [
    'metrics with a wrong token',
    get('/metrics', { authorization: 'Bearer wrong-token-0123456789' }),
    401,
    'UNAUTHENTICATED',
  ],
];

describe('HTTP refusals: a JSON body with a contract code, whatever refuses (sqlite)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ env: { ...QUIET_SWEEPER, METRICS_TOKEN } });
  });
  after(() => server.stop());

  const send = (request: RawRequest | string) =>
    typeof request === 'string' ? rawExchange(server.url, request) : rawRequest(server.url, request);

  it('every JSON media type is read, in any case, with a UTF-8 charset or none', BOUNDED, async () => {
    for (const contentType of [
      'application/json',
      'Application/JSON',
      'APPLICATION/JSON; Charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/json; charset=utf8',
      'application/json ; foo=bar',
      'application/graphql-response+json',
      'Application/GraphQL-Response+JSON; charset=UTF-8',
      'application/graphql+json',
    ]) {
      const response = await rawRequest(server.url, typed(contentType));
      assert.equal(response.status, 200, `${contentType}: ${response.body}`);
      assert.deepEqual(JSON.parse(response.body), ANONYMOUS, contentType);
    }
  });

  it('a login sent as Application/JSON signs in: the cookie works', BOUNDED, async () => {
    const login = await rawRequest(
      server.url,
      typed(
        'Application/JSON; Charset=UTF-8',
        JSON.stringify({
          query: print(LoginDocument),
          variables: { username: ADMIN_USERNAME, password: ADMIN_PASSWORD },
        }),
      ),
    );
    assert.equal(login.status, 200, login.body);
    const cookie = login.headers['set-cookie']?.[0]?.split(';', 1)[0];
    assert.ok(cookie, 'a cookie');
    const whoami = await rawRequest(server.url, typed('APPLICATION/GRAPHQL-RESPONSE+JSON', ME));
    assert.deepEqual(JSON.parse(whoami.body), ANONYMOUS, 'without the cookie');
    const signedIn = await rawRequest(server.url, {
      headers: { 'content-type': 'application/json', cookie },
      body: ME,
    });
    assert.notEqual((JSON.parse(signedIn.body) as { data: { currentSession: unknown } }).data.currentSession, null);
  });

  it('each kind of bad request: its status, JSON, its code; then a good request is served', BOUNDED, async () => {
    for (const [label, request, status, code, headers = {}] of REFUSALS) {
      const response = await send(request);
      assertRefusal(response, status, code, label);
      assert.doesNotMatch(response.body, /BAD_REQUEST/, label);
      for (const [name, expected] of Object.entries(headers)) {
        const value = String(response.headers[name]);
        if (typeof expected === 'string') assert.equal(value, expected, `${label}: ${name}`);
        else assert.match(value, expected, `${label}: ${name}`);
      }
    }
    assert.equal(await healthz(server), 200);
    const good = await rawRequest(server.url, json(ME));
    assert.equal(good.status, 200);
    assert.deepEqual(JSON.parse(good.body), ANONYMOUS);
  });

  it('the same refusals in reverse order: no answer depends on the one before it', BOUNDED, async () => {
    for (const [label, request, status, code] of [...REFUSALS].reverse()) {
      assertRefusal(await send(request), status, code, `${label} (reversed)`);
    }
  });
});
