/**
 * The TOTP codes the tests compute (test/support/totp.ts), and the ones Gatehouse accepts
 * (src/sessions/totp.ts), against RFC 6238's own test vectors (Appendix B, SHA-1), and the rules
 * around them: a window of one step either way, a code accepted once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from 'otpauth';
import { matchTotpStep, newTotpSecret, totpStep, totpUri } from '../src/sessions/totp.js';
import { totpCode } from './support/totp.js';

/** RFC 6238 Appendix B: the SHA-1 seed, ASCII "12345678901234567890". */
const RFC_SECRET = Secret.fromLatin1('12345678901234567890');

/** Appendix B's SHA-1 rows: time in seconds, and the 8-digit TOTP. */
const RFC_VECTORS: Array<[seconds: number, code: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP: RFC 6238 test vectors (SHA-1)', () => {
  it('the 8-digit codes of Appendix B', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      assert.equal(totpCode(RFC_SECRET, new Date(seconds * 1000), 8), code, `T = ${seconds}`);
    }
  });

  it('6 digits, as the tests and apps use them, are the last six of the same value', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      assert.equal(totpCode(RFC_SECRET, new Date(seconds * 1000)), code.slice(2), `T = ${seconds}`);
    }
  });

  it('Gatehouse accepts those codes at their step, from the secret as enrollment shows it (base32)', () => {
    const secret = RFC_SECRET.base32;
    for (const [seconds, code] of RFC_VECTORS) {
      const at = new Date(seconds * 1000);
      assert.equal(matchTotpStep(secret, code.slice(2), at, null), totpStep(at), `T = ${seconds}`);
    }
  });
});

describe('TOTP: the rules Gatehouse adds', () => {
  const secret = newTotpSecret();
  const at = new Date(1_800_000_000_000);
  const step = totpStep(at);
  const codeAt = (offset: number) => totpCode(secret, new Date(at.getTime() + offset * 30_000));

  it('a new secret is 160 bits, base32', () => {
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.notEqual(newTotpSecret(), secret);
  });

  it('one step either way is accepted, two are not', () => {
    assert.equal(matchTotpStep(secret, codeAt(-1), at, null), step - 1);
    assert.equal(matchTotpStep(secret, codeAt(0), at, null), step);
    assert.equal(matchTotpStep(secret, codeAt(1), at, null), step + 1);
    assert.equal(matchTotpStep(secret, codeAt(-2), at, null), undefined);
    assert.equal(matchTotpStep(secret, codeAt(2), at, null), undefined);
  });

  it('a step at or before the last one accepted is not accepted again', () => {
    assert.equal(matchTotpStep(secret, codeAt(0), at, step), undefined, 'the same step');
    assert.equal(matchTotpStep(secret, codeAt(-1), at, step), undefined, 'an earlier step');
    assert.equal(matchTotpStep(secret, codeAt(1), at, step), step + 1, 'a later one still is');
  });

  it('the otpauth URI names Gatehouse and the user, with the parameters apps expect', () => {
    const uri = new URL(totpUri(secret, 'ana@example'));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Gatehouse:ana@example');
    assert.deepEqual(Object.fromEntries(uri.searchParams), {
      issuer: 'Gatehouse',
      secret,
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});
