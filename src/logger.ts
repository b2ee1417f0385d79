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

/**
 * Logs each kind of message at most once per `intervalMs`, counting the ones it held back, so
 * a failure that repeats on every request (a database outage) cannot flood the log.
 */
export function throttledLogger(logger: Logger, intervalMs = 1_000) {
  const kinds = new Map<string, { lastAt: number; suppressed: number }>();
  return (level: 'info' | 'warn' | 'error', kind: string, message: string, fields: Record<string, unknown> = {}) => {
    const now = Date.now();
    const state = kinds.get(kind);
    if (state && now - state.lastAt < intervalMs) {
      state.suppressed++;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    kinds.set(kind, { lastAt: now, suppressed: 0 });
    logger[level](message, suppressed > 0 ? { ...fields, suppressed } : fields);
  };
}

export type ThrottledLogger = ReturnType<typeof throttledLogger>;
