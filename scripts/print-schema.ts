/**
 * Prints the schema from the code into schema.graphql, or with `--check` fails when the
 * committed file differs from what the code prints.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printSchemaSDL } from '../src/graphql/schema.js';

const schemaPath = fileURLToPath(new URL('../schema.graphql', import.meta.url));
const printed = printSchemaSDL();

if (process.argv.includes('--check')) {
  const committed = await readFile(schemaPath, 'utf8').catch(() => '');
  if (committed !== printed) {
    process.stderr.write('schema.graphql is stale: run `npm run schema` and commit the result.\n');
    process.exit(1);
  }
  process.stdout.write('schema.graphql is up to date.\n');
} else {
  await writeFile(schemaPath, printed);
  process.stdout.write(`wrote ${schemaPath}\n`);
}
