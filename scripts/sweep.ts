/**
 * `npm run sweep`: one sweep by hand, with the same settings as the server: ends expired
 * sessions (EXPIRED), announcing each on the event bus like any end, and deletes rows ended
 * longer ago than SESSION_RETENTION. Builds the core only, so it exits when done.
 */
import { ConfigError, loadConfig } from '../src/config.js';
import { createCore } from '../src/core.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`sweep: ${error.message}\n`);
  process.exit(1);
}
const core = createCore(config);
try {
  await core.start();
  const result = await core.sweeper.runOnce();
  process.stdout.write(
    `expired ${result.expired} sessions, deleted ${result.deleted} old rows and ${result.deletedAuthEvents} old audit events\n`,
  );
} finally {
  await core.close();
}
