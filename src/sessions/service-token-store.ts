/**
 * Service tokens' names and storage contract (the rules are in service-tokens.ts), apart so that
 * `Stores` can name the store without importing the rules.
 */

export const SERVICE_SCOPES = ['VERIFY_SESSIONS', 'READ_SESSIONS'] as const;
export type ServiceScope = (typeof SERVICE_SCOPES)[number];

/** The service behind a request made with a service token. */
export interface ServicePrincipal {
  tokenId: string;
  name: string;
  scopes: ReadonlySet<ServiceScope>;
}

/** One service token, as stored (less its hash). */
export interface ServiceTokenRecord {
  id: string;
  name: string;
  scopes: ServiceScope[];
  createdAt: Date;
  /** The admin who created it; null from the command line or once that account is deleted. */
  createdByUserId: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  revokedByUserId: string | null;
}

/** A new token and its record: the only time the token is shown. */
export interface ServiceTokenPayload {
  serviceToken: ServiceTokenRecord;
  /** `ghs_…`. */
  token: string;
}

export interface ServiceTokenStore {
  /** False when an unrevoked token already has this name. */
  insertServiceToken(record: ServiceTokenRecord, tokenHash: string): Promise<boolean>;
  findServiceTokenByHash(tokenHash: string): Promise<ServiceTokenRecord | undefined>;
  /** Newest first. */
  listServiceTokens(includeRevoked: boolean): Promise<ServiceTokenRecord[]>;
  /** Revokes it unless it is already; the row as it is then (undefined: no such token), and whether this call revoked it. */
  revokeServiceToken(
    id: string,
    at: Date,
    byUserId: string | null,
  ): Promise<{ token: ServiceTokenRecord; revoked: boolean } | undefined>;
  /** Writes `lastUsedAt` of each token, in one transaction. */
  touchServiceTokens(lastUsed: ReadonlyMap<string, Date>): Promise<void>;
  /** Which of `ids` are revoked. */
  revokedServiceTokens(ids: readonly string[]): Promise<string[]>;
}
