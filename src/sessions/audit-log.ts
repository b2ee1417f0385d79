import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { SessionLifecycle } from './lifecycle.js';
import { readPage, type Page, type PageQuery } from './page.js';
import type { AuthEventStore } from './store.js';
import type { AuthEventFields, AuthEventFilter, AuthEventRecord, AuthEventType } from './auth-events.js';
import { badUserInput } from './errors.js';
import type { ChangeOrigin, SessionRecord } from './types.js';

/**
 * A version 7 UUID (RFC 9562): the time in ms, then random bits. Audit events are only ever
 * appended, and a time-ordered key appends to the end of the id index instead of landing on a
 * random page of it: with random (v4) ids, inserting a sweep's audit rows into a log of
 * hundreds of thousands of events cost SQLite more than ending the sessions did, as every row
 * dirtied a different page.
 */
export function timeOrderedUuid(ms: number): string {
  const time = ms.toString(16).padStart(12, '0');
  // A v4 UUID supplies the random bits and the variant; its version digit (index 14) is replaced.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}

/**
 * The audit log: who signed in, failed, was throttled, ended which session and why.
 *
 * A failed write is logged, not thrown: the change it records has already happened, and a user
 * must still be able to sign out when the log cannot be written.
 */
export class AuditLog {
  constructor(
    private readonly store: AuthEventStore,
    private readonly clock: Clock,
    private readonly lifecycle: SessionLifecycle,
    private readonly logger: Logger,
  ) {}

  record(type: AuthEventType, origin: ChangeOrigin, fields: AuthEventFields): Promise<void> {
    return this.write([this.event(type, origin, fields)]);
  }

  /**
   * One SESSION_ENDED event per session, written together. `username` labels them when the user
   * row is about to go (a deletion), so the trail stays readable without it.
   */
  recordEnds(sessions: readonly SessionRecord[], origin: ChangeOrigin, username?: string): Promise<void> {
    return this.insert(this.endEvents(sessions, origin, this.clock.now(), username));
  }

  /**
   * {@link recordEnds} in two halves, for the sweeper, which makes the events of a batch a slice
   * at a time (between which requests run) and writes them in one statement: this half makes the
   * events (all stamped `at`) and tells the listeners; {@link insert} writes them.
   */
  endEvents(sessions: readonly SessionRecord[], origin: ChangeOrigin, at: Date, username?: string): AuthEventRecord[] {
    // No per-row spreads or clock readings: the sweeper makes thousands at a time.
    const events: AuthEventRecord[] = [];
    for (const session of sessions) {
      const fields = { userId: session.userId, sessionId: session.id, reason: session.endReason, username };
      const event = this.event('SESSION_ENDED', origin, fields, at);
      this.lifecycle.authEvent(event);
      events.push(event);
    }
    return events;
  }

  /** Writes events whose listeners were told ({@link endEvents}); a failure is logged, not thrown. */
  async insert(events: readonly AuthEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.store.insertAuthEvents(events);
    } catch (error) {
      this.logger.error('could not write audit events', { error, events: events.length });
    }
  }

  /**
   * The log, newest first: everything, or what the filter keeps. An empty list of types is
   * refused rather than read as "no filter" or "nothing": a client that sends one has a bug.
   */
  list({ first, after, ...filter }: PageQuery & AuthEventFilter): Promise<Page<AuthEventRecord>> {
    if (filter.types?.length === 0) throw badUserInput('types must name at least one type; omit it for all', 'types');
    return readPage(
      { first, ...(after ? { after } : {}) },
      (limit) => this.store.listAuthEvents({ ...filter, ...(after ? { after } : {}), limit }),
      () => this.store.countAuthEvents(filter),
    );
  }

  /**
   * An event for the caller to write in its own transaction (`UserSessionsTx.insertAuthEvents`),
   * so that it commits with the change it records, or not at all. Tell {@link committed} once it has.
   */
  event(
    type: AuthEventType,
    origin: ChangeOrigin,
    fields: AuthEventFields,
    createdAt = this.clock.now(),
  ): AuthEventRecord {
    return {
      id: timeOrderedUuid(createdAt.getTime()),
      type,
      userId: fields.userId ?? null,
      sessionId: fields.sessionId ?? null,
      actorUserId: origin.actorUserId,
      username: fields.username ?? null,
      reason: fields.reason ?? null,
      factorId: fields.factorId ?? null,
      method: fields.method ?? null,
      recoveryCodesLeft: fields.recoveryCodesLeft ?? null,
      serviceTokenId: fields.serviceTokenId ?? null,
      ipAddress: origin.device.ipAddress,
      userAgent: origin.device.userAgent,
      createdAt,
    };
  }

  /** Tells the listeners of events that a caller's transaction wrote and committed. */
  committed(events: readonly AuthEventRecord[]): void {
    for (const event of events) this.lifecycle.authEvent(event);
  }

  private write(events: AuthEventRecord[]): Promise<void> {
    this.committed(events);
    return this.insert(events);
  }
}
