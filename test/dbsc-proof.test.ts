import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  DbscProofError,
  parseSfStringOrBare,
  verifyRefreshProof,
  verifyRegistrationProof,
  type DbscPublicKey,
} from '../src/sessions/dbsc-proof.js';
import { buildProof, generateDbscKey, type DbscKey } from './support/dbsc-client.js';

describe('DBSC header values', () => {
  it('takes an sf-string (escapes, parameters ignored) or a bare value up to ";"', () => {
    assert.equal(parseSfStringOrBare('"abc.def-_"'), 'abc.def-_');
    assert.equal(parseSfStringOrBare('"abc";id="x"'), 'abc');
    assert.equal(parseSfStringOrBare('abc.def'), 'abc.def');
    assert.equal(parseSfStringOrBare(' abc ; x=1'), 'abc');
    assert.equal(parseSfStringOrBare('"a\\\\b"'), undefined, 'a backslash is outside the alphabet');
  });

  it('refuses empty, unterminated, oversized or foreign values', () => {
    for (const value of [undefined, '', '""', '"abc', 'a b', 'a,b', '"a\\xb"', 'é', 'x'.repeat(9000)]) {
      assert.equal(parseSfStringOrBare(value), undefined, String(value).slice(0, 20));
    }
  });
});

describe('DBSC registration proofs', () => {
  let es: DbscKey;
  let rsa: DbscKey;
  before(async () => {
    es = await generateDbscKey('ES256');
    rsa = await generateDbscKey('RS256');
  });

  it('accepts ES256 and RS256 with the key in the header, reduced to its public members', async () => {
    const proof = await verifyRegistrationProof(
      await buildProof(es, { jti: 'c1', withJwk: true, claims: { aud: 'x' } }),
    );
    assert.deepEqual(proof, {
      jti: 'c1',
      alg: 'ES256',
      publicKey: { kty: 'EC', crv: 'P-256', ...pick(es.publicJwk, 'x', 'y') },
    });
    const rs = await verifyRegistrationProof(await buildProof(rsa, { jti: 'c2', withJwk: true }));
    assert.equal(rs.alg, 'RS256');
    assert.deepEqual(Object.keys(rs.publicKey).sort(), ['e', 'kty', 'n']);
  });

  it('refuses each kind of bad proof, saying why', async () => {
    const other = await generateDbscKey('ES256');
    const small = await generateDbscKey('RS256', 1024);
    const valid = await buildProof(es, { jti: 'c', withJwk: true });
    const [h, p, s] = valid.split('.');
    const cases: Record<string, string> = {
      'no jwk': await buildProof(es, { jti: 'c' }),
      'wrong typ': await buildProof(es, { jti: 'c', withJwk: true, typ: 'jwt' }),
      'no typ': await buildProof(es, { jti: 'c', withJwk: true, typ: null }),
      'alg none': await buildProof(es, { jti: 'c', withJwk: true, alg: 'none' }),
      HS256: await buildProof(es, { jti: 'c', withJwk: true, alg: 'HS256' }),
      'another key in the header': await buildProof(es, { jti: 'c', jwk: other.publicJwk }),
      'bad signature': `${h}.${p}.${s!.slice(0, -4)}AAAA`,
      'RSA under 2048 bits': await buildProof(small, { jti: 'c', withJwk: true }),
      'no jti': await buildProof(es, { jti: '', withJwk: true }),
      'not a JWS': 'abc.def',
      truncated: valid.slice(0, 40),
    };
    for (const [label, jwt] of Object.entries(cases)) {
      await assert.rejects(verifyRegistrationProof(jwt), DbscProofError, label);
    }
  });
});

describe('DBSC refresh proofs', () => {
  let es: DbscKey;
  let stored: DbscPublicKey;
  before(async () => {
    es = await generateDbscKey('ES256');
    stored = (await verifyRegistrationProof(await buildProof(es, { jti: 'r', withJwk: true }))).publicKey;
  });

  it('verifies against the stored key', async () => {
    assert.deepEqual(await verifyRefreshProof(await buildProof(es, { jti: 'n1' }), stored, 'ES256'), {
      kind: 'ok',
      jti: 'n1',
    });
  });

  it('tells another key from a proof that is not one', async () => {
    const thief = await generateDbscKey('ES256');
    const thiefRsa = await generateDbscKey('RS256');
    const wrong = {
      'another key': await buildProof(thief, { jti: 'n' }),
      'another key, its jwk in the header': await buildProof(thief, { jti: 'n', withJwk: true }),
      'another alg': await buildProof(thiefRsa, { jti: 'n' }),
      'alg none': await buildProof(es, { jti: 'n', alg: 'none' }),
      HS256: await buildProof(es, { jti: 'n', alg: 'HS256' }),
    };
    for (const [label, jwt] of Object.entries(wrong)) {
      assert.deepEqual(await verifyRefreshProof(jwt, stored, 'ES256'), { kind: 'wrong-key' }, label);
    }
    const malformed = {
      'not a JWS': 'garbage',
      'two parts': 'eyJhbGciOiJFUzI1NiJ9.e30',
      'wrong typ': await buildProof(es, { jti: 'n', typ: 'jwt' }),
      'no jti': await buildProof(es, { jti: '' }),
    };
    for (const [label, jwt] of Object.entries(malformed)) {
      assert.deepEqual(await verifyRefreshProof(jwt, stored, 'ES256'), { kind: 'malformed' }, label);
    }
  });
});

function pick(object: Record<string, string>, ...keys: string[]) {
  return Object.fromEntries(keys.map((key) => [key, object[key]]));
}
