import type { AttemptRecord } from './store.js';

interface Pending {
  record: AttemptRecord;
  resolve: (applied: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes attempt results in batches, one transaction each: the results that arrive while one
 * batch commits go in the next. A busy webhook's results then cost one commit (one fsync on
 * SQLite) per batch, not one per delivery; a lone result is written at once.
 */
export class ResultWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly write: (records: AttemptRecord[]) => Promise<boolean[]>) {}

  /** Resolves with whether the row took the result (see `WebhookStore.recordAttempts`). */
  record(record: AttemptRecord): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const applied = await this.write(batch.map((pending) => pending.record));
        batch.forEach((pending, i) => pending.resolve(applied[i] ?? false));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.flushing = false;
  }
}
