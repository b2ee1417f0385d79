import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { consoleLogger } from './logger.js';

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

  const app = buildApp(config);
  const url = await app.start();
  consoleLogger.info('listening', {
    url: `${url}/graphql`,
    database: config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@'),
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    consoleLogger.info('stopping', { signal });
    // A stuck request must not keep the process alive past what an orchestrator waits for.
    setTimeout(() => {
      consoleLogger.error('forced exit: requests still running after 10s');
      process.exit(1);
    }, 10_000).unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        consoleLogger.error('stop failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  consoleLogger.error('failed to start', { error });
  process.exit(1);
});
