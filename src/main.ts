import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { consoleLogger, createLogger, type Logger } from './logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  // Pretty only for a person at a terminal; JSON lines for everything that reads logs.
  const logger = createLogger({
    level: config.logLevel,
    pretty: config.nodeEnv !== 'production' && process.stderr.isTTY === true,
  });
  logStartFailure = logger;
  const app = buildApp(config, { logger });
  const url = await app.start();
  logger.info('listening', {
    url: `${url}/graphql`,
    database: config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@'),
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    // A stuck request must not keep the process alive past what an orchestrator waits for.
    setTimeout(() => {
      logger.error('forced exit: requests still running after 10s');
      process.exit(1);
    }, 10_000).unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('stop failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

let logStartFailure: Logger = consoleLogger;

main().catch((error: unknown) => {
  logStartFailure.error('failed to start', { error });
  process.exit(1);
});
