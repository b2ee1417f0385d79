/**
 * Password hashing on its own threads (src/sessions/hash-threads.ts, passwords.ts): answers,
 * queueing, the threads' lower CPU priority, and what happens to a job when its thread goes.
 * The server tests reach all of it through login; these pin the rules that timing hides.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { HashThreads } from '../src/sessions/hash-threads.js';
import { createArgon2Hasher } from '../src/sessions/passwords.js';

/** The `nice` value in a /proc stat file: its 19th field, counted after the command name (which may hold spaces). */
function niceOf(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/**
 * The `nice` value of each thread of this process, by thread id (Linux). A thread that exits
 * while it is read is skipped.
 */
function threadNiceness(): Map<string, number> {
  const niceness = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      niceness.set(tid, niceOf(`/proc/self/task/${tid}/stat`));
    } catch {
      // gone meanwhile
    }
  }
  return niceness;
}

const LIGHT = { options: { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 }, niceness: 10 };

describe('password hashing on hash threads', () => {
  it('a hash verifies with its password only; an unknown user, an unreadable stored hash and a wrong password are all false', async () => {
    const hasher = createArgon2Hasher(1);
    try {
      const stored = await hasher.hash('correct horse battery');
      assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.equal(await hasher.verify(stored, 'correct horse battery'), true);
      assert.equal(await hasher.verify(stored, 'correct horse battery '), false);
      assert.equal(await hasher.verify(undefined, 'correct horse battery'), false, 'unknown user: the dummy hash');
      assert.equal(await hasher.verify('$argon2id$garbage', 'anything'), false, 'unreadable: a mismatch, not a crash');
    } finally {
      await hasher.close();
    }
  });

  it('more jobs than threads wait their turn and all finish, each with its own answer', async () => {
    const threads = new HashThreads(2, LIGHT);
    try {
      const passwords = Array.from({ length: 7 }, (_, i) => `password-number-${i}`);
      const hashes = (await Promise.all(
        passwords.map((password) => threads.run({ kind: 'hash', password })),
      )) as string[];
      assert.equal(new Set(hashes).size, passwords.length, 'every hash has its own salt');
      const checks = await Promise.all(
        hashes.map((passwordHash, i) =>
          threads.run({ kind: 'verify', passwordHash, password: passwords[(i + 1) % 7]! }),
        ),
      );
      assert.deepEqual(checks, Array(7).fill(false), 'each hash matches its own password only');
      const own = await Promise.all(
        hashes.map((passwordHash, i) => threads.run({ kind: 'verify', passwordHash, password: passwords[i]! })),
      );
      assert.deepEqual(own, Array(7).fill(true));
    } finally {
      await threads.close();
    }
  });

  it(
    'on Linux the hash threads run at nice 10, below the event loop, which keeps its own priority',
    { skip: process.platform !== 'linux' },
    async () => {
      const before = threadNiceness();
      const threads = new HashThreads(2, LIGHT);
      try {
        await Promise.all([
          threads.run({ kind: 'hash', password: 'one-password' }),
          threads.run({ kind: 'hash', password: 'two-password' }),
        ]);
        // Only the threads started since: one an earlier test ended may still be winding down.
        const started = [...threadNiceness()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
        assert.equal(
          started.filter((nice) => nice === 10).length,
          2,
          `new threads' nice values: ${started.join(', ')}`,
        );
        assert.equal(niceOf('/proc/self/stat'), 0, 'the main thread is untouched');
      } finally {
        await threads.close();
      }
    },
  );

  it('a job whose thread is ended fails (never a made-up answer), and the next job gets a new thread', async () => {
    const threads = new HashThreads(1, {
      ...LIGHT,
      options: { algorithm: 2, memoryCost: 19_456, timeCost: 20, parallelism: 1 },
    });
    try {
      const slow = threads.run({ kind: 'hash', password: 'a-slow-hash-to-interrupt' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await threads.close();
      await assert.rejects(slow, /hash thread exited/);
      const fresh = new HashThreads(1, LIGHT);
      assert.match((await fresh.run({ kind: 'hash', password: 'after-the-end' })) as string, /^\$argon2id\$/);
      await fresh.close();
      assert.match((await threads.run({ kind: 'hash', password: 'reused-after-close' })) as string, /^\$argon2id\$/);
    } finally {
      await threads.close();
    }
  });
});
