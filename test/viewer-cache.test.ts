/**
 * The viewer cache on its own (src/sessions/viewer-cache.ts): the rules that make it safe, which
 * the server tests can only reach through timing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Viewer } from '../src/sessions/types.js';
import { ViewerCache } from '../src/sessions/viewer-cache.js';

/** A validated session of `userId`, cached under the token hash `t-<sessionId>`. */
function viewer(userId: string, sessionId: string): { tokenHash: string; viewer: Viewer } {
  const at = new Date(0);
  return {
    tokenHash: `t-${sessionId}`,
    viewer: {
      user: {
        id: userId,
        username: userId,
        usernameKey: userId,
        passwordHash: '$argon2id$not-a-real-hash',
        role: 'USER',
        sessionLimit: null,
        disabledAt: null,
        createdAt: at,
        updatedAt: at,
      },
      session: {
        id: sessionId,
        userId,
        createdAt: at,
        lastSeenAt: at,
        authenticatedAt: at,
        expiresAt: new Date(3_600_000),
        endedAt: null,
        endReason: null,
        userAgent: null,
        ipAddress: null,
        assurance: 'AAL1',
        authenticationMethods: ['PASSWORD'],
        deviceBoundAt: null,
      },
    },
  };
}

/** Caches `entries` as lookups that raced with nothing. */
function cacheWith(maxEntries: number, ...entries: Array<ReturnType<typeof viewer>>): ViewerCache {
  const cache = new ViewerCache(maxEntries);
  for (const { tokenHash, viewer } of entries) cache.setIfUnchanged(tokenHash, viewer, cache.generation);
  return cache;
}

/** The session ids the cache serves, of those asked about. */
const served = (cache: ViewerCache, ...entries: Array<ReturnType<typeof viewer>>) =>
  entries.filter(({ tokenHash }) => cache.get(tokenHash) !== undefined).map(({ viewer }) => viewer.session.id);

describe('ViewerCache', () => {
  const a1 = viewer('alice', 'a1');
  const a2 = viewer('alice', 'a2');
  const b1 = viewer('bob', 'b1');
  const c1 = viewer('carol', 'c1');

  it('a lookup that started before an eviction is not cached; one that started after it is', () => {
    const evictions: Array<[string, (cache: ViewerCache) => void]> = [
      // The race itself: the session is read, ended (and evicted) meanwhile, then cached.
      ['evictSession of the session looked up', (cache) => cache.evictSession('a1')],
      ['evictUser of its user', (cache) => cache.evictUser('alice')],
      // Any eviction moves the generation on, not only the looked-up session's.
      ['evictSession of another session', (cache) => cache.evictSession('b1')],
      ['evictUser of another user', (cache) => cache.evictUser('bob')],
      ['evictAll', (cache) => cache.evictAll()],
    ];
    for (const [label, evict] of evictions) {
      const cache = new ViewerCache(10);
      const generation = cache.generation; // the lookup starts
      evict(cache); // the session ends while the row is being read
      cache.setIfUnchanged(a1.tokenHash, a1.viewer, generation);
      assert.equal(cache.get(a1.tokenHash), undefined, `${label}: a stale row was cached`);
      assert.equal(cache.size, 0, label);

      cache.setIfUnchanged(a1.tokenHash, a1.viewer, cache.generation); // a lookup after the eviction
      assert.equal(cache.get(a1.tokenHash), a1.viewer, `${label}: a fresh row was not cached`);
    }
  });

  it('a lookup that started before any eviction is cached', () => {
    const cache = new ViewerCache(10);
    const generation = cache.generation;
    cache.setIfUnchanged(b1.tokenHash, b1.viewer, cache.generation); // another lookup finishing first
    cache.setIfUnchanged(a1.tokenHash, a1.viewer, generation);
    assert.deepEqual(served(cache, a1, b1), ['a1', 'b1']);
  });

  it('evictSession drops that session only; evictUser drops every session of that user only', () => {
    const cache = cacheWith(10, a1, a2, b1);
    assert.deepEqual(served(cache, a1, a2, b1), ['a1', 'a2', 'b1']);

    cache.evictSession('a1');
    assert.deepEqual(served(cache, a1, a2, b1), ['a2', 'b1']);
    assert.equal(cache.size, 2);

    // Cached again, it is found again by its user.
    cache.setIfUnchanged(a1.tokenHash, a1.viewer, cache.generation);
    cache.evictUser('alice');
    assert.deepEqual(served(cache, a1, a2, b1), ['b1']);
    assert.equal(cache.size, 1);

    // Ids the cache does not hold change nothing.
    cache.evictSession('a2');
    cache.evictUser('nobody');
    assert.deepEqual(served(cache, a1, a2, b1), ['b1']);

    cache.evictUser('bob');
    assert.equal(cache.size, 0);
  });

  it('setEnabled(false) empties the cache and keeps it empty until enabled again', () => {
    const cache = cacheWith(10, a1, b1);
    const lookupBefore = cache.generation;
    cache.setEnabled(false);
    assert.equal(cache.size, 0);
    assert.deepEqual(served(cache, a1, b1), []);

    cache.setIfUnchanged(c1.tokenHash, c1.viewer, cache.generation);
    assert.equal(cache.size, 0, 'cached while disabled');

    cache.setEnabled(true);
    // A lookup that started before the cache was disabled still does not get in.
    cache.setIfUnchanged(a1.tokenHash, a1.viewer, lookupBefore);
    assert.equal(cache.size, 0, 'a lookup from before the disable was cached');
    cache.setIfUnchanged(c1.tokenHash, c1.viewer, cache.generation);
    assert.deepEqual(served(cache, a1, b1, c1), ['c1']);
  });

  it('the size bound drops the oldest entry', () => {
    const cache = cacheWith(2, a1, b1);
    cache.setIfUnchanged(c1.tokenHash, c1.viewer, cache.generation);
    assert.equal(cache.size, 2);
    assert.deepEqual(served(cache, a1, b1, c1), ['b1', 'c1']);

    // The next one drops b1, now the oldest.
    cache.setIfUnchanged(a2.tokenHash, a2.viewer, cache.generation);
    assert.deepEqual(served(cache, a1, a2, b1, c1), ['a2', 'c1']);

    // Evicting alice after her a1 was dropped: a2 goes, the rest stays.
    cache.evictUser('alice');
    assert.deepEqual(served(cache, a1, a2, b1, c1), ['c1']);
    assert.equal(cache.size, 1);
  });

  it('a bound of 0 caches nothing', () => {
    const cache = cacheWith(0, a1, b1);
    assert.equal(cache.size, 0);
    assert.deepEqual(served(cache, a1, b1), []);
  });
});
