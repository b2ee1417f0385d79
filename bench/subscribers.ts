/**
 * Live clients for the benchmarks: raw `ws` sockets that speak graphql-transport-ws themselves
 * (so the load generator's own overhead stays small), each subscribed to `sessionRevoked`, and
 * a bounded pool to set many of them up.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { within } from './support.js';

/** Runs `jobs` with at most `inFlight` at a time. */
export async function pool<T>(
  items: T[],
  inFlight: number,
  job: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await job(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
}

/** One subscriber: a raw socket speaking graphql-transport-ws, subscribed to `sessionRevoked`. */
export interface Subscriber {
  userIndex: number;
  sessionId: string;
  cookie: string;
  socket?: WebSocket;
  /** Every `next` for the sessionRevoked operation. */
  events: Array<{ sessionId: string; reason: string }>;
  /** performance.now() of the first event. */
  arrivedAt?: number;
  completed: boolean;
  close?: { code: number; reason: string };
  /** performance.now() when the mutation that ended this session was sent. */
  sentAt?: number;
  /** performance.now() when that mutation's HTTP answer arrived. */
  answeredAt?: number;
  phase?: string;
}

const REVOKED_ID = 'revoked';
const PROBE_ID = 'probe';

export function connectSubscriber(wsUrl: string, subscriber: Subscriber): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: { cookie: subscriber.cookie } });
      subscriber.socket = socket;
      socket.once('error', reject);
      socket.on('error', () => {});
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.on('message', (raw: Buffer) => {
        const now = performance.now();
        const message = JSON.parse(raw.toString()) as {
          type: string;
          id?: string;
          payload?: { data?: { sessionRevoked?: { sessionId: string; reason: string } }; errors?: unknown };
        };
        if (message.type === 'connection_ack') {
          socket.send(
            JSON.stringify({
              id: REVOKED_ID,
              type: 'subscribe',
              payload: { query: 'subscription { sessionRevoked { sessionId reason at } }' },
            }),
          );
          // A query behind the subscription: its answer means the subscription was taken in.
          socket.send(JSON.stringify({ id: PROBE_ID, type: 'subscribe', payload: { query: '{ __typename }' } }));
        } else if (message.id === PROBE_ID && message.type === 'complete') {
          resolve();
        } else if (message.id === REVOKED_ID && message.type === 'next') {
          const event = message.payload?.data?.sessionRevoked;
          if (!event) {
            reject(new Error(`sessionRevoked answered ${JSON.stringify(message.payload)}`));
            return;
          }
          subscriber.arrivedAt ??= now;
          subscriber.events.push(event);
        } else if (message.id === REVOKED_ID && message.type === 'complete') {
          subscriber.completed = true;
        } else if (message.type === 'error') {
          reject(new Error(`subscription error ${JSON.stringify(message.payload)}`));
        }
      });
      socket.on('close', (code: number, reason: Buffer) => {
        subscriber.close = { code, reason: reason.toString() };
        reject(new Error(`closed before it was ready: ${code}`));
      });
    }),
    30_000,
    'a subscriber to connect',
  );
}
