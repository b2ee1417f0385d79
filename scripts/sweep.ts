/**
 * `npm run sweep`: one sweep by hand, with the same settings as the server: ends expired
 * sessions (EXPIRED) and deletes rows ended longer ago than SESSION_RETENTION.
 */
import { buildApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { migrateToLatest } from '../src/storage/database.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`sweep: ${error.message}\n`);
  process.exit(1);
}
const app = buildApp(config);
try {
  await migrateToLatest(app.db);
  const result = await app.sweeper.runOnce();
  process.stdout.write(
    `expired ${result.expired} sessions, deleted ${result.deleted} old rows and ${result.deletedAuthEvents} old audit events\n`,
  );
} finally {
  await app.sessions.close();
  await app.db.destroy();
}
