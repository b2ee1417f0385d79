/**
 * For the tests of `gatehouse/verify`: a logger that keeps its lines, and a way to tell an answer
 * from memory from one that asked Gatehouse without looking inside the verifier.
 */

/** The verifier's error line when the feed refuses its token (closed 4403 on revocation, or 4401 on reconnecting). */
export const REFUSED_ON_THE_FEED = /refused the service token on the session-end feed/;

export type LogLevel = 'info' | 'warn' | 'error';

export interface RecordedLine {
  level: LogLevel;
  message: string;
}

/** A logger (for `createVerifier({ logger })`) that keeps its lines, and filters them by level. */
export function recordingLogger() {
  const lines: RecordedLine[] = [];
  const at = (level: LogLevel) => (message: unknown) => void lines.push({ level, message: String(message) });
  return {
    lines,
    logger: { info: at('info'), warn: at('warn'), error: at('error') },
    at: (level: LogLevel) => lines.filter((line) => line.level === level).map((line) => line.message),
  };
}

/**
 * Whether `promise` settles before any I/O can happen (`setImmediate`): an answer from memory
 * does; one that asked Gatehouse over the network cannot.
 */
export async function settlesWithoutIo(promise: Promise<unknown>): Promise<boolean> {
  const io = new Promise<'io'>((resolve) => setImmediate(() => resolve('io')));
  const settled = promise.then(
    () => 'settled' as const,
    () => 'settled' as const,
  );
  return (await Promise.race([settled, io])) === 'settled';
}
