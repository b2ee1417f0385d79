/**
 * The floor under a kick's push latency: what one SQLite commit costs on this disk, and what one
 * fsync alone costs, for bench:live. A kick cannot be told to anyone before its end is committed,
 * and with `synchronous=FULL` (src/storage/database.ts) every commit waits for the disk.
 *
 * The commit is timed from this process on the server's own database file (WAL lets a second
 * process write; nothing else writes while this runs), with the server's pragmas, through the
 * same `sqlite3` driver: one single-row UPDATE in its own transaction, in a scratch table of the
 * temp database. The fsync is a 4 KiB write and `fdatasync` of a file beside it.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sqlite3 from 'sqlite3';

/** The server's pragmas that decide what a commit waits for (src/storage/database.ts). */
const PRAGMAS = 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;';

function run(db: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, (error) => (error ? reject(error) : resolve())));
}

/** `count` commits of one UPDATE each on `databasePath`, in ms. */
export async function timeCommits(databasePath: string, count: number): Promise<number[]> {
  const db = new sqlite3.Database(databasePath);
  try {
    await new Promise<void>((resolve, reject) => db.exec(PRAGMAS, (error) => (error ? reject(error) : resolve())));
    await run(db, 'CREATE TABLE IF NOT EXISTS bench_commit (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await run(db, 'INSERT OR REPLACE INTO bench_commit (id, n) VALUES (1, 0)');
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await run(db, 'UPDATE bench_commit SET n = n + 1 WHERE id = 1');
      times.push(performance.now() - t0);
    }
    return times;
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

/** `count` times a 4 KiB write plus `fdatasync` of a file beside `databasePath`, in ms. */
export function timeFsyncs(databasePath: string, count: number): number[] {
  const path = join(dirname(databasePath), 'bench-fsync.bin');
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      writeSync(fd, page, 0, page.length, 0);
      fdatasyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return times;
}
