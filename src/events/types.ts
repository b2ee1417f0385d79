import { parseMethods, type AssuranceLevel } from '../sessions/assurance.js';
import type { SessionEndReason, SessionRecord } from '../sessions/types.js';

export type SessionEventType = 'STARTED' | 'ENDED';

/**
 * What the database announces: a start, an end, or (DBSC, migration 14) a session just bound to
 * its device, which only makes every instance drop its cached copy.
 */
export type AnnouncedEventType = SessionEventType | 'BOUND';

/** A session started or ended (or was bound), as the feed, the watchers and the API see it. */
export interface SessionEvent<T extends AnnouncedEventType = SessionEventType> {
  type: T;
  session: SessionRecord;
  /** Set for ENDED. */
  reason: SessionEndReason | null;
  /** When it happened. */
  at: Date;
}

export function sessionEvent<T extends AnnouncedEventType>(type: T, session: SessionRecord): SessionEvent<T> {
  const ended = type === 'ENDED';
  return {
    type,
    session,
    reason: ended ? session.endReason : null,
    at: ended && session.endedAt ? session.endedAt : session.createdAt,
  };
}

/** The row as the PostgreSQL trigger (migrations 05 and 12) writes it: timestamps in epoch ms. */
interface AnnouncedSession {
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  authenticatedAt: number | null;
  expiresAt: number;
  endedAt: number | null;
  endReason: SessionEndReason | null;
  userAgent: string | null;
  ipAddress: string | null;
  /** Absent from an instance that announced before migration 12. */
  assurance?: AssuranceLevel;
  /** Comma-separated, as stored. */
  authenticationMethods?: string;
  /** Absent from an instance that announced before migration 14. */
  deviceBoundAt?: number | null;
}

/** A session event announced by the database; undefined when the payload is not one. */
export function parseAnnouncedEvent(payload: unknown): SessionEvent<AnnouncedEventType> | undefined {
  const { type, session } = (payload ?? {}) as { type?: unknown; session?: AnnouncedSession };
  if ((type !== 'STARTED' && type !== 'ENDED' && type !== 'BOUND') || typeof session?.id !== 'string') return undefined;
  return sessionEvent(type, {
    ...session,
    createdAt: new Date(session.createdAt),
    lastSeenAt: new Date(session.lastSeenAt),
    authenticatedAt: new Date(session.authenticatedAt ?? session.createdAt),
    expiresAt: new Date(session.expiresAt),
    endedAt: session.endedAt === null ? null : new Date(session.endedAt),
    assurance: session.assurance ?? 'AAL1',
    authenticationMethods: parseMethods(session.authenticationMethods),
    deviceBoundAt: session.deviceBoundAt == null ? null : new Date(session.deviceBoundAt),
  });
}
