/**
 * The docs stay honest: README.md, SECURITY.md and the guides in docs/ link only to files of this
 * repository that exist (and to headings that exist in them), the README stays a short entrance,
 * and the facts most likely to drift are checked against the code: every setting `src/config.ts`
 * reads is in the settings table (and nothing else is), every command of the command line is in
 * the operators' guide, and every `npm` script the docs name exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { settingNames } from '../src/config.js';
import type { Command } from '../src/cli/command.js';
import { anchorsOf, linkTargets, parentPathMentions, proseOf } from './support/markdown.js';
import { REPO_ROOT } from './support/process.js';

/** The README is the entrance: what Gatehouse is, the quick start, a map of docs/ and the layout. */
const README_MAX_LINES = 160;
const DOCS = join(REPO_ROOT, 'docs');

const read = (file: string) => readFileSync(file, 'utf8');
const repoPath = (file: string) => relative(REPO_ROOT, file);

function documents(): string[] {
  const guides = readdirSync(DOCS)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(DOCS, name));
  return [join(REPO_ROOT, 'README.md'), join(REPO_ROOT, 'SECURITY.md'), ...guides].filter((file) => existsSync(file));
}

/** Relative targets only: a scheme (`https:`, `mailto:`) or a protocol-relative `//` leaves the repository on purpose. */
function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//');
}

/** Where a relative target written in `file` points (its `#anchor` dropped). */
const targetPath = (file: string, target: string) => {
  const path = target.split('#', 1)[0]!;
  return path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
};
const leavesRepository = (file: string, target: string) =>
  relative(REPO_ROOT, targetPath(file, target)).startsWith('..');

/** What is wrong with one relative link from `file`, or undefined when it resolves. */
function linkProblem(file: string, target: string): string | undefined {
  const anchor = target.includes('#') ? target.slice(target.indexOf('#') + 1) : undefined;
  const resolved = targetPath(file, target);
  const inside = relative(REPO_ROOT, resolved);
  if (leavesRepository(file, target)) return 'leaves the repository';
  if (/^(node_modules|dist|data)(\/|$)/.test(inside)) return 'points into a folder a clone does not have';
  if (!existsSync(resolved)) return 'names no file';
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md'))
    return 'has an anchor into a file without headings';
  return anchorsOf(read(resolved)).has(anchor) ? undefined : `names no heading of ${repoPath(resolved)}`;
}

/** The Markdown files reachable from README.md by following relative links. */
function reachableFromReadme(): Set<string> {
  const seen = new Set<string>();
  const queue = [join(REPO_ROOT, 'README.md')];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    for (const target of linkTargets(read(file)).filter(isRelative)) {
      if (target.split('#', 1)[0]!.endsWith('.md')) queue.push(targetPath(file, target));
    }
  }
  return seen;
}

/** The names in the first column of docs/settings.md's table. */
function documentedSettings(): string[] {
  const settings = join(DOCS, 'settings.md');
  if (!existsSync(settings)) return [];
  const firstCells = proseOf(read(settings))
    .split('\n')
    .filter((line) => /^\s*\|/.test(line))
    .map((line) => line.split('|')[1] ?? '');
  return firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!));
}

const isCommand = (value: unknown): value is Command =>
  typeof value === 'object' && value !== null && 'name' in value && 'run' in value && typeof value.run === 'function';

/** Every command the command line has, read from its modules (src/cli/commands/*.ts). */
async function cliCommands(): Promise<string[]> {
  const folder = join(REPO_ROOT, 'src', 'cli', 'commands');
  const names: string[] = [];
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.ts'))) {
    const module = (await import(pathToFileURL(join(folder, file)).href)) as Record<string, unknown>;
    for (const exported of Object.values(module)) {
      if (Array.isArray(exported)) names.push(...exported.filter(isCommand).map((command) => command.name));
    }
  }
  return names;
}

describe('docs', () => {
  it('no link or path written in the docs leaves the repository through ../', () => {
    const escapes = documents().flatMap((file) =>
      [...linkTargets(read(file)).filter(isRelative), ...parentPathMentions(read(file))]
        .filter((target) => leavesRepository(file, target))
        .map((target) => `${repoPath(file)}: ${target}`),
    );
    assert.deepEqual(escapes, [], 'a clone has nothing outside the repository: say what it is, or carry it');
  });

  it('every relative link resolves to a file of the repository, and every #anchor to a heading in it', () => {
    const problems = documents().flatMap((file) =>
      linkTargets(read(file))
        .filter(isRelative)
        .map((target) => ({ target, problem: linkProblem(file, target) }))
        .filter(({ problem }) => problem !== undefined)
        .map(({ target, problem }) => `${repoPath(file)}: (${target}) ${problem}`),
    );
    assert.deepEqual(problems, []);
  });

  it('the README stays a short entrance, and every guide in docs/ is reachable from it', () => {
    const lines = read(join(REPO_ROOT, 'README.md')).trimEnd().split('\n').length;
    assert.ok(
      lines <= README_MAX_LINES,
      `README.md has ${lines} lines; at most ${README_MAX_LINES}: move text to docs/`,
    );
    const reachable = reachableFromReadme();
    const unreachable = documents().filter((file) => !reachable.has(file));
    assert.deepEqual(unreachable.map(repoPath), []);
  });

  it('the settings table in docs/settings.md lists every setting src/config.ts reads, and nothing else', () => {
    const documented = documentedSettings();
    const readByConfig = settingNames();
    assert.deepEqual(
      readByConfig.filter((name) => !documented.includes(name)),
      [],
      'settings read by src/config.ts missing from the table in docs/settings.md',
    );
    assert.deepEqual(
      documented.filter((name) => !readByConfig.includes(name)),
      [],
      'settings in docs/settings.md that src/config.ts does not read',
    );
  });

  it('the operators guide names every command of the command line', async () => {
    const guide = existsSync(join(DOCS, 'operators.md')) ? read(join(DOCS, 'operators.md')) : '';
    const commands = await cliCommands();
    assert.ok(commands.length >= 10, `found only ${commands.length} commands in src/cli/commands`);
    const missing = commands.filter((name) => !new RegExp(`gatehouse ${name}(?![\\w-])`).test(guide));
    assert.deepEqual(missing, [], 'commands missing from docs/operators.md (as `gatehouse <command>`)');
  });

  it('every npm script the docs name exists in package.json', () => {
    const scripts = Object.keys((JSON.parse(read(join(REPO_ROOT, 'package.json'))) as { scripts: object }).scripts);
    const named = documents().flatMap((file) =>
      [...read(file).matchAll(/\bnpm (?:run(?:-script)? ([\w:.-]+)|(start|test)\b)/g)].map(
        (match) => `${repoPath(file)}: ${match[1] ?? match[2]}`,
      ),
    );
    assert.ok(named.length > 0, 'the docs name no npm script at all');
    assert.deepEqual(
      named.filter((entry) => !scripts.includes(entry.split(': ')[1]!)),
      [],
    );
  });
});
