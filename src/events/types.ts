import type { SessionEndReason, SessionRecord } from '../sessions/types.js';

export type SessionEventType = 'STARTED' | 'ENDED';

/** A session as it travels on the bus: JSON-safe (dates as ISO strings), without the token hash. */
export interface SessionMessage {
  id: string;
  userId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  endedAt: string | null;
  endReason: SessionEndReason | null;
  userAgent: string | null;
  ipAddress: string | null;
}

/** One event on the bus. Published once per start or end, after the change is committed. */
export interface SessionEventMessage {
  type: SessionEventType;
  session: SessionMessage;
  /** Set for ENDED. */
  reason: SessionEndReason | null;
  /** When it happened (ISO-8601). */
  at: string;
}

/** The event as the API and the watchers see it: dates as `Date`s again. */
export interface SessionEvent {
  type: SessionEventType;
  session: SessionRecord;
  reason: SessionEndReason | null;
  at: Date;
}

export function toSessionEventMessage(type: SessionEventType, session: SessionRecord): SessionEventMessage {
  const at = type === 'ENDED' && session.endedAt ? session.endedAt : session.createdAt;
  return {
    type,
    session: {
      id: session.id,
      userId: session.userId,
      createdAt: session.createdAt.toISOString(),
      lastSeenAt: session.lastSeenAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
      endedAt: session.endedAt?.toISOString() ?? null,
      endReason: session.endReason,
      userAgent: session.userAgent,
      ipAddress: session.ipAddress,
    },
    reason: type === 'ENDED' ? session.endReason : null,
    at: at.toISOString(),
  };
}

export function fromSessionEventMessage(message: SessionEventMessage): SessionEvent {
  const { session } = message;
  return {
    type: message.type,
    session: {
      ...session,
      createdAt: new Date(session.createdAt),
      lastSeenAt: new Date(session.lastSeenAt),
      expiresAt: new Date(session.expiresAt),
      endedAt: session.endedAt === null ? null : new Date(session.endedAt),
    },
    reason: message.reason,
    at: new Date(message.at),
  };
}
