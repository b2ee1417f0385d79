import type { Knex } from 'knex';
import type { PageCursor } from '../sessions/page.js';
import type {
  AttemptRecord,
  ClaimedDelivery,
  DeliveryRecord,
  DeliveryStatus,
  WebhookChanges,
  WebhookEventType,
  WebhookRecord,
  WebhookStore,
  WebhookTarget,
} from '../webhooks/store.js';
import type { DatabaseKind } from './database-kind.js';
import { NEWEST_FIRST, toCount, whereOlderThan } from './sql.js';

type Row = Record<string, unknown>;

const WEBHOOK_COLUMNS = ['id', 'url', 'events', 'enabled', 'description', 'created_at', 'updated_at'];
const DELIVERY_COLUMNS = [
  'id',
  'webhook_id',
  'event_type',
  'status',
  'attempts',
  'last_status_code',
  'last_error',
  'last_attempt_at',
  'last_duration_ms',
  'next_attempt_at',
  'created_at',
  'delivered_at',
];

const date = (value: unknown) => (value === null || value === undefined ? null : new Date(Number(value)));

function toWebhook(row: Row): WebhookRecord {
  return {
    id: row.id as string,
    url: row.url as string,
    events: (row.events as string).split(',') as WebhookEventType[],
    // SQLite stores booleans as 0 and 1.
    enabled: Boolean(row.enabled),
    description: (row.description as string | null) ?? null,
    createdAt: date(row.created_at) as Date,
    updatedAt: date(row.updated_at) as Date,
  };
}

function toDelivery(row: Row): DeliveryRecord {
  return {
    id: row.id as string,
    webhookId: row.webhook_id as string,
    eventType: row.event_type as WebhookEventType,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: (row.last_error as string | null) ?? null,
    lastAttemptAt: date(row.last_attempt_at),
    lastDurationMs: row.last_duration_ms === null ? null : Number(row.last_duration_ms),
    nextAttemptAt: date(row.next_attempt_at),
    createdAt: date(row.created_at) as Date,
    deliveredAt: date(row.delivered_at),
  };
}

function changedColumns(changes: WebhookChanges): Row {
  const columns: Row = {};
  if (changes.url !== undefined) columns.url = changes.url;
  if (changes.events !== undefined) columns.events = changes.events.join(',');
  if (changes.enabled !== undefined) columns.enabled = changes.enabled;
  if (changes.description !== undefined) columns.description = changes.description;
  if (changes.secret !== undefined) columns.secret = changes.secret;
  return columns;
}

/** Webhooks and their outbox, for SQLite and PostgreSQL alike. */
export class KnexWebhookStore implements WebhookStore {
  constructor(
    private readonly db: Knex,
    private readonly kind: DatabaseKind,
  ) {}

  async listWebhooks(): Promise<WebhookRecord[]> {
    const rows: Row[] = await this.db('webhooks')
      .select(WEBHOOK_COLUMNS)
      .orderBy([...NEWEST_FIRST]);
    return rows.map(toWebhook);
  }

  async findWebhook(id: string): Promise<WebhookRecord | undefined> {
    const row: Row | undefined = await this.db('webhooks').where({ id }).first(WEBHOOK_COLUMNS);
    return row ? toWebhook(row) : undefined;
  }

  async insertWebhook(webhook: WebhookRecord, secret: string): Promise<void> {
    await this.db('webhooks').insert({
      ...changedColumns({ ...webhook, secret }),
      id: webhook.id,
      created_at: webhook.createdAt.getTime(),
      updated_at: webhook.updatedAt.getTime(),
    });
  }

  async updateWebhook(id: string, changes: WebhookChanges, now: number): Promise<WebhookRecord | undefined> {
    await this.db('webhooks')
      .where({ id })
      .update({ ...changedColumns(changes), updated_at: now });
    return this.findWebhook(id);
  }

  async deleteWebhook(id: string): Promise<boolean> {
    return (await this.db('webhooks').where({ id }).delete()) > 0;
  }

  async listDeliveries(query: { webhookId: string; after?: PageCursor; limit: number }): Promise<DeliveryRecord[]> {
    const rows: Row[] = await whereOlderThan(
      this.db('webhook_deliveries').select(DELIVERY_COLUMNS).where('webhook_id', query.webhookId),
      query.after,
    )
      .orderBy([...NEWEST_FIRST])
      .limit(query.limit);
    return rows.map(toDelivery);
  }

  async countDeliveries(webhookId: string): Promise<number> {
    return toCount(await this.db('webhook_deliveries').where('webhook_id', webhookId).count({ count: '*' }).first());
  }

  async findDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const row: Row | undefined = await this.db('webhook_deliveries').where({ id }).first(DELIVERY_COLUMNS);
    return row ? toDelivery(row) : undefined;
  }

  async retryDelivery(id: string, now: number): Promise<DeliveryRecord | undefined> {
    await this.db('webhook_deliveries')
      .where({ id })
      .update({ status: 'PENDING', next_attempt_at: now, finished_at: null });
    return this.findDelivery(id);
  }

  async listTargets(): Promise<WebhookTarget[]> {
    const rows: Row[] = await this.db('webhooks').select('id', 'url', 'enabled', 'secret').orderBy('id');
    return rows.map((row) => ({
      id: row.id as string,
      url: row.url as string,
      enabled: Boolean(row.enabled),
      secret: row.secret as string,
    }));
  }

  async claimDue(webhookId: string, limit: number, now: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    const rows =
      this.kind === 'postgres'
        ? await this.claimDuePostgres(webhookId, limit, now, leaseUntil)
        : await this.claimDueSqlite(webhookId, limit, now, leaseUntil);
    return rows.map((row) => ({
      id: row.id as string,
      webhookId: row.webhook_id as string,
      payload: row.payload as string,
      attempt: Number(row.attempts),
    }));
  }

  /**
   * Rows another worker is claiming are locked and skipped, not waited for; a row claimed and
   * committed meanwhile is re-read as no longer due. The CTE runs its LIMIT once: a subquery
   * under `IN` may be re-evaluated when a row changed concurrently, and claim more.
   */
  private async claimDuePostgres(webhookId: string, limit: number, now: number, leaseUntil: number): Promise<Row[]> {
    const result = await this.db.raw<{ rows: Row[] }>(
      `WITH due AS (
         SELECT id FROM webhook_deliveries
         WHERE webhook_id = ? AND status = 'PENDING' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, created_at LIMIT ? FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries AS d SET attempts = d.attempts + 1, next_attempt_at = ?, last_attempt_at = ?
       FROM due WHERE d.id = due.id
       RETURNING d.id, d.webhook_id, d.payload, d.attempts`,
      [webhookId, now, limit, leaseUntil, now],
    );
    return result.rows;
  }

  /** SQLite runs the statement alone, under its single write lock. */
  private async claimDueSqlite(webhookId: string, limit: number, now: number, leaseUntil: number): Promise<Row[]> {
    const due = this.db('webhook_deliveries')
      .select('id')
      .where({ webhook_id: webhookId, status: 'PENDING' })
      .where('next_attempt_at', '<=', now)
      .orderBy([{ column: 'next_attempt_at' }, { column: 'created_at' }])
      .limit(limit);
    return this.db('webhook_deliveries')
      .whereIn('id', due)
      .update({ attempts: this.db.raw('attempts + 1'), next_attempt_at: leaseUntil, last_attempt_at: now })
      .returning(['id', 'webhook_id', 'payload', 'attempts']);
  }

  async recordAttempts(attempts: readonly AttemptRecord[]): Promise<boolean[]> {
    return this.db.transaction(async (trx) => {
      const applied: boolean[] = [];
      for (const attempt of attempts) applied.push(await this.recordAttempt(trx, attempt));
      return applied;
    });
  }

  private async recordAttempt(trx: Knex.Transaction, attempt: AttemptRecord): Promise<boolean> {
    const finished = attempt.status === 'PENDING' ? null : attempt.attemptedAt + attempt.durationMs;
    const updated = await trx('webhook_deliveries')
      .where({ id: attempt.id, attempts: attempt.attempt, status: 'PENDING' })
      .update({
        status: attempt.status,
        next_attempt_at: attempt.nextAttemptAt,
        last_attempt_at: attempt.attemptedAt,
        last_duration_ms: attempt.durationMs,
        last_status_code: attempt.statusCode,
        last_error: attempt.error,
        finished_at: finished,
        ...(attempt.status === 'DELIVERED' ? { delivered_at: finished } : {}),
      });
    return updated > 0;
  }

  async failDue(webhookId: string, now: number, error: string): Promise<number> {
    return this.db('webhook_deliveries')
      .where({ webhook_id: webhookId, status: 'PENDING' })
      .where('next_attempt_at', '<=', now)
      .update({ status: 'FAILED', next_attempt_at: null, last_error: error, finished_at: now });
  }

  async deleteDeliveriesFinishedBefore(cutoff: Date, limit: number): Promise<number> {
    const batch = this.db('webhook_deliveries').where('finished_at', '<', cutoff.getTime()).select('id').limit(limit);
    return this.db('webhook_deliveries').whereIn('id', batch).delete();
  }
}
