/**
 * Imports point one way (DESIGN.md, "Layout"): no module reaches itself through its imports,
 * type-only imports included (a circle of types still means two modules share one concept, and
 * neither is its home), and the rules in `src/sessions/` know nothing of GraphQL, HTTP or SQL.
 * Read from the sources with a plain scan: every `import … from './x.js'` and `export … from`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './support/process.js';

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'/g;

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Each source's imports: relative ones resolved to files, bare ones (packages) as written. */
function importGraph(root: string): Map<string, { local: string[]; packages: string[] }> {
  const graph = new Map<string, { local: string[]; packages: string[] }>();
  for (const file of sourcesUnder(root)) {
    const text = readFileSync(file, 'utf8');
    const local: string[] = [];
    const packages: string[] = [];
    for (const [, specifier] of text.matchAll(SPECIFIER)) {
      if (!specifier!.startsWith('.')) packages.push(specifier!);
      else local.push(resolve(dirname(file), specifier!).replace(/\.js$/, ''));
    }
    graph.set(file.replace(/\.tsx?$/, ''), { local, packages });
  }
  return graph;
}

/** The circles of the graph, each as the path that closes it (Tarjan's strongly connected components). */
function circles(graph: Map<string, { local: string[] }>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.local ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfImport = graph.get(node)?.local.includes(node);
    if (component.length > 1 || selfImport) found.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const named = (files: string[]) => files.map((file) => relative(REPO_ROOT, file)).sort();

describe('imports point one way', () => {
  for (const root of ['src', 'console/src', 'migrations']) {
    it(`no import circle in ${root}/ (type-only imports included)`, () => {
      assert.deepEqual(circles(importGraph(join(REPO_ROOT, root))).map(named), []);
    });
  }

  it('the session rules import no GraphQL, HTTP, Knex or storage module', () => {
    const graph = importGraph(join(REPO_ROOT, 'src/sessions'));
    const forbiddenPackage = /^(graphql|graphql-yoga|graphql-ws|@pothos\/|knex|objection|pg|sqlite3|ws|node:http)/;
    const offending: string[] = [];
    for (const [file, { local, packages }] of graph) {
      const outside = local.filter((target) => !target.startsWith(join(REPO_ROOT, 'src/sessions/')));
      for (const target of outside) {
        if (/\/src\/(graphql|http|storage|events|cli|webhooks)\//.test(target)) offending.push(`${file} → ${target}`);
      }
      for (const name of packages) if (forbiddenPackage.test(name)) offending.push(`${file} → ${name}`);
    }
    assert.deepEqual(
      offending.map((line) => line.replaceAll(REPO_ROOT, '')),
      [],
    );
  });

  it('gatehouse/verify (src/verify/) ships to other services: nothing from the rest of src/, no package but graphql-ws and ws', () => {
    const offending: string[] = [];
    for (const [file, { local, packages }] of importGraph(join(REPO_ROOT, 'src/verify'))) {
      for (const target of local)
        if (!target.startsWith(join(REPO_ROOT, 'src/verify/'))) offending.push(`${file} → ${target}`);
      for (const name of packages) if (!/^(node:|graphql-ws$|ws$)/.test(name)) offending.push(`${file} → ${name}`);
    }
    assert.deepEqual(
      offending.map((line) => line.replaceAll(REPO_ROOT, '')),
      [],
    );
  });

  it('gatehouse/client and gatehouse/react (src/client/, src/react/) ship to front ends: only each other, graphql-ws/client and react', () => {
    const offending: string[] = [];
    for (const dir of ['client', 'react']) {
      for (const [file, { local, packages }] of importGraph(join(REPO_ROOT, 'src', dir))) {
        const own = [join(REPO_ROOT, 'src/client/'), join(REPO_ROOT, 'src', dir, '/')];
        for (const target of local)
          if (!own.some((root) => target.startsWith(root))) offending.push(`${file} → ${target}`);
        for (const name of packages)
          if (!['graphql-ws/client', 'react'].includes(name)) offending.push(`${file} → ${name}`);
      }
    }
    assert.deepEqual(
      offending.map((line) => line.replaceAll(REPO_ROOT, '')),
      [],
    );
  });

  it('finds a circle when there is one (the scan itself works)', () => {
    const graph = new Map([
      ['a', { local: ['b'], packages: [] }],
      ['b', { local: ['c'], packages: [] }],
      ['c', { local: ['a'], packages: [] }],
      ['d', { local: ['a'], packages: [] }],
    ]);
    assert.deepEqual(
      circles(graph).map((component) => component.sort()),
      [['a', 'b', 'c']],
    );
  });
});
