/** `npm run db:migrate [-- --down]`: migrates DATABASE_URL to the latest schema, or rolls back one batch. */
import { loadConfig } from '../src/config.js';
import { consoleLogger } from '../src/logger.js';
import { createDatabase, migrateToLatest } from '../src/storage/database.js';
import { migrationSource } from '../migrations/index.js';

const config = loadConfig();
const db = createDatabase(config.databaseUrl, consoleLogger);
try {
  if (process.argv.includes('--down')) {
    const [batch, names] = (await db.migrate.rollback({ migrationSource })) as [number, string[]];
    process.stdout.write(`rolled back batch ${batch}: ${names.join(', ') || 'nothing'}\n`);
  } else {
    await migrateToLatest(db);
    const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
    process.stdout.write(`migrated; ${pending.length} pending\n`);
  }
} finally {
  await db.destroy();
}
