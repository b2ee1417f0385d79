/**
 * Second factors' secrets (DESIGN.md, "Second factors and passkeys"): no TOTP secret, recovery
 * code or pending login token in the database (the SQLite file, its WAL) or in any log line; the
 * key that seals TOTP secrets (SECRETS_KEY, or a key file made beside a development database at
 * first need); and what a start does when the key is missing or wrong. Real servers.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Secret } from 'otpauth';
import { createLogger } from '../src/logger.js';
import { StartTotpEnrollmentDocument, VerifySecondFactorDocument } from './generated/graphql.js';
import { assertRefused, TestClient } from './support/client.js';
import { ManualClock } from './support/clock.js';
import { createTestDatabase, DATABASE_KINDS } from './support/databases.js';
import { enrollTotp, passwordLogin } from './support/factors.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startAppOn, startTestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';

/** The SQLite file and its WAL and shared-memory files, as bytes. */
function databaseBytes(path: string): Array<{ name: string; bytes: Buffer }> {
  return [path, `${path}-wal`, `${path}-shm`]
    .filter((file) => existsSync(file))
    .map((file) => ({ name: file, bytes: readFileSync(file) }));
}

/** A logger that writes JSON lines, as production does, into a string the test reads. */
function capturedLogger() {
  const captured = { text: '' };
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured.text += chunk.toString();
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), captured };
}

const newKey = () => randomBytes(32).toString('base64');

describe('second factors: secrets at rest and in logs (sqlite, development: a key file)', () => {
  it('the key file is made at first need (mode 0600); no secret, recovery code or pending token is in the database or the logs', async () => {
    const { logger, captured } = capturedLogger();
    const server = await startTestServer({ env: QUIET_SWEEPER, overrides: { logger } });
    try {
      const sqlitePath = server.database.sqlitePath!;
      const keyFile = join(dirname(sqlitePath), 'secrets.key');
      assert.equal(existsSync(keyFile), false, 'no key file before an app is enrolled');
      const admin = await server.adminClient();
      await createUser(admin, 'tess');
      const signedIn = (await signIn(server, 'tess')).client;
      const { secret, recoveryCodes } = await enrollTotp(server, signedIn);
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.equal(Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64').length, 32);
      const finished = await passwordLogin(server, 'tess');
      const pendingTokens = [finished.client.token!];
      await finished.client.data(VerifySecondFactorDocument, { code: recoveryCodes[0]! });
      const waiting = await passwordLogin(server, 'tess');
      pendingTokens.push(waiting.client.token!);

      const normalized = recoveryCodes.map((code) => code.replaceAll('-', ''));
      const values: Array<[string | Buffer, string]> = [
        [secret, 'the TOTP secret (base32)'],
        [Buffer.from(Secret.fromBase32(secret).bytes), 'the TOTP secret (raw bytes)'],
        ...recoveryCodes.map((code): [string, string] => [code, 'a recovery code']),
        ...normalized.map((code): [string, string] => [code, 'a recovery code, as compared']),
        ...pendingTokens.map((token): [string, string] => [token, 'a pending login token']),
        ...pendingTokens.map((token): [string, string] => [token.slice(2), 'the random part of a pending token']),
      ];
      const check = (when: string) => {
        const files = databaseBytes(sqlitePath);
        for (const [value, label] of values) {
          for (const { name, bytes } of files)
            assert.equal(bytes.includes(value), false, `${when}: ${label} in ${name}`);
          assert.equal(captured.text.includes(value.toString()), false, `${when}: ${label} in a log line`);
        }
        // Positive controls: what is kept instead is there, so the scan reads the data.
        const all = Buffer.concat(files.map((file) => file.bytes));
        assert.ok(all.includes('v1.'), `${when}: the sealed secret`);
        assert.ok(all.includes(createHash('sha256').update(normalized[1]!).digest('hex')), `${when}: a code's hash`);
        assert.ok(
          all.includes(createHash('sha256').update(pendingTokens[1]!).digest('hex')),
          `${when}: a token's hash`,
        );
      };
      check('running');
      assert.match(captured.text, /"message":"second factor added"/, 'the log is being captured');
      await server.stopApp();
      check('stopped');
    } finally {
      await server.stop();
    }
  });
});

for (const kind of DATABASE_KINDS) {
  describe(`second factors: the secrets key at start (${kind})`, () => {
    it('a wrong SECRETS_KEY stops the start, and so does no key (production on SQLite, PostgreSQL) once an app is enrolled', async () => {
      const database = await createTestDatabase(kind);
      const clock = new ManualClock();
      const key = newKey();
      try {
        const first = await startAppOn(database, clock, { ...QUIET_SWEEPER, SECRETS_KEY: key });
        try {
          const on = { client: () => new TestClient(first.url) };
          const admin = (await signIn(on, ADMIN_USERNAME, ADMIN_PASSWORD)).client;
          await createUser(admin, 'uma');
          await enrollTotp({ clock }, (await signIn(on, 'uma')).client);
        } finally {
          await first.app.stop();
        }
        await assert.rejects(
          startAppOn(database, clock, { ...QUIET_SWEEPER, SECRETS_KEY: newKey() }),
          /SECRETS_KEY\) does not open the enrolled authenticator apps' secrets/,
        );
        const noKey: Record<string, string> = kind === 'sqlite' ? { NODE_ENV: 'production' } : {};
        await assert.rejects(
          startAppOn(database, clock, { ...QUIET_SWEEPER, ...noKey }),
          /Authenticator apps are enrolled, but there is no key to open their secrets/,
        );
        const again = await startAppOn(database, clock, { ...QUIET_SWEEPER, SECRETS_KEY: key });
        await again.app.stop();
      } finally {
        await database.drop();
      }
    });

    it('without a key where one must be set (production on SQLite, PostgreSQL), enrolling an app is FORBIDDEN (SECRETS_KEY_UNSET)', async () => {
      const env: Record<string, string> = {
        ...QUIET_SWEEPER,
        ...(kind === 'sqlite' ? { NODE_ENV: 'production' } : {}),
      };
      const server = await startTestServer({ database: kind, env });
      try {
        const admin = await server.adminClient();
        const refused = await admin.request(StartTotpEnrollmentDocument);
        assertRefused(refused, 'FORBIDDEN');
        assert.equal(refused.errors?.[0]?.extensions?.reason, 'SECRETS_KEY_UNSET');
        assert.match(refused.errors?.[0]?.message ?? '', /SECRETS_KEY/);
      } finally {
        await server.stop();
      }
    });
  });
}
