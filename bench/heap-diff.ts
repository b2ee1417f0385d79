/**
 * What a heap grew by between two V8 heap snapshots, by kind of object: for bench:live's
 * BENCH_LIVE_HEAP_DIFF, to see what an idle socket holds on the server. Self sizes only (not
 * what an object retains), summed per constructor or closure name, so the table reads "10,000
 * more `WebSocket`s, 10,000 more `Receiver`s, …".
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and bytes per `type:name` (e.g. `object:WebSocket`, `closure:onMessage`). */
export type HeapCensus = Map<string, { count: number; bytes: number }>;

/** Reads a snapshot file into a census of its nodes. */
export function heapCensus(path: string): HeapCensus {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = parsed.snapshot.meta.node_fields;
  const types = parsed.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const census: HeapCensus = new Map();
  const { nodes, strings } = parsed;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt!]!] ?? '?';
    // Strings and code are named by their contents: one row per kind is enough.
    const name = type === 'object' || type === 'closure' ? strings[nodes[i + nameAt!]!] : '';
    const key = `${type}:${name}`;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt!]!;
    census.set(key, entry);
  }
  return census;
}

/** The `top` kinds that grew most from `before` to `after`, in bytes, each per `per` (e.g. per socket). */
export function heapGrowth(before: HeapCensus, after: HeapCensus, per: number, top = 25): string[][] {
  const rows = [...after].map(([key, { count, bytes }]) => {
    const was = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: count - was.count, bytes: bytes - was.bytes };
  });
  rows.sort((a, b) => b.bytes - a.bytes);
  return [
    ['heap growth by kind (self size)', 'objects', `per ${per}`, 'bytes', 'bytes per'],
    ...rows
      .slice(0, top)
      .map((row) => [
        row.key,
        String(row.count),
        (row.count / per).toFixed(2),
        String(row.bytes),
        (row.bytes / per).toFixed(0),
      ]),
  ];
}
