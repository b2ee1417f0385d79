/**
 * Logs: JSON lines on stderr through pino (`{"level":"info","time":"<ISO>","message":…}`),
 * readable in a terminal during development (pino-pretty, when stderr is a TTY and it is
 * installed). Everything else receives the small {@link Logger} interface; tests pass
 * {@link silentLogger}.
 *
 * Safety rule: no cookie, token, password, secret or `Authorization` value is ever logged. Call
 * sites log public ids only; the redaction below is the second lock, censoring those fields
 * wherever they turn up in a line (and the request log records paths, never query strings).
 */
import pino, { type DestinationStream } from 'pino';

export interface Logger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SECRET_FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'token',
  'tokenHash',
  'secret',
  'otpauthUri',
  'recoveryCodes',
  'cookie',
  'authorization',
  'set-cookie',
];

/** Each secret field at the top of a line, one level down, and in request or response headers. */
export const REDACTED_PATHS = SECRET_FIELDS.flatMap((field) => {
  const key = /^[a-z]+$/i.test(field) ? field : `["${field}"]`;
  const dotted = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
  return [key, dotted('*'), dotted('headers'), dotted('*.headers')];
});

export interface LoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  level?: LogLevel;
  /** Human-readable lines through pino-pretty (development, when stderr is a TTY). Default false. */
  pretty?: boolean;
  /** Where lines go. Default: stderr, written synchronously so no line is lost at exit. */
  destination?: DestinationStream;
}

function prettyTransport(): DestinationStream | undefined {
  try {
    return pino.transport({ target: 'pino-pretty', options: { destination: 2, messageKey: 'message' } });
  } catch {
    return undefined; // a production install has no devDependencies: JSON it is
  }
}

export function createLogger({ level = 'info', pretty = false, destination }: LoggerOptions = {}): Logger {
  const out = destination ?? (pretty ? prettyTransport() : undefined) ?? pino.destination({ dest: 2, sync: true });
  const log = pino(
    {
      level,
      messageKey: 'message',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: pino.stdSerializers.err },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    out,
  );
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
  };
}

/** The process's logger until settings are read: JSON at `info` on stderr. */
export const consoleLogger: Logger = createLogger();

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
