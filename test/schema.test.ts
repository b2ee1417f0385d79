import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { printSchemaSDL } from '../src/graphql/schema.js';
import { REPO_ROOT } from './support/process.js';

const run = promisify(execFile);
const GENERATED = 'test/generated/graphql.ts';

describe('committed schema artifacts', () => {
  it('schema.graphql is what the Pothos schema prints', () => {
    const committed = readFileSync(join(REPO_ROOT, 'schema.graphql'), 'utf8');
    assert.equal(committed, printSchemaSDL(), 'schema.graphql is stale: run `npm run schema`');
  });

  it(`${GENERATED} is what codegen generates from schema.graphql and test/operations`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-codegen-'));
    try {
      // The project's codegen.yml, writing to a temporary file instead of the committed one.
      const config = readFileSync(join(REPO_ROOT, 'codegen.yml'), 'utf8');
      const output = join(dir, 'graphql.ts');
      const tempConfig = config.replace(`${GENERATED}:`, `${JSON.stringify(output)}:`);
      assert.notEqual(tempConfig, config, `codegen.yml no longer generates ${GENERATED}`);
      const configPath = join(dir, 'codegen.yml');
      writeFileSync(configPath, tempConfig);
      await run(join(REPO_ROOT, 'node_modules/.bin/graphql-codegen'), ['--config', configPath], {
        cwd: REPO_ROOT,
        timeout: 20_000,
      });
      const committed = readFileSync(join(REPO_ROOT, GENERATED), 'utf8');
      assert.equal(committed, readFileSync(output, 'utf8'), `${GENERATED} is stale: run \`npm run codegen\``);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
