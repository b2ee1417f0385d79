/**
 * Service tokens (DESIGN.md, "Other services"): credentials an admin gives another service, so
 * that it can check sessions (VERIFY_SESSIONS) or read them (READ_SESSIONS). A service token is
 * not a session: it acts as no user, and can do only what its scopes allow.
 *
 * Safety rules, stated before the code:
 * - The token (`ghs_` + 32 random bytes, base64url) leaves only in the answer to {@link
 *   ServiceTokens.create}; only its SHA-256 is stored, never logged, never in an audit event.
 * - Revocation is permanent and immediate here: {@link ServiceTokens.revoke} drops the cached
 *   principal synchronously once the row is written, remembers the id as revoked for the life of
 *   the process, and tells {@link ServiceTokens.onRevoked} listeners (open feeds close at once).
 * - Other instances learn of it within a second: a cached principal is served only while a read
 *   of its row that began less than {@link TRUST_MS} ago found it unrevoked. Every
 *   {@link RECHECK_INTERVAL_MS}, one query asks which of the tokens this process knows are still
 *   unrevoked; each answer renews their proof and tells the listeners of the others. A
 *   recheck that fails renews nothing: requests then read the row each time (and fail with the
 *   database), so no revoked token is served for longer than {@link TRUST_MS}.
 * - What stays open on a token (a feed, a socket) issues no request, so it {@link
 *   ServiceTokens.watch}es the token: whenever that token has had no proof for {@link TRUST_MS}
 *   (the recheck failing or slow), its watchers hear `unproven` within {@link RECHECK_INTERVAL_MS}
 *   and end what they hold; the service then authenticates again, which reads the row.
 * - A token unused for {@link FORGET_UNUSED_MS} and watched by nothing is forgotten (not
 *   rechecked any more); its next use reads the row.
 * - `lastUsedAt` is written behind, at most once a minute per token, in one transaction per batch.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { badUserInput, GatehouseError } from './errors.js';
import { displayName } from './names.js';
import { generateServiceToken, hashToken, isServiceToken } from './tokens.js';
import { originOfActor, type Actor } from './types.js';
import {
  SERVICE_SCOPES,
  type ServicePrincipal,
  type ServiceScope,
  type ServiceTokenPayload,
  type ServiceTokenRecord,
  type ServiceTokenStore,
} from './service-token-store.js';

// The names other modules know these by (the contract); they live apart for `Stores`.
export * from './service-token-store.js';

/** Names are for people: a line of text. */
export const MAX_NAME_LENGTH = 100;
/** `lastUsedAt` is written at most this often per token (like a session's `lastSeenAt`). */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
/** How often queued `lastUsedAt` values are written. */
const FLUSH_INTERVAL_MS = 1_000;
/** How long a read of a token's row vouches for it: the bound on learning of another instance's revocation. */
const TRUST_MS = 900;
/** How often the known tokens are rechecked; well within {@link TRUST_MS}, so that a slow query does not lapse it. */
const RECHECK_INTERVAL_MS = 250;
/** A known token unused for this long, and watched by nothing, is dropped from the cache and the recheck. */
export const FORGET_UNUSED_MS = 10_000;

export interface ServiceTokensOptions {
  /** The `service_tokens` rows (storage/service-token-store.ts). */
  store: ServiceTokenStore;
  /** Stamps `createdAt`, `lastUsedAt` and `revokedAt`; the recheck's timing is real time whatever this says. */
  clock: Clock;
  /** Where SERVICE_TOKEN_CREATED and SERVICE_TOKEN_REVOKED go. */
  audit: AuditLog;
  /** Each creation and revocation (never the token), and a failing recheck once per outage. */
  logger: Logger;
  /** How long a token unused and unwatched stays cached and rechecked. Default {@link FORGET_UNUSED_MS}. */
  forgetUnusedMs?: number;
}

interface Known {
  principal: ServicePrincipal;
  record: ServiceTokenRecord;
  tokenHash: string;
  /** `performance.now()` when the latest read that found it unrevoked began. */
  verifiedAt: number;
  /** `performance.now()` of its latest authentication. */
  usedAt: number;
}

type RevokedListener = (tokenId: string) => void;

/** What holds a token open (a feed, a socket) hears of it; see {@link ServiceTokens.watch}. */
export interface ServiceTokenWatch {
  /** The token was revoked, here or on another instance: end what it holds. */
  revoked(): void;
  /** No read has proven the token unrevoked for {@link TRUST_MS}: end what it holds, so that the service authenticates again. */
  unproven(): void;
}

export class ServiceTokens {
  private readonly byHash = new Map<string, Known>();
  private readonly byId = new Map<string, Known>();
  /** Every id this process has seen revoked: a revocation is forever. */
  private readonly revoked = new Set<string>();
  private readonly listeners = new Set<RevokedListener>();
  private readonly watches = new Map<string, Set<ServiceTokenWatch>>();
  private pending = new Map<string, Date>();
  private flushing: Promise<void> = Promise.resolve();
  private rechecking = false;
  private recheckFailing = false;
  private readonly timers: NodeJS.Timeout[];

  constructor(private readonly options: ServiceTokensOptions) {
    this.timers = [
      setInterval(() => void this.flush(), FLUSH_INTERVAL_MS),
      setInterval(() => this.tick(), RECHECK_INTERVAL_MS),
    ];
    for (const timer of this.timers) timer.unref();
  }

  /** A new token; the token itself is in the answer and nowhere else. BAD_USER_INPUT for a bad name or scopes. */
  async create(actor: Actor, name: string, scopes: readonly ServiceScope[]): Promise<ServiceTokenPayload> {
    const record: ServiceTokenRecord = {
      ...{ id: randomUUID(), name: validName(name), scopes: validScopes(scopes) },
      ...{ createdAt: this.options.clock.now(), createdByUserId: actorUserId(actor) },
      ...{ lastUsedAt: null, revokedAt: null, revokedByUserId: null },
    };
    const token = generateServiceToken();
    if (!(await this.options.store.insertServiceToken(record, hashToken(token)))) {
      throw badUserInput(`A service token named "${record.name}" already exists`, 'name');
    }
    await this.record('SERVICE_TOKEN_CREATED', record, actor);
    return { serviceToken: record, token };
  }

  /** Newest first; `lastUsedAt` as this process knows it (what it queued is written first). */
  async list(includeRevoked: boolean): Promise<ServiceTokenRecord[]> {
    await this.flush();
    return this.options.store.listServiceTokens(includeRevoked);
  }

  /** Revokes it at once; revoking a revoked token returns it unchanged. NOT_FOUND for an unknown id. */
  async revoke(actor: Actor, id: string): Promise<ServiceTokenRecord> {
    const result = await this.options.store.revokeServiceToken(id, this.options.clock.now(), actorUserId(actor));
    if (!result) throw new GatehouseError('NOT_FOUND', 'No such service token');
    this.forget(id);
    if (result.revoked) await this.record('SERVICE_TOKEN_REVOKED', result.token, actor);
    return result.token;
  }

  /** The service behind `token`; null for anything unknown, revoked or not shaped like a service token. */
  async authenticate(token: string): Promise<ServicePrincipal | null> {
    if (!isServiceToken(token)) return null;
    const tokenHash = hashToken(token);
    const known = this.byHash.get(tokenHash);
    if (known && performance.now() - known.verifiedAt < TRUST_MS) {
      known.usedAt = performance.now();
      this.touch(known.record);
      return known.principal;
    }
    const startedAt = performance.now();
    const record = await this.options.store.findServiceTokenByHash(tokenHash);
    if (!record || record.revokedAt !== null || this.revoked.has(record.id)) return null;
    const principal: ServicePrincipal = { tokenId: record.id, name: record.name, scopes: new Set(record.scopes) };
    const entry: Known = { principal, record, tokenHash, verifiedAt: startedAt, usedAt: startedAt };
    this.byHash.set(tokenHash, entry);
    this.byId.set(record.id, entry);
    this.touch(record);
    return principal;
  }

  /**
   * Calls `listener` with the id of each token revoked from now on: at once for a revocation made
   * here, within a second for one made elsewhere (of a token this process has authenticated).
   * Returns the unsubscribe.
   */
  onRevoked(listener: RevokedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tokens cached and rechecked now (metrics, tests). */
  get cached(): number {
    return this.byId.size;
  }

  /** Whether this process knows `tokenId` to be revoked (revoked here, or heard of from the recheck). */
  isRevoked(tokenId: string): boolean {
    return this.revoked.has(tokenId);
  }

  /**
   * Tells `watch` when the token `tokenId` is revoked or stops being proven unrevoked; while
   * watched, the token stays rechecked. Call on what stays open on the token without issuing
   * requests (a feed, a socket). Returns the unwatch.
   */
  watch(tokenId: string, watch: ServiceTokenWatch): () => void {
    let watches = this.watches.get(tokenId);
    if (!watches) this.watches.set(tokenId, (watches = new Set()));
    watches.add(watch);
    return () => {
      watches.delete(watch);
      if (watches.size === 0 && this.watches.get(tokenId) === watches) this.watches.delete(tokenId);
    };
  }

  /** Writes the queued `lastUsedAt` values; resolves once they are written. */
  flush(): Promise<void> {
    // Chained so that flushes never overlap and a caller awaiting this sees its values written.
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.options.store.touchServiceTokens(batch);
      } catch (error) {
        this.options.logger.warn('could not write lastUsedAt of service tokens', { error, tokens: batch.size });
      }
    });
    return this.flushing;
  }

  /** Stops the timers and writes what is queued. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.flush();
  }

  private touch(record: ServiceTokenRecord): void {
    const now = this.options.clock.now();
    if (record.lastUsedAt && now.getTime() - record.lastUsedAt.getTime() < LAST_USED_WRITE_INTERVAL_MS) return;
    record.lastUsedAt = now;
    this.pending.set(record.id, now);
  }

  private tick(): void {
    this.endUnproven();
    this.forgetUnused();
    void this.recheck();
  }

  /** Tells the watchers of each token without a proof younger than {@link TRUST_MS}. */
  private endUnproven(): void {
    const now = performance.now();
    for (const [id, watches] of this.watches) {
      const known = this.byId.get(id);
      // A revoked token's watchers heard `revoked`.
      if (this.revoked.has(id) || (known && now - known.verifiedAt < TRUST_MS)) continue;
      this.tell(watches, 'unproven', id);
    }
  }

  /** Drops the tokens unused for {@link FORGET_UNUSED_MS} that nothing watches: the recheck is for tokens in use. */
  private forgetUnused(): void {
    const now = performance.now();
    for (const [id, known] of this.byId) {
      if (now - known.usedAt < (this.options.forgetUnusedMs ?? FORGET_UNUSED_MS) || this.watches.has(id)) continue;
      this.byId.delete(id);
      this.byHash.delete(known.tokenHash);
    }
  }

  /** Asks which known tokens are still unrevoked (revocations by any instance); renews their proof, forgets the others. */
  private async recheck(): Promise<void> {
    if (this.rechecking || this.byId.size === 0) return;
    this.rechecking = true;
    const ids = [...this.byId.keys()];
    const startedAt = performance.now();
    try {
      // A row deleted by hand counts as revoked: only a row found unrevoked vouches for a token.
      const valid = new Set(await this.options.store.unrevokedServiceTokens(ids));
      for (const id of ids) {
        if (valid.has(id)) this.renew(id, startedAt);
        else this.forget(id);
      }
      this.recheckFailing = false;
    } catch (error) {
      // Once per outage: it would repeat four times a second.
      if (!this.recheckFailing) this.options.logger.warn('could not recheck service tokens', { error });
      this.recheckFailing = true;
    } finally {
      this.rechecking = false;
    }
  }

  private renew(id: string, startedAt: number): void {
    const known = this.byId.get(id);
    if (known && known.verifiedAt < startedAt) known.verifiedAt = startedAt;
  }

  /** Drops a revoked token from the cache and tells the listeners, once. */
  private forget(id: string): void {
    const known = this.byId.get(id);
    if (known) {
      this.byId.delete(id);
      this.byHash.delete(known.tokenHash);
    }
    this.pending.delete(id);
    if (this.revoked.has(id)) return;
    this.revoked.add(id);
    for (const listener of this.listeners) {
      try {
        listener(id);
      } catch (error) {
        this.options.logger.error('a service token revocation listener failed', { error, tokenId: id });
      }
    }
    const watches = this.watches.get(id);
    if (watches) this.tell(watches, 'revoked', id);
  }

  private tell(watches: ReadonlySet<ServiceTokenWatch>, what: keyof ServiceTokenWatch, tokenId: string): void {
    for (const watch of [...watches]) {
      try {
        watch[what]();
      } catch (error) {
        this.options.logger.error(`a service token watcher failed (${what})`, { error, tokenId });
      }
    }
  }

  private async record(
    type: 'SERVICE_TOKEN_CREATED' | 'SERVICE_TOKEN_REVOKED',
    token: ServiceTokenRecord,
    actor: Actor,
  ): Promise<void> {
    await this.options.audit.record(type, originOfActor(actor), { serviceTokenId: token.id });
    this.options.logger.info(`service token: ${type}`, {
      ...{ tokenId: token.id, name: token.name, scopes: token.scopes.join(',') },
      actorUserId: actorUserId(actor),
    });
  }
}

const actorUserId = (actor: Actor) => ('viewer' in actor ? actor.viewer.user.id : null);

function validName(raw: string): string {
  const name = displayName(raw, MAX_NAME_LENGTH);
  if (name === '') throw badUserInput('name must not be empty', 'name');
  return name;
}

function validScopes(scopes: readonly ServiceScope[]): ServiceScope[] {
  if (scopes.length === 0) throw badUserInput('scopes must name at least one scope', 'scopes');
  for (const scope of scopes) {
    if (!SERVICE_SCOPES.includes(scope)) throw badUserInput(`Unknown scope ${String(scope)}`, 'scopes');
  }
  // In the order SERVICE_SCOPES lists them: the same token reads the same everywhere.
  return SERVICE_SCOPES.filter((scope) => scopes.includes(scope));
}
