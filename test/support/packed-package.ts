import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { buildIsCurrent } from '../../bin/build-stamp.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A cold npm cache makes the install fetch from the registry: minutes, not seconds. */
const INSTALL_TIMEOUT_MS = 300_000;

/** This checkout as a user installs it: packed, then installed into a fresh project. */
export interface PackedProject {
  /** The fresh project's folder (it has `node_modules/gatehouse`). */
  dir: string;
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /**
   * Imports `specifier` as code in the project would (`gatehouse/verify`, `express`): through its
   * `node_modules` and the package's `exports`, never this checkout's.
   */
  importFrom<T = Record<string, unknown>>(specifier: string): Promise<T>;
}

/** The versions this checkout tests with: the packed project gets the same ones. */
async function devDependencyVersions(names: readonly string[]): Promise<string[]> {
  const manifest = (await import(pathToFileURL(join(ROOT, 'package.json')).href, { with: { type: 'json' } }))
    .default as { devDependencies: Record<string, string> };
  return names.map((name) => `${name}@${manifest.devDependencies[name]}`);
}

/** The newest modification under `dir`, in ms. */
function newestIn(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The console's build is not the launcher's concern (build-stamp.js: the command line runs no
 * console), but the tarball ships it: a console source newer than its build means building again.
 */
function consoleIsCurrent(): boolean {
  const built = statSync(join(ROOT, 'dist', 'console', 'index.html'), { throwIfNoEntry: false })?.mtimeMs;
  return built !== undefined && newestIn(join(ROOT, 'console')) < built;
}

async function buildIfStale(): Promise<void> {
  if (buildIsCurrent() && consoleIsCurrent()) return;
  await run('npm', ['run', 'build'], { cwd: ROOT, timeout: INSTALL_TIMEOUT_MS });
}

async function packAndInstall(): Promise<PackedProject> {
  await buildIfStale();
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-packed-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  // The build is current, so packing needs no `prepack` build of its own.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { cwd: ROOT });
  const tarball = join(root, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
  const dir = join(root, 'project');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'packed-gatehouse-user', private: true, type: 'module' }),
  );
  const frameworks = await devDependencyVersions(['express', 'fastify', 'react', 'react-dom']);
  // Install scripts are skipped: they only compile the server's SQLite driver (a minute, and
  // covered by this checkout's own install), which none of the SDK entry points loads.
  await run(
    'npm',
    ['install', tarball, ...frameworks, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'],
    { cwd: dir, timeout: INSTALL_TIMEOUT_MS },
  );
  let imports = 0;
  return {
    dir,
    tarball,
    importFrom: async <T>(specifier: string) => {
      // A module inside the project resolves the specifier as the project's own code does.
      const file = join(dir, `import-${++imports}.mjs`);
      writeFileSync(file, `export * as imported from ${JSON.stringify(specifier)};\n`);
      return ((await import(pathToFileURL(file).href)) as { imported: T }).imported;
    },
  };
}

let packed: Promise<PackedProject> | undefined;

/**
 * `npm pack` of this checkout (built first when the build is stale), installed with `npm
 * install` into a fresh project in a temporary folder beside express, fastify, react and react-dom at the
 * versions this checkout pins. Once per test process: every suite that asks shares it. The
 * folder is removed when the process exits.
 */
export function packedProject(): Promise<PackedProject> {
  packed ??= packAndInstall();
  return packed;
}
