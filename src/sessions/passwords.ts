import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { Semaphore } from './semaphore.js';

/**
 * argon2id at OWASP's recommended floor (m=19 MiB, t=2, p=1): ~10 ms per hash on the 2-core
 * machines this was measured on. `Algorithm.Argon2id` is a const enum, which isolated modules
 * cannot import, hence the literal.
 */
const ARGON2ID_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Checks `password` against `passwordHash`, or against a dummy hash when the user is unknown. */
  verify(passwordHash: string | undefined, password: string): Promise<boolean>;
}

/**
 * Hashes run on libuv's thread pool; a login storm would otherwise fill that pool (which the
 * database driver also uses) and starve authenticated requests. One hash in flight per core.
 */
export function createArgon2Hasher(maxConcurrentHashes = Math.max(1, availableParallelism())): PasswordHasher {
  const slots = new Semaphore(maxConcurrentHashes);
  let dummyHash: Promise<string> | undefined;
  // An unknown user is verified against a real hash of the same cost, so a wrong username and a
  // wrong password take the same time.
  const getDummyHash = () => (dummyHash ??= hash('gatehouse-dummy-password', ARGON2ID_OPTIONS));

  return {
    hash: (password) => slots.run(() => hash(password, ARGON2ID_OPTIONS)),
    async verify(passwordHash, password) {
      const target = passwordHash ?? (await getDummyHash());
      const matches = await slots.run(() => verify(target, password).catch(() => false));
      return matches && passwordHash !== undefined;
    },
  };
}
