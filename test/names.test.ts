/**
 * Names people give things (service tokens, second factors: src/sessions/names.ts): one visible
 * line in NFC, so that two names that look alike are one name. Pure rules; the GraphQL fields
 * that use them are tested with their features (service-tokens.test.ts, passkeys.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatehouseError } from '../src/sessions/errors.js';
import { displayName } from '../src/sessions/names.js';
import { factorName } from '../src/sessions/second-factors.js';

function refusal(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GatehouseError, String(error));
    return error.code;
  }
  return undefined;
}

describe('display names', () => {
  it('trims and normalises to NFC: "é" as one character or as "e" and an accent is one name', () => {
    assert.equal(displayName('  caf\u0065\u0301  ', 10), 'caf\u00e9');
    assert.equal(displayName('caf\u00e9', 10), displayName('cafe\u0301', 10));
    assert.equal(displayName('   ', 10), '', 'blank: the caller decides');
  });

  it('refuses control, format (zero-width, direction marks) and lone surrogate characters', () => {
    const refused = {
      'a control character': 'bell\u0007',
      'a line break': 'two\nlines',
      'a zero-width space': 'billing\u200B',
      'a zero-width joiner': 'bill\u200Ding',
      'a right-to-left override': 'billing\u202E',
      'a lone high surrogate': 'broken\uD800',
      'a lone low surrogate': '\uDC00broken',
    };
    for (const [label, name] of Object.entries(refused)) {
      assert.equal(
        refusal(() => displayName(name, 100)),
        'BAD_USER_INPUT',
        label,
      );
      assert.equal(
        refusal(() => factorName(name, 'fallback')),
        'BAD_USER_INPUT',
        `a factor's name with ${label}`,
      );
    }
    assert.equal(displayName('emoji 😀 pair', 100), 'emoji 😀 pair', 'a surrogate pair is one character');
  });

  it('counts characters as people do (code points, after NFC); a factor has its default when blank', () => {
    assert.equal(displayName('😀'.repeat(5), 5), '😀'.repeat(5));
    assert.equal(
      refusal(() => displayName('😀'.repeat(6), 5)),
      'BAD_USER_INPUT',
    );
    assert.equal(displayName('e\u0301'.repeat(5), 5), '\u00e9'.repeat(5), 'composed before counting');
    assert.equal(factorName('  ', 'Authenticator app'), 'Authenticator app');
    assert.equal(factorName(undefined, 'Passkey'), 'Passkey');
    assert.equal(
      refusal(() => factorName('x'.repeat(65), 'fallback')),
      'BAD_USER_INPUT',
    );
  });
});
