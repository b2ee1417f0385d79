/**
 * The login throttle's rule is written twice: `retryAfterMs` (src/sessions/throttle.ts) says how
 * long an attempt must wait, and `reserveLoginAttempts` (src/storage/login-throttle-store.ts) is the
 * same rule in SQL, as one atomic statement over all the counters of an attempt. These tests drive keys through failures at controlled
 * times on a real database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set) and check, at
 * every attempt, that the store refuses exactly when `retryAfterMs` for the state it holds is
 * above 0 and allows (and counts) exactly when it is 0. The real ACCOUNT_THROTTLE and IP_THROTTLE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { LoginThrottle } from '../src/sessions/throttle.js';
import {
  ACCOUNT_THROTTLE,
  accountThrottleKey,
  IP_THROTTLE,
  ipThrottleKey,
  retryAfterMs,
  THROTTLE_WINDOW_MS,
  type ThrottleRule,
  type ThrottleState,
} from '../src/sessions/throttle-rules.js';
import { KnexLoginThrottleStore } from '../src/storage/login-throttle-store.js';
import { SECOND } from './support/clock.js';
import { DATABASE_KINDS, openMigratedDatabase, type MigratedDatabase } from './support/databases.js';

const RULES: Array<[string, ThrottleRule]> = [
  ['ACCOUNT_THROTTLE', ACCOUNT_THROTTLE],
  ['IP_THROTTLE', IP_THROTTLE],
];
/** The start of every key's first window. */
const T0 = Date.UTC(2030, 0, 1);
const WINDOW_END = T0 + THROTTLE_WINDOW_MS;
/** Both rules: 1 s doubling after the free failures, capped at 15 minutes. */
const DELAYS_IN_THE_FIRST_WINDOW = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900].map((s) => s * SECOND);

interface ThrottleRow {
  failures: number | string;
  window_started_at: number | string;
  last_failure_at: number | string;
}

for (const kind of DATABASE_KINDS) {
  describe(`throttle: retryAfterMs and reserveLoginAttempts agree (${kind})`, () => {
    let opened: MigratedDatabase;
    let db: Knex;
    let store: KnexLoginThrottleStore;

    before(async () => {
      opened = await openMigratedDatabase(kind);
      db = opened.db;
      store = new KnexLoginThrottleStore(db);
    });
    after(() => opened?.close());

    async function stored(key: string): Promise<ThrottleState | undefined> {
      const row = (await db('login_throttles').where({ key }).first()) as ThrottleRow | undefined;
      return (
        row && {
          failures: Number(row.failures),
          windowStartedAt: new Date(Number(row.window_started_at)),
          lastFailureAt: new Date(Number(row.last_failure_at)),
        }
      );
    }

    async function plant(key: string, state: ThrottleState): Promise<void> {
      await db('login_throttles').where({ key }).delete();
      await db('login_throttles').insert({
        key,
        failures: state.failures,
        window_started_at: state.windowStartedAt.getTime(),
        last_failure_at: state.lastFailureAt.getTime(),
      });
    }

    /**
     * One attempt on `key` at `at`. `retryAfterMs` for the state the store holds decides what the
     * store must do: above 0, refuse it (answering with that state) and change nothing; 0, allow
     * it and count it, in a new window when the last one is over. Returns `retryAfterMs`.
     */
    async function attempt(key: string, rule: ThrottleRule, at: number, label: string): Promise<number> {
      const held = await stored(key);
      const wait = retryAfterMs(held, rule, new Date(at));
      const refusedBy = (await store.reserveLoginAttempts([{ key, rule }], new Date(at))).get(key);
      const where = `${label} (T0 + ${at - T0} ms, held ${JSON.stringify(held)})`;
      if (wait > 0) {
        assert.deepEqual(refusedBy, held, `${where}: retryAfterMs says wait ${wait} ms; the store did not refuse`);
        assert.deepEqual(await stored(key), held, `${where}: a refused attempt was counted`);
      } else {
        assert.equal(refusedBy, undefined, `${where}: retryAfterMs allows it; the store refused`);
        const newWindow = !held || at >= held.windowStartedAt.getTime() + THROTTLE_WINDOW_MS;
        assert.deepEqual(
          await stored(key),
          newWindow
            ? { failures: 1, windowStartedAt: new Date(at), lastFailureAt: new Date(at) }
            : { failures: held.failures + 1, windowStartedAt: held.windowStartedAt, lastFailureAt: new Date(at) },
          `${where}: the allowed attempt was not counted as it should be`,
        );
      }
      return wait;
    }

    for (const [name, rule] of RULES) {
      it(`${name}: the free failures, each doubling delay up to the cap, and the end of the window`, async () => {
        const key = `drive:${name}`;
        for (let i = 1; i <= rule.freeFailures; i++) {
          assert.equal(await attempt(key, rule, T0, `free failure ${i}`), 0, `free failure ${i}`);
        }
        // Each delay: refused at once and 1 ms before it ends, allowed when it ends; the window's
        // end cuts the last one short.
        const delays: number[] = [];
        for (let now = T0; ;) {
          const wait = await attempt(key, rule, now, 'right after a failure');
          assert.ok(wait > 0, 'no delay after the free failures');
          const allowedAt = Math.min(now + wait, WINDOW_END);
          assert.ok((await attempt(key, rule, allowedAt - 1, '1 ms before the wait ends')) > 0);
          assert.equal(await attempt(key, rule, allowedAt, 'when the wait ends'), 0);
          if (allowedAt === WINDOW_END) break;
          delays.push(wait);
          now = allowedAt;
        }
        assert.deepEqual(delays, DELAYS_IN_THE_FIRST_WINDOW);
        // The new window started with that attempt: the free failures are free again.
        assert.equal((await stored(key))?.failures, 1);
        for (let i = 2; i <= rule.freeFailures; i++) {
          assert.equal(await attempt(key, rule, WINDOW_END, `free failure ${i} of the new window`), 0);
        }
        assert.equal(await attempt(key, rule, WINDOW_END, 'after them'), rule.baseDelayMs);
      });

      it(`${name}: the per-window maximum refuses until the window ends, whatever the delay`, async () => {
        const key = `maximum:${name}`;
        // One failure short of the maximum, the last at T0. Waiting out every delay reaches no
        // more than a few dozen failures in a window, so the counter is planted.
        await plant(key, {
          failures: rule.maxFailuresPerWindow - 1,
          windowStartedAt: new Date(T0),
          lastFailureAt: new Date(T0),
        });
        assert.ok((await attempt(key, rule, T0 + rule.maxDelayMs - 1, 'before the capped delay ends')) > 0);
        assert.equal(await attempt(key, rule, T0 + rule.maxDelayMs, 'the last failure the window allows'), 0);
        assert.equal((await stored(key))?.failures, rule.maxFailuresPerWindow);
        for (const at of [T0 + 2 * rule.maxDelayMs + 1, T0 + 3 * rule.maxDelayMs, WINDOW_END - 1]) {
          assert.equal(await attempt(key, rule, at, 'at the maximum'), WINDOW_END - at, 'only the window end helps');
        }
        assert.equal(await attempt(key, rule, WINDOW_END, 'the window ends'), 0);
        assert.equal((await stored(key))?.failures, 1);
      });

      it(`${name}: any stored counter, at the edges of its delay and of its window`, async () => {
        const key = `edges:${name}`;
        const counts = [
          0, // what a released attempt can leave behind
          1,
          rule.freeFailures - 1,
          rule.freeFailures,
          rule.freeFailures + 1,
          rule.freeFailures + 9, // the last delay under the cap (512 s)
          rule.freeFailures + 10, // the first capped one
          rule.freeFailures + 40,
          rule.maxFailuresPerWindow - 1,
          rule.maxFailuresPerWindow,
        ];
        // Early in the window, and so late that the delay runs past its end.
        const lastFailures = [T0 + 10 * SECOND, WINDOW_END - 100 * SECOND];
        for (const failures of counts) {
          for (const last of lastFailures) {
            const state = { failures, windowStartedAt: new Date(T0), lastFailureAt: new Date(last) };
            const delayEnd = last + retryAfterMs(state, rule, new Date(last));
            const times = [last, delayEnd - 1, delayEnd, WINDOW_END - 1, WINDOW_END].filter((at) => at >= last);
            for (const at of new Set(times)) {
              await plant(key, state);
              await attempt(key, rule, at, `${failures} failures, the last at T0 + ${last - T0} ms`);
            }
          }
        }
      });
    }

    it('both counters in one statement: each answers to its own rule, and one refusal counts neither', async () => {
      const at = T0 + 10 * SECOND;
      // The account waits out its first delay (1 s after its sixth failure); the IP is still free.
      const waiting = {
        failures: ACCOUNT_THROTTLE.freeFailures + 1,
        windowStartedAt: new Date(T0),
        lastFailureAt: new Date(at),
      };
      const free = { failures: 3, windowStartedAt: new Date(T0), lastFailureAt: new Date(T0) };
      const [account, ip] = [accountThrottleKey('both'), ipThrottleKey('192.0.2.7')];
      await plant(account, waiting);
      await plant(ip, free);
      const counters = [
        { key: account, rule: ACCOUNT_THROTTLE },
        { key: ip, rule: IP_THROTTLE },
      ];
      const refusedBy = await store.reserveLoginAttempts(counters, new Date(at));
      assert.deepEqual([...refusedBy], [[account, waiting]], 'the account refuses, as its own rule says');
      assert.deepEqual(await stored(ip), { ...free, failures: 4, lastFailureAt: new Date(at) }, 'the IP counted it');
      assert.deepEqual(await stored(account), waiting, 'the refusing counter is unchanged');

      // The throttle gives the IP's count back, and tells the account's wait.
      await plant(ip, free);
      const refusal = await new LoginThrottle(store).reserve('both', '192.0.2.7', new Date(at));
      assert.deepEqual(refusal, { retryAfterSeconds: 2 }, 'the account wait, 2 s after its seventh failure');
      // Counted and given back in two statements: the IP's failures are as they were, its last attempt is this one.
      assert.deepEqual(await stored(ip), { ...free, lastFailureAt: new Date(at) }, 'the IP counts no failure');
      assert.deepEqual(await stored(account), waiting);

      // The other way round: an IP at its per-window maximum refuses; the account gives its count back.
      const full = {
        failures: IP_THROTTLE.maxFailuresPerWindow,
        windowStartedAt: new Date(T0),
        lastFailureAt: new Date(T0),
      };
      await plant(account, free);
      await plant(ip, full);
      const byIp = await new LoginThrottle(store).reserve('both', '192.0.2.7', new Date(at));
      assert.deepEqual(byIp, { retryAfterSeconds: Math.ceil((WINDOW_END - at) / 1000) }, 'the IP waits out its window');
      assert.deepEqual(await stored(account), { ...free, lastFailureAt: new Date(at) }, 'counted, then given back');
    });
  });
}
