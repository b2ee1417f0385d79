/**
 * A webhook receiver: a real node:http server on loopback that records every request and
 * answers as the test says (a status, or never).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { waitFor } from './async.js';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** `Date.now()` when the body had arrived. */
  at: number;
}

/** What to answer the n-th request (0-based): a status, or `hang` to never answer. */
export type Answer = number | 'hang' | ((response: ServerResponse) => void);

export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  /** Default: 200 to everything. */
  answer: (index: number, request: ReceivedRequest) => Answer = () => 200;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on 127.0.0.1 at `port` (0: any free one). */
  static async start(port = 0): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const received = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        const answer = receiver.answer(receiver.requests.length, received);
        receiver.requests.push(received);
        if (answer === 'hang') return;
        if (typeof answer === 'function') return answer(response);
        response.writeHead(answer, { 'content-type': 'text/plain' }).end(`answered ${answer}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** The bodies received, parsed. */
  events(): Array<{ type: string; timestamp: string; data: Record<string, unknown> }> {
    return this.requests.map((request) => JSON.parse(request.body) as ReturnType<Receiver['events']>[number]);
  }

  /** Waits until `count` requests have arrived; returns them all. */
  waitForRequests(count: number, timeoutMs = 5_000): Promise<ReceivedRequest[]> {
    return waitFor(
      () => `${count} webhook requests (got ${this.requests.length})`,
      () => this.requests.length >= count && this.requests,
      { timeoutMs, intervalMs: 10 },
    );
  }

  /** Stops listening and cuts every connection, hanging ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
