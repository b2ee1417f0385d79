import { availableParallelism } from 'node:os';
import { HashThreads } from './hash-threads.js';

/**
 * argon2id at OWASP's recommended floor (m=19 MiB, t=2, p=1): ~10 ms per hash on the 2-core
 * machines this was measured on. `Algorithm.Argon2id` is a const enum, which isolated modules
 * cannot import, hence the literal.
 */
const ARGON2ID_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * How far below the event loop hash threads run (`nice`): a loop thread asking for a core
 * gets it over a hash thread nearly every time (scheduler weight 1024 against 110).
 */
const HASH_THREAD_NICENESS = 10;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Checks `password` against `passwordHash`, or against a dummy hash when the user is unknown. */
  verify(passwordHash: string | undefined, password: string): Promise<boolean>;
  /** Ends the hash threads. */
  close(): Promise<void>;
}

/** argon2id on {@link HashThreads}: one thread per core, below the event loop's priority. */
export function createArgon2Hasher(threads = Math.max(1, availableParallelism())): PasswordHasher {
  const pool = new HashThreads(threads, { options: ARGON2ID_OPTIONS, niceness: HASH_THREAD_NICENESS });
  let dummyHash: Promise<string> | undefined;
  // An unknown user is verified against a real hash of the same cost, so a wrong username and a
  // wrong password take the same time.
  const getDummyHash = () => (dummyHash ??= hash('gatehouse-dummy-password'));
  const hash = async (password: string) => (await pool.run({ kind: 'hash', password })) as string;

  return {
    hash,
    async verify(passwordHash, password) {
      const target = passwordHash ?? (await getDummyHash());
      // A stored hash argon2 cannot read is a mismatch, not a failure of the login.
      const matches = await pool.run({ kind: 'verify', passwordHash: target, password }).catch(() => false);
      return matches === true && passwordHash !== undefined;
    },
    close: () => pool.close(),
  };
}
