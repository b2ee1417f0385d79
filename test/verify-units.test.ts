/**
 * gatehouse/verify's pure parts, without a server: the LRU of verified sessions, the trust clock
 * that carries Gatehouse's 1-second rule into the service, and how a request's credentials are
 * read. The whole verifier against a real Gatehouse is test/verify.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialReader, requestCheck } from '../src/verify/requests.js';
import {
  cacheTimes,
  RECHECK_AFTER_MS,
  RecentEnds,
  SessionCache,
  type CachedSession,
} from '../src/verify/session-cache.js';
import { FeedTrust, TRUST_DEADLINE_MS } from '../src/verify/trust.js';
import { createVerifier, GatehouseUnavailableError, type VerifiedSession } from '../src/verify/index.js';
import { recordingLogger } from './support/verifier.js';

/** Gatehouse's clock: far from this machine's, which must not matter. */
const WALL = Date.parse('2031-01-01T05:00:00Z');

function cached(sessionId: string, overrides: Partial<CachedSession> = {}): CachedSession {
  const verified: VerifiedSession = {
    user: { id: `user-of-${sessionId}`, username: 'alice', role: 'USER' },
    session: { id: sessionId, expiresAt: new Date(WALL + 3_600_000), assurance: 'AAL1', deviceBound: false },
  };
  return { verified, askAfter: 600_000, expiredAfter: 3_600_000, verifiedAt: 0, ...overrides };
}

describe('SessionCache', () => {
  it('serves a cached session until it is older than the recheck age, then asks for a recheck', () => {
    const cache = new SessionCache(10);
    cache.set('t1', cached('s1'));
    assert.equal(cache.lookup('t1', 0).kind, 'fresh');
    assert.equal(cache.lookup('t1', RECHECK_AFTER_MS - 1).kind, 'fresh');
    assert.equal(cache.lookup('t1', RECHECK_AFTER_MS).kind, 'recheck');
    assert.equal(cache.lookup('t2', 0).kind, 'miss');
  });

  it('says a session surely past its absolute end is over, and one possibly past an end must be asked again; both leave', () => {
    const cache = new SessionCache(10);
    cache.set('t1', cached('s1', { askAfter: 500, expiredAfter: 1000 }));
    cache.set('t2', cached('s2', { askAfter: 1000 }));
    assert.equal(cache.lookup('t1', 1000).kind, 'expired');
    assert.equal(cache.lookup('t2', 1000).kind, 'miss');
    assert.equal(cache.size, 0);
  });

  it('drops the least recently used entry when full (a hit counts as a use)', () => {
    const cache = new SessionCache(2);
    cache.set('t1', cached('s1'));
    cache.set('t2', cached('s2'));
    cache.lookup('t1', 0);
    cache.set('t3', cached('s3'));
    assert.equal(cache.lookup('t2', 0).kind, 'miss');
    assert.equal(cache.lookup('t1', 0).kind, 'fresh');
    assert.equal(cache.lookup('t3', 0).kind, 'fresh');
    assert.equal(cache.size, 2);
  });

  it('evicts every key of an ended session at once (its token with each bound cookie), and only those', () => {
    const cache = new SessionCache(10);
    cache.set('t1', cached('s1'));
    cache.set('t1 bound-a', cached('s1'));
    cache.set('t2', cached('s2'));
    cache.evictSession('s1');
    assert.equal(cache.lookup('t1', 0).kind, 'miss');
    assert.equal(cache.lookup('t1 bound-a', 0).kind, 'miss');
    assert.equal(cache.lookup('t2', 0).kind, 'fresh');
    cache.evictSession('unknown');
    cache.evictAll();
    assert.equal(cache.size, 0);
  });

  it('replacing a key keeps one entry, and a cache of size 0 keeps nothing', () => {
    const cache = new SessionCache(10);
    cache.set('t1', cached('s1'));
    cache.set('t1', cached('s1', { verifiedAt: 5 }));
    assert.equal(cache.size, 1);
    const none = new SessionCache(0);
    none.set('t1', cached('s1'));
    assert.equal(none.lookup('t1', 0).kind, 'miss');
  });
});

describe('cacheTimes', () => {
  // Gatehouse said Date: 05:00:00 (so it answered in [05:00:00, 05:00:01)); asked at 100, answered at 150 here.
  const answer = {
    sentAt: 100,
    arrivedAt: 150,
    gatehouseNowMs: WALL,
    expiresAtMs: WALL + 60_000,
    idleExpiresAtMs: WALL + 30_000,
  };

  it('measures from the answer on the monotonic clock, by Gatehouse’s clock: the service’s wall clock plays no part', () => {
    assert.deepEqual(cacheTimes(answer), { askAfter: 100 + 30_000 - 1_000, expiredAfter: 150 + 60_000 });
  });

  it('takes the Date header’s second on the safe side: asks up to a second early, refuses only once surely over', () => {
    const times = cacheTimes({ ...answer, idleExpiresAtMs: WALL + 1_000 })!;
    assert.equal(times.askAfter, 100, 'an idle end within the second of the Date: not served from memory at all');
    const ending = cacheTimes({ ...answer, expiresAtMs: WALL + 500 })!;
    assert.ok(ending.askAfter < 100 && ending.expiredAfter === 650, 'asked again at once; refused only from 650');
  });

  it('without a Date header nothing is known of Gatehouse’s clock: not cached', () => {
    assert.equal(cacheTimes({ ...answer, gatehouseNowMs: Number.NaN }), undefined);
  });
});

describe('RecentEnds', () => {
  it('remembers an end for its window, then forgets it', () => {
    const ends = new RecentEnds(10_000);
    ends.add('s1', 1000);
    assert.equal(ends.has('s1', 10_999), true);
    assert.equal(ends.has('s1', 11_000), false);
    assert.equal(ends.has('s2', 1000), false);
    ends.add('s2', 20_000);
    assert.equal(ends.has('s1', 20_000), false);
  });
});

describe('FeedTrust', () => {
  function trustAt() {
    const clock = { now: 0 };
    const { lines, logger } = recordingLogger();
    let emptied = 0;
    const trust = new FeedTrust(
      logger,
      () => emptied++,
      () => clock.now,
    );
    return { clock, lines, trust, emptied: () => emptied };
  }

  /** A ping sent at `sentAt` and answered at `answeredAt` (the clock moves there). */
  function pingAnswered(clock: { now: number }, trust: FeedTrust, sentAt: number, answeredAt = sentAt): void {
    clock.now = sentAt;
    trust.pingSent();
    clock.now = answeredAt;
    trust.pongReceived();
  }

  it('is not trusted before the first heartbeat, then until pingSentAt + (1000 − proofAgeMs)', () => {
    const { clock, trust, lines } = trustAt();
    assert.equal(trust.trusted, false);
    pingAnswered(clock, trust, 100);
    trust.heartbeat(300);
    assert.equal(trust.trusted, true);
    assert.equal(trust.remainingMs, TRUST_DEADLINE_MS - 300);
    clock.now = 100 + TRUST_DEADLINE_MS - 300 - 1;
    assert.equal(trust.trusted, true);
    clock.now = 100 + TRUST_DEADLINE_MS - 300;
    assert.equal(trust.trusted, false);
    assert.deepEqual(
      lines.map((line) => line.level),
      ['info', 'warn'],
    );
  });

  it('a heartbeat delayed in transit counts from the ping answered before it, not from its arrival', () => {
    const { clock, trust } = trustAt();
    // Every frame takes 400 ms each way: the ping sent at 0 is answered at 800; the heartbeat
    // arriving at 900 was sent at 500 at the latest, and proves ends sent before it left.
    pingAnswered(clock, trust, 0, 800);
    clock.now = 900;
    trust.heartbeat(0);
    assert.equal(trust.remainingMs, TRUST_DEADLINE_MS - 900);
    clock.now = TRUST_DEADLINE_MS;
    assert.equal(trust.trusted, false, 'trust ends 1 s after the ping left, whatever the delay');
  });

  it('a heartbeat proves nothing without an answered ping; a ping still unanswered does not count', () => {
    const { clock, trust } = trustAt();
    trust.heartbeat(0);
    assert.equal(trust.trusted, false);
    pingAnswered(clock, trust, 10, 20);
    clock.now = 30;
    trust.pingSent();
    clock.now = 40;
    trust.heartbeat(0);
    assert.equal(trust.remainingMs, 10 + TRUST_DEADLINE_MS - 40);
  });

  it('pings of an ended connection count for nothing on the next', () => {
    const { clock, trust } = trustAt();
    pingAnswered(clock, trust, 0);
    clock.now = 5;
    trust.pingSent();
    trust.end('the feed closed with 1006');
    trust.heartbeat(0);
    assert.equal(trust.trusted, false, 'the previous connection’s answered ping is forgotten');
    trust.pongReceived();
    trust.heartbeat(0);
    assert.equal(trust.trusted, false, 'a pong on the new connection answers none of the old one’s pings');
  });

  it('an older proof never shortens trust; a proof as old as the deadline gives none', () => {
    const { clock, trust } = trustAt();
    pingAnswered(clock, trust, 0);
    trust.heartbeat(0);
    pingAnswered(clock, trust, 10);
    trust.heartbeat(900);
    assert.equal(trust.remainingMs, TRUST_DEADLINE_MS - 10);
    const other = trustAt();
    pingAnswered(other.clock, other.trust, 0);
    other.trust.heartbeat(TRUST_DEADLINE_MS);
    assert.equal(other.trust.trusted, false);
  });

  it('a lapse empties the cache and logs once; recovery logs once; the epoch moves on both', () => {
    const { clock, trust, lines, emptied } = trustAt();
    pingAnswered(clock, trust, 0);
    trust.heartbeat(0);
    const epoch = trust.epoch;
    clock.now = 5000;
    assert.equal(trust.trusted, false);
    assert.equal(trust.trusted, false);
    assert.equal(emptied(), 1);
    assert.equal(trust.epoch, epoch + 1);
    pingAnswered(clock, trust, 5000);
    trust.heartbeat(0);
    assert.equal(trust.epoch, epoch + 2);
    assert.deepEqual(
      lines.map((line) => line.level),
      ['info', 'warn', 'info'],
    );
    assert.match(lines[1]!.message, /not proven/);
    assert.match(lines[2]!.message, /again/);
  });

  it('a lapse nobody asked about is still noticed by the next heartbeat, before it renews trust', () => {
    const { clock, trust, emptied } = trustAt();
    pingAnswered(clock, trust, 0);
    trust.heartbeat(0);
    const epoch = trust.epoch;
    pingAnswered(clock, trust, 5000);
    trust.heartbeat(0);
    assert.equal(trust.trusted, true);
    assert.equal(emptied(), 1);
    assert.equal(trust.epoch, epoch + 2);
  });

  it('the feed ending ends trust at once, with its reason; a feed that never came up is said once', () => {
    const { clock, trust, lines, emptied } = trustAt();
    trust.end('the feed could not connect');
    trust.end('the feed could not connect');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.message, /could not connect/);
    pingAnswered(clock, trust, 0);
    trust.heartbeat(0);
    trust.end('the feed closed with 1006');
    assert.equal(trust.trusted, false);
    assert.equal(emptied(), 2);
    assert.match(lines.at(-1)!.message, /1006/);
  });
});

describe('reading credentials', () => {
  const reader = new CredentialReader('gatehouse_session');

  it('a bearer token wins over the cookie; the bound cookie is read either way', () => {
    assert.deepEqual(reader.read('gatehouse_session=c; gatehouse_bound=b', 'Bearer x'), {
      token: 'x',
      boundCookie: 'b',
    });
    assert.deepEqual(reader.read('gatehouse_session=c', 'Basic dXNlcg=='), { token: 'c', boundCookie: undefined });
    assert.deepEqual(reader.read(undefined, undefined), { token: undefined, boundCookie: undefined });
  });

  it('the __Host- cookies are read and preferred; an empty cookie is none', () => {
    const header = 'gatehouse_session=plain; __Host-gatehouse_session=host; __Host-gatehouse_bound=hb';
    assert.deepEqual(reader.read(header, null), { token: 'host', boundCookie: 'hb' });
    assert.deepEqual(reader.read('gatehouse_session=; other=1', null), { token: undefined, boundCookie: undefined });
  });

  it('another cookie name gives its own bound cookie name; a __Host- name is taken as its base', () => {
    assert.deepEqual(new CredentialReader('__Host-sid').read('sid=a; sid_bound=b', null), {
      token: 'a',
      boundCookie: 'b',
    });
  });

  it('refuses like Gatehouse: 401 UNAUTHENTICATED with WWW-Authenticate, 503 UNAVAILABLE with Retry-After', async () => {
    const none = await requestCheck(reader, async () => null)('gatehouse_session=x', undefined);
    const down = await requestCheck(reader, async () => {
      throw new GatehouseUnavailableError('down');
    })('gatehouse_session=x', undefined);
    assert.ok('refusal' in none && 'refusal' in down);
    assert.equal(none.refusal.status, 401);
    assert.equal(none.refusal.headers['WWW-Authenticate'], 'Bearer realm="gatehouse"');
    assert.equal(JSON.parse(none.refusal.body).errors[0].extensions.code, 'UNAUTHENTICATED');
    assert.equal(down.refusal.status, 503);
    assert.equal(down.refusal.headers['Retry-After'], '5');
    assert.equal(JSON.parse(down.refusal.body).errors[0].extensions.code, 'UNAVAILABLE');
    const bug = requestCheck(reader, async () => {
      throw new TypeError('a bug');
    });
    await assert.rejects(bug('gatehouse_session=x', undefined), TypeError);
  });
});

describe('createVerifier options', () => {
  const base = { url: 'http://127.0.0.1:9', serviceToken: 'ghs_x' };

  it('refuses a timeout or a cache size that is not a whole number in range, before opening anything', () => {
    for (const requestTimeoutMs of [1500.5, Infinity, NaN, 0, -1, 2 ** 31]) {
      assert.throws(() => createVerifier({ ...base, requestTimeoutMs }), TypeError, String(requestTimeoutMs));
    }
    for (const maxCachedSessions of [NaN, -1, 2.5, Infinity]) {
      assert.throws(() => createVerifier({ ...base, maxCachedSessions }), TypeError, String(maxCachedSessions));
    }
  });

  it('takes the bounds themselves', async () => {
    const { logger } = recordingLogger();
    const options = { ...base, logger, requestTimeoutMs: 2 ** 31 - 1, maxCachedSessions: 0 };
    let verifier: ReturnType<typeof createVerifier> | undefined;
    assert.doesNotThrow(() => (verifier = createVerifier(options)));
    await verifier?.close();
  });
});
