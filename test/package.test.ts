import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packedProject, type PackedProject } from './support/packed-package.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Each entry point, and names a user of it imports: what the README promises per audience. */
const ENTRY_POINTS: Record<string, readonly string[]> = {
  gatehouse: ['buildApp', 'loadConfig', 'ConfigError', 'createLogger'],
  'gatehouse/verify': ['createVerifier', 'GatehouseUnavailableError'],
  'gatehouse/client': ['createClient', 'GatehouseError', 'isGatehouseError'],
  'gatehouse/react': ['GatehouseProvider', 'useSession', 'useGatehouseClient'],
};

describe('the package as a user installs it (npm pack, then npm install in a fresh project)', () => {
  let project: PackedProject;
  let files: string[];

  before(async () => {
    project = await packedProject();
    files = (await run('tar', ['-tzf', project.tarball])).stdout.split('\n').filter(Boolean);
  });

  for (const [specifier, names] of Object.entries(ENTRY_POINTS)) {
    it(`\`${specifier}\` resolves through the package's exports and has ${names.join(', ')}`, async () => {
      const module = await project.importFrom(specifier);
      for (const name of names) assert.equal(typeof module[name], 'function', `${specifier} exports ${name}`);
    });
  }

  it('ships the schema for code generators as `gatehouse/schema.graphql`, the same as the server prints', async () => {
    const { stdout } = await run(process.execPath, ['-p', 'require.resolve("gatehouse/schema.graphql")'], {
      cwd: project.dir,
    });
    assert.equal(readFileSync(stdout.trim(), 'utf8'), readFileSync(join(ROOT, 'schema.graphql'), 'utf8'));
  });

  it('ships the build, the console, the command line and typings; no sources, tests or source maps', () => {
    const shipped = (path: string) => files.includes(`package/${path}`);
    for (const path of ['bin/gatehouse.js', 'dist/src/main.js', 'dist/src/index.d.ts', 'dist/console/index.html']) {
      assert.ok(shipped(path), `${path} is in the tarball`);
    }
    const strays = files.filter((path) => /^package\/(src|test|bench|scripts|console)\/|\.map$|\.db$/.test(path));
    assert.deepEqual(strays, []);
  });

  it('type-checks code that imports every entry point, with the typings the package ships', async () => {
    const imports = Object.entries(ENTRY_POINTS)
      .map(
        ([specifier, names], index) =>
          `import { ${names.join(', ')} } from '${specifier}';\nvoid [${names.join(', ')}]; // ${index}`,
      )
      .join('\n');
    writeFileSync(join(project.dir, 'uses-every-entry-point.ts'), `${imports}\n`);
    const options = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    // A tsc that cannot start (stderr, no stdout) must not pass for one that found nothing.
    const checked = await run(process.execPath, [TSC, ...options, '--skipLibCheck', 'uses-every-entry-point.ts'], {
      cwd: project.dir,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.deepEqual(checked, { code: 0, stdout: '', stderr: '' }, 'tsc ran and reported nothing');
  });
});
