/**
 * `gatehouse`: the server, for embedding it in a Node program instead of running `gatehouse
 * start`. Other services want `gatehouse/verify`, front ends `gatehouse/client` (and
 * `gatehouse/react`); `gatehouse/schema.graphql` is the schema for their code generators.
 *
 * ```ts
 * import { buildApp, loadConfig } from 'gatehouse';
 * const app = buildApp(loadConfig({ ...process.env, DATABASE_URL: 'sqlite:./data/gatehouse.db' }));
 * console.log(`listening on ${await app.start()}`);
 * ```
 */
export { buildApp, type App, type AppOverrides } from './app.js';
export { ConfigError, loadConfig, type Config } from './config.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger.js';
