/**
 * bin/gatehouse.js picks what to run: the build in dist/ only when it is a build of the sources
 * as they are now (bin/build-stamp.js), else the sources through tsx, and never a stale build.
 * Each case runs the real launcher in a copy of the layout it looks at: sources and outputs that
 * only print which of them ran, with their modification times set by the test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { REPO_ROOT } from './support/process.js';

const SOURCES = ['src/cli/main.ts', 'src/cli/commands/users.ts', 'migrations/index.ts'];
const outputOf = (source: string) => `dist/${source.replace(/\.ts$/, '.js')}`;
const NOW = Date.now() / 1000;
/** Seconds before now: sources edited, then the build started, then its outputs written. */
const EDITED = NOW - 300;
const BUILD_STARTED = NOW - 200;
const BUILT = NOW - 100;

describe('bin/gatehouse.js: the build when current, the sources otherwise, never a stale build', () => {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-launcher-'));
  const at = (path: string) => join(root, path);
  const write = (path: string, text: string, seconds: number) => {
    mkdirSync(dirname(at(path)), { recursive: true });
    writeFileSync(at(path), text);
    utimesSync(at(path), seconds, seconds);
  };
  const setTime = (path: string, seconds: number) => utimesSync(at(path), seconds, seconds);
  const run = () => {
    const result = spawnSync(process.execPath, ['bin/gatehouse.js'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const ran = () => {
    const result = run();
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  };

  /** A checkout freshly built: sources, then the stamp, then every output. */
  beforeEach(() => {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(at('bin'), { recursive: true });
    for (const file of ['gatehouse.js', 'build-stamp.js'])
      copyFileSync(join(REPO_ROOT, 'bin', file), at(`bin/${file}`));
    writeFileSync(at('package.json'), '{ "type": "module" }\n');
    symlinkSync(join(REPO_ROOT, 'node_modules'), at('node_modules'));
    write('tsconfig.json', '{}\n', EDITED);
    write('tsconfig.build.json', '{}\n', EDITED);
    for (const source of SOURCES) {
      const text =
        source === 'src/cli/main.ts' ? "const ran: string = 'sources';\nconsole.log(ran);\n" : 'export {};\n';
      write(source, text, EDITED);
      write(outputOf(source), source === 'src/cli/main.ts' ? "console.log('build');\n" : 'export {};\n', BUILT);
    }
    for (const dir of ['src/cli/commands', 'src/cli', 'src', 'migrations']) setTime(dir, EDITED);
    write('dist/.build-started', '', BUILD_STARTED);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('runs the build when every source is older than the build and every output newer', () => {
    assert.equal(ran(), 'build');
  });

  it('runs the sources when one was edited after the build began (even during the build)', () => {
    setTime('src/cli/commands/users.ts', BUILD_STARTED + 1);
    assert.equal(ran(), 'sources');
  });

  it('runs the sources when a source has no output, or an output older than the build (a build that stopped)', () => {
    write('src/cli/new.ts', 'export {};\n', EDITED);
    setTime('src/cli', EDITED);
    assert.equal(ran(), 'sources', 'a new source without output');
    unlinkSync(at('src/cli/new.ts'));
    setTime('src/cli', EDITED);
    setTime(outputOf('migrations/index.ts'), BUILD_STARTED - 1);
    assert.equal(ran(), 'sources', 'an output older than the build');
  });

  it('runs the sources when a source was removed or added since (its folder changed), or tsconfig changed', () => {
    unlinkSync(at('src/cli/commands/users.ts'));
    assert.equal(ran(), 'sources', 'a source removed');
    write('src/cli/commands/users.ts', 'export {};\n', EDITED);
    setTime('src/cli/commands', EDITED);
    assert.equal(ran(), 'build');
    setTime('tsconfig.build.json', NOW);
    assert.equal(ran(), 'sources', 'tsconfig.build.json changed');
  });

  it('runs the sources without a build stamp (dist/ built some other way)', () => {
    unlinkSync(at('dist/.build-started'));
    assert.equal(ran(), 'sources');
  });

  it('refuses a stale build when it cannot run the sources (no tsx): exit 1, and what to do', () => {
    unlinkSync(at('node_modules'));
    // A tsx installed in a folder above the temporary one (a CI machine's) would be found by Node's
    // resolution; a tsx package here that does not export its API stands for "no usable tsx".
    write('node_modules/tsx/package.json', '{ "name": "tsx", "exports": {} }\n', NOW);
    assert.equal(ran(), 'build', 'a current build needs no tsx');
    setTime('src/cli/main.ts', NOW);
    const stale = run();
    assert.equal(stale.code, 1);
    assert.equal(stale.stdout, '');
    assert.match(stale.stderr, /^gatehouse: the build in dist\/ is older than the sources: run `npm run build`/);
    rmSync(at('dist'), { recursive: true });
    assert.match(run().stderr, /^gatehouse: not built yet: run `npm run build`/);
  });

  it('runs the build of an install without sources', () => {
    unlinkSync(at('node_modules'));
    rmSync(at('src'), { recursive: true });
    rmSync(at('migrations'), { recursive: true });
    assert.equal(ran(), 'build');
  });
});
