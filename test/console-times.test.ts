/**
 * The console's relative times (console/src/format.ts): `nextChange` is when the words of a
 * time may next change, and the page's clock wakes each time on screen then (console/src/clock.ts).
 * Too late and a time says "just now" for good (issue 21); too early and rows are drawn for
 * nothing. The browser side is in console-live-times.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ago, nextChange } from '../console/src/format.js';
import { DAY, MINUTE, SECOND } from './support/clock.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** Offsets from NOW across every unit, both ways, with the edges of "just now" and of each unit. */
function offsets(): number[] {
  const edges = [0, 1, 499, 500, 501, 9_499, 9_500, 9_501, 59_499, 59_500, 59_501, 89_999, 90_000, 90_001];
  const spread = Array.from({ length: 400 }, (_, i) => Math.round(Math.exp((i / 400) * Math.log(3 * 365 * DAY))));
  return [...edges, ...spread, 30 * MINUTE, 59.5 * MINUTE, 23.5 * 3600 * SECOND, 364.5 * DAY].flatMap((ms) => [
    ms,
    -ms,
  ]);
}

describe('console times: when their words change', () => {
  it('a session 90 s old reads "1 min. ago", not "just now"', () => {
    assert.equal(ago(iso(NOW - 5 * SECOND), NOW), 'just now');
    assert.match(ago(iso(NOW - 90 * SECOND), NOW), /^1 min\.? ago$/);
  });

  it('the words hold until nextChange, for past and future times in every unit', () => {
    for (const offset of offsets()) {
      const at = iso(NOW - offset);
      const next = nextChange(at, NOW);
      assert.ok(next > NOW, `${offset}: ${next} is after now`);
      assert.equal(ago(at, next - 1), ago(at, NOW), `${offset}: the words change before ${next - NOW} ms`);
    }
  });

  it('past times: the words do change then (no wake for nothing once past "just now")', () => {
    let changes = 0;
    for (const offset of offsets().filter((ms) => ms >= 10 * SECOND)) {
      const at = iso(NOW - offset);
      assert.notEqual(ago(at, nextChange(at, NOW)), ago(at, NOW), `${offset} ms old`);
      changes++;
    }
    assert.ok(changes > 200, `${changes} times checked`);
  });

  it('wakes are far apart for old times: an hour old waits half an hour or so', () => {
    const hourOld = iso(NOW - 60 * MINUTE);
    assert.equal(nextChange(hourOld, NOW) - NOW, 30 * MINUTE + 1);
    const dayOld = iso(NOW - DAY);
    assert.equal(nextChange(dayOld, NOW) - NOW, DAY / 2 + 1);
  });
});
