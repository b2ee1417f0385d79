/** Structured one-line JSON logs on stderr; tests pass a silent logger. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function write(level: string, message: string, fields?: Record<string, unknown>): void {
  const entry: Record<string, unknown> = { time: new Date().toISOString(), level, message, ...fields };
  if (entry.error instanceof Error)
    entry.error = { name: entry.error.name, message: entry.error.message, stack: entry.error.stack };
  process.stderr.write(JSON.stringify(entry) + '\n');
}

export const consoleLogger: Logger = {
  info: (message, fields) => write('info', message, fields),
  warn: (message, fields) => write('warn', message, fields),
  error: (message, fields) => write('error', message, fields),
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
