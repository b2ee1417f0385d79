/**
 * A TCP proxy that can hang the network: stop forwarding, both ways, without closing either
 * side, as a link that drops packets does. Nothing tells either end: no reset, no close, no
 * error; bytes sent meanwhile are held, and delivered (closes included) when the network
 * returns, as TCP would once the path heals.
 *
 * In front of PostgreSQL it reads each connection's startup message, so a test can hang the
 * connections of one `application_name` (the session event listener names itself: see
 * `listenerName()`). In front of anything else (`{ postgres: false }`: HTTP, WebSocket) it
 * forwards bytes as they come.
 */
import { performance } from 'node:perf_hooks';
import { createServer, connect, type Server, type Socket } from 'node:net';

/** What a test sees of one proxied connection. */
export interface ProxiedConnection {
  readonly id: number;
  /** `performance.now()` when the client connected. */
  readonly openedAt: number;
  /** From the client's startup message; undefined before it arrives, or when none was sent. */
  readonly applicationName: string | undefined;
  /** Not PostgreSQL: the first line the client sent (`GET /graphql HTTP/1.1` for a WebSocket); undefined before it. */
  readonly firstLine: string | undefined;
  /** Anything held: both ways (a hung network), or only the server's answers. */
  readonly hung: boolean;
  /** `performance.now()` of the first byte the client sent while hung (held, not forwarded). */
  readonly firstHeldAt: number | undefined;
  /** `performance.now()` when the client ended or closed its side (seen here even while hung). */
  readonly clientClosedAt: number | undefined;
  /** `performance.now()` of the first byte the server sent while hung (held, not forwarded). */
  readonly firstAnswerHeldAt: number | undefined;
}

export type ConnectionSelector = (connection: ProxiedConnection) => boolean;

/**
 * What a hang holds: everything, both ways (a hung network); or only what the server sends
 * (`answers`): requests still reach it, its answers wait, as when a reply is lost in transit.
 */
export type Hold = 'both' | 'answers';

/** PostgreSQL's protocol 3.0 startup code, the first int32 after the length. */
const PROTOCOL_3 = 196_608;
/** A startup message is far below this; past it the bytes are not one. */
const MAX_STARTUP_BYTES = 10_000;

/** The parameters of a protocol 3.0 startup message (`key\0value\0…\0`), or undefined. */
function startupParameters(message: Buffer): Map<string, string> | undefined {
  if (message.length < 8 || message.readInt32BE(4) !== PROTOCOL_3) return undefined;
  const fields = message.subarray(8, message.readInt32BE(0)).toString('utf8').split('\0');
  const parameters = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) parameters.set(fields[i]!, fields[i + 1]!);
  return parameters;
}

class Link implements ProxiedConnection {
  applicationName: string | undefined;
  firstLine: string | undefined;
  private hold: Hold | undefined;
  firstHeldAt: number | undefined;
  clientClosedAt: number | undefined;
  firstAnswerHeldAt: number | undefined;
  readonly openedAt = performance.now();
  /** Client bytes until the startup message is whole: whether it hangs depends on its name. */
  private startup: Buffer | undefined = Buffer.alloc(0);
  /** What the hang held back, in order: bytes for one side, or the close of one side. */
  private readonly held: Array<() => void> = [];

  constructor(
    readonly id: number,
    private readonly client: Socket,
    private readonly server: Socket,
    private readonly identified: (link: Link) => void,
    private readonly postgres: boolean,
  ) {
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    server.on('data', (chunk: Buffer) => {
      if (this.hold !== undefined) this.firstAnswerHeldAt ??= performance.now();
      this.forward('answers', () => client.write(chunk));
    });
    // Both sockets are half-open: a side's FIN reaches the other only through forward(), as a
    // hung network would hold it, and no goodbye is answered here on the peer's behalf.
    client.on('end', () => {
      this.clientClosedAt ??= performance.now();
      this.forward('requests', () => server.end());
    });
    server.on('end', () => this.forward('answers', () => client.end()));
    client.on('close', () => {
      this.clientClosedAt ??= performance.now();
      this.forward('requests', () => server.destroy());
    });
    server.on('close', () => this.forward('answers', () => client.destroy()));
    client.on('error', () => {});
    server.on('error', () => {});
  }

  get hung(): boolean {
    return this.hold !== undefined;
  }

  hang(hold: Hold = 'both'): void {
    this.hold = hold;
  }

  /** Delivers what was held, in order, and forwards from here on. */
  resume(): void {
    this.hold = undefined;
    for (const deliver of this.held.splice(0)) deliver();
  }

  destroy(): void {
    this.client.destroy();
    this.server.destroy();
  }

  private fromClient(chunk: Buffer): void {
    if (!this.postgres) {
      if (this.firstLine === undefined) {
        this.firstLine = chunk.toString('latin1').split('\r\n', 1)[0];
        this.identified(this);
      }
    } else if (this.startup !== undefined) {
      this.startup = Buffer.concat([this.startup, chunk]);
      const length = this.startup.length >= 4 ? this.startup.readInt32BE(0) : Infinity;
      if (this.startup.length < length && this.startup.length < MAX_STARTUP_BYTES) return;
      chunk = this.startup;
      this.startup = undefined;
      this.applicationName = startupParameters(chunk)?.get('application_name');
      this.identified(this);
    }
    if (this.hold === 'both') this.firstHeldAt ??= performance.now();
    const bytes = chunk;
    this.forward('requests', () => this.server.write(bytes));
  }

  private forward(way: 'requests' | 'answers', deliver: () => void): void {
    if (this.hold === 'both' || this.hold === way) this.held.push(deliver);
    else deliver();
  }
}

export class HangingProxy {
  private readonly links: Link[] = [];
  /** Connections identified from here on hang when this selects them (see {@link hang}). */
  private hangNew: { which: ConnectionSelector; hold: Hold } | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly postgres: boolean,
  ) {}

  /**
   * Listens on a loopback port (`port`, or a free one) and forwards to `target`'s host and port (a PostgreSQL URL's;
   * with `postgres: false`, any URL with a port, e.g. an HTTP server's).
   */
  static async start(
    targetUrl: string,
    {
      postgres = true,
      port = 0,
    }: { postgres?: boolean; /** To come back where a closed one was; default any free one. */ port?: number } = {},
  ): Promise<HangingProxy> {
    const target = new URL(targetUrl);
    const proxy: { current?: HangingProxy } = {};
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
      const port = Number(target.port || 5432);
      const upstream = connect({ host: target.hostname, port, noDelay: true, allowHalfOpen: true });
      proxy.current?.accept(client, upstream);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    proxy.current = new HangingProxy(server, address.port, postgres);
    return proxy.current;
  }

  /** `targetUrl` (a database's, a server's) with its host and port replaced by the proxy's. */
  urlFor(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /**
   * Stops forwarding on the open connections `which` selects (all by default; a connection its
   * client has closed is not open) and, with
   * `andNew`, on every connection opened until {@link resume} that it selects too (decided when
   * the connection's startup message, or first bytes, arrive, which are then held as well). `hold`:
   * both ways (the default), or only the server's answers.
   */
  hang({
    which = () => true,
    andNew = false,
    hold = 'both',
  }: { which?: ConnectionSelector; andNew?: boolean; hold?: Hold } = {}): void {
    for (const link of this.links) if (link.clientClosedAt === undefined && which(link)) link.hang(hold);
    this.hangNew = andNew ? { which, hold } : undefined;
  }

  /** The network returns: everything held is delivered and every connection forwards again. */
  resume(): void {
    this.hangNew = undefined;
    for (const link of this.links) link.resume();
  }

  /** Every connection so far, oldest first (a snapshot). */
  connections(): ProxiedConnection[] {
    return this.links.map((link) => {
      const { id, openedAt, applicationName, firstLine, hung, firstHeldAt, clientClosedAt, firstAnswerHeldAt } = link;
      return { id, openedAt, applicationName, firstLine, hung, firstHeldAt, clientClosedAt, firstAnswerHeldAt };
    });
  }

  async close(): Promise<void> {
    for (const link of this.links) link.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, upstream: Socket): void {
    this.links.push(
      new Link(
        this.links.length + 1,
        client,
        upstream,
        (link) => {
          if (this.hangNew?.which(link)) link.hang(this.hangNew.hold);
        },
        this.postgres,
      ),
    );
  }
}
