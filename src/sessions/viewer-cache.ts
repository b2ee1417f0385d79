import type { Viewer } from './types.js';

/**
 * Validated sessions by token hash, so an authenticated request usually costs no query.
 *
 * Safety rests on three rules. Every path that ends a session evicts it synchronously (and
 * other instances do so when the end reaches them), so an ended session is never served. The
 * cache answers only while `trusted()` says that ends from everywhere are proven to reach this
 * process; otherwise it is bypassed, and it is emptied whenever trust lapses. And a lookup that
 * raced with an eviction is not cached: {@link generation} moves on every eviction, and
 * {@link setIfUnchanged} refuses a row read before the latest one. Expiry is not the cache's
 * business: the caller checks it on every hit.
 */
export class ViewerCache {
  private readonly byTokenHash = new Map<string, Viewer>();
  private readonly tokenHashBySessionId = new Map<string, string>();
  private readonly tokenHashesByUserId = new Map<string, Set<string>>();
  private evictions = 0;
  private enabled = true;

  constructor(
    private readonly maxEntries: number,
    /** Whether ends from other instances are proven to reach this one right now; checked per read. */
    private readonly trusted: () => boolean = () => true,
  ) {}

  /** Disabling empties the cache and keeps it empty until enabled again. */
  setEnabled(enabled: boolean): void {
    if (!enabled) this.evictAll();
    this.enabled = enabled;
  }

  /** Read before a storage lookup; pass to {@link setIfUnchanged} after it. */
  get generation(): number {
    return this.evictions;
  }

  get size(): number {
    return this.byTokenHash.size;
  }

  get(tokenHash: string): Viewer | undefined {
    if (!this.trusted()) return undefined;
    return this.byTokenHash.get(tokenHash);
  }

  setIfUnchanged(tokenHash: string, viewer: Viewer, generation: number): void {
    if (!this.enabled || this.maxEntries === 0 || generation !== this.evictions || !this.trusted()) return;
    if (this.byTokenHash.size >= this.maxEntries) {
      // Maps iterate in insertion order: dropping the first entry drops the oldest.
      const oldest = this.byTokenHash.keys().next();
      if (!oldest.done) this.remove(oldest.value);
    }
    this.byTokenHash.set(tokenHash, viewer);
    this.tokenHashBySessionId.set(viewer.session.id, tokenHash);
    let userTokens = this.tokenHashesByUserId.get(viewer.user.id);
    if (!userTokens) this.tokenHashesByUserId.set(viewer.user.id, (userTokens = new Set()));
    userTokens.add(tokenHash);
  }

  evictSession(sessionId: string): void {
    this.evictions++;
    const tokenHash = this.tokenHashBySessionId.get(sessionId);
    if (tokenHash !== undefined) this.remove(tokenHash);
  }

  /** Evicts every cached session of the user (before ending several of them at once). */
  evictUser(userId: string): void {
    this.evictions++;
    for (const tokenHash of this.tokenHashesByUserId.get(userId) ?? []) this.remove(tokenHash);
  }

  evictAll(): void {
    this.evictions++;
    this.byTokenHash.clear();
    this.tokenHashBySessionId.clear();
    this.tokenHashesByUserId.clear();
  }

  private remove(tokenHash: string): void {
    const viewer = this.byTokenHash.get(tokenHash);
    if (!viewer) return;
    this.byTokenHash.delete(tokenHash);
    this.tokenHashBySessionId.delete(viewer.session.id);
    const userTokens = this.tokenHashesByUserId.get(viewer.user.id);
    userTokens?.delete(tokenHash);
    if (userTokens?.size === 0) this.tokenHashesByUserId.delete(viewer.user.id);
  }
}
