/**
 * Where SECRETS_KEY comes from (see config.ts): the setting; else, on SQLite outside production,
 * a key file beside the database (`secrets.key`, made at first need with mode 0600, read by every
 * process on that database); for `sqlite::memory:` a key of this process (the database dies with
 * it); else none (production, PostgreSQL: instances must share one key, so it must be set).
 *
 * The file holds the key as SECRETS_KEY takes it (base64), so moving to production means copying
 * it into the setting.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { SECRETS_KEY_BYTES, type SecretsKeySource } from '../sessions/secrets-box.js';
import { databaseKind } from './database-kind.js';

/** A key source, and how to name it in a message. */
export interface DescribedKeySource extends SecretsKeySource {
  /** `SECRETS_KEY`, the key file's path, or why there is none. */
  readonly description: string;
}

export function secretsKeySource(
  config: Pick<Config, 'secretsKey' | 'databaseUrl' | 'nodeEnv'>,
  logger: Logger,
): DescribedKeySource {
  const { secretsKey, databaseUrl, nodeEnv } = config;
  if (secretsKey) return { description: 'SECRETS_KEY', key: () => secretsKey };
  if (nodeEnv === 'production' || databaseKind(databaseUrl) === 'postgres') {
    return { description: 'no key (SECRETS_KEY is not set)', key: () => undefined };
  }
  const filename = databaseUrl.slice('sqlite:'.length);
  if (filename === ':memory:') return processKey();
  return keyFile(join(dirname(filename), 'secrets.key'), logger);
}

function processKey(): DescribedKeySource {
  let key: Buffer | undefined;
  return {
    description: 'a key of this process (sqlite::memory:)',
    key: ({ create }) => (key ??= create ? randomBytes(SECRETS_KEY_BYTES) : undefined),
  };
}

function keyFile(path: string, logger: Logger): DescribedKeySource {
  let key: Buffer | undefined;
  const read = (): Buffer | undefined => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const bytes = Buffer.from(text.trim(), 'base64');
    if (bytes.length !== SECRETS_KEY_BYTES)
      throw new Error(`${path} does not hold a ${SECRETS_KEY_BYTES}-byte key (base64)`);
    return bytes;
  };
  const create = (): Buffer => {
    try {
      // `wx`: of two processes making it at once, one writes it and the other reads that one.
      writeFileSync(path, `${randomBytes(SECRETS_KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      logger.warn('generated SECRETS_KEY into a file beside the database: set SECRETS_KEY before production', {
        path,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return read()!;
  };
  return {
    description: `the key file ${path}`,
    key: (options) => (key ??= read() ?? (options.create ? create() : undefined)),
  };
}
