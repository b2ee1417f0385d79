/**
 * Counting live objects by constructor name in this process's heap (the test server runs here):
 * a full GC, then a V8 heap snapshot, read as a census. Exact counts, so a test can say "no
 * `Transport` is left once every socket has closed" without any threshold on bytes.
 */
import { getHeapSnapshot, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

let gc: (() => void) | undefined;

/** The engine's `gc()`, enabled at run time. */
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}

async function readSnapshot(): Promise<Snapshot> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Snapshot;
}

/** How many objects of each of `names` (constructor names) are alive, after a full GC. */
export async function countLiveObjects(names: readonly string[]): Promise<Record<string, number>> {
  collectGarbage();
  const parsed = await readSnapshot();
  const fields = parsed.snapshot.meta.node_fields;
  const objectType = parsed.snapshot.meta.node_types[0].indexOf('object');
  const [typeAt, nameAt] = [fields.indexOf('type'), fields.indexOf('name')];
  const wanted = new Set(names);
  const counts: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  for (let i = 0; i < parsed.nodes.length; i += fields.length) {
    if (parsed.nodes[i + typeAt] !== objectType) continue;
    const name = parsed.strings[parsed.nodes[i + nameAt]!]!;
    if (wanted.has(name)) counts[name]!++;
  }
  return counts;
}
