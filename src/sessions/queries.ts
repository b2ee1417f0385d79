import type { Clock } from './clock.js';
import type { LastSeenWriter } from './last-seen-writer.js';
import { readPage, type Page, type PageQuery } from './page.js';
import { hasExpired, type SessionPolicy } from './policy.js';
import type { SessionStats, SessionStore } from './store.js';
import type { SessionRecord } from './types.js';

/** `sessionsByUser` is a plain list; this bounds it for users with a long history. */
export const USER_SESSION_LIST_LIMIT = 500;
/** What the "since" figures of {@link SessionQueries.stats} cover. */
const STATS_PERIOD_MS = 86_400_000;

/** What an operator reads about sessions: lists, counts, figures. Nothing here changes a row. */
export class SessionQueries {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly policy: SessionPolicy,
    private readonly lastSeen: LastSeenWriter,
  ) {}

  find(sessionId: string): Promise<SessionRecord | undefined> {
    return this.store.findSessionById(sessionId);
  }

  /** Not ended and not expired now. */
  isActive(session: SessionRecord): boolean {
    return session.endedAt === null && !hasExpired(session, this.clock.now(), this.policy);
  }

  /** One page of active sessions, everyone's or one user's, newest first. */
  async listActive(query: PageQuery & { userId?: string }): Promise<Page<SessionRecord>> {
    const activeAt = await this.lastSeen.activeAt();
    return readPage(
      query,
      (limit) => this.store.listSessions({ ...query, activeAt, limit }),
      () => this.store.countActiveSessions(activeAt, query.userId),
    );
  }

  /** A user's sessions, newest first; ended and expired ones too when `includeEnded`. */
  async listForUser(userId: string, includeEnded: boolean): Promise<SessionRecord[]> {
    const activeAt = includeEnded ? undefined : await this.lastSeen.activeAt();
    return this.store.listSessions({ userId, ...(activeAt ? { activeAt } : {}), limit: USER_SESSION_LIST_LIMIT });
  }

  async countActive(): Promise<number> {
    return this.store.countActiveSessions(await this.lastSeen.activeAt());
  }

  /** Active sessions, and those of them bound to their device (DBSC): one read for both. */
  async countActiveAndBound(): Promise<{ active: number; bound: number }> {
    return this.store.countActiveAndBoundSessions(await this.lastSeen.activeAt());
  }

  /** Active session counts per user; users without one are absent from the map. */
  async countActiveByUser(userIds: readonly string[]): Promise<Map<string, number>> {
    return this.store.countActiveSessionsByUser(await this.lastSeen.activeAt(), userIds);
  }

  /** Dashboard figures; the "since" figures cover the last 24 hours. */
  async stats(): Promise<SessionStats & { since: Date }> {
    const activeAt = await this.lastSeen.activeAt();
    const since = new Date(activeAt.now.getTime() - STATS_PERIOD_MS);
    return { ...(await this.store.sessionStats(activeAt, since)), since };
  }
}
