import type { Knex } from 'knex';
import { rowsOf } from './sql.js';
import type { ChallengePurpose, StoredChallenge, WebauthnChallengeStore } from '../sessions/webauthn-challenges.js';

interface ChallengeRow {
  challenge_hash: string;
  purpose: ChallengePurpose;
  user_id: string | null;
  client_network: string | null;
  created_at: number | string;
  expires_at: number | string;
}

const CHALLENGE_COLUMNS = [
  'challenge_hash',
  'purpose',
  'user_id',
  'client_network',
  'created_at',
  'expires_at',
] as const;

/** Most of a holder's challenges one insert deletes: normally one, the oldest. */
const TRIM_LIMIT = 100;

function toChallenge(row: ChallengeRow): StoredChallenge {
  return {
    challengeHash: row.challenge_hash,
    purpose: row.purpose,
    userId: row.user_id,
    clientNetwork: row.client_network,
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
  };
}

/** The rows of one holder: a user's, or those of one network that no user holds. */
function holderOf({ userId, clientNetwork }: StoredChallenge): { sql: string; bindings: string[] } {
  if (userId !== null) return { sql: 'user_id = ?', bindings: [userId] };
  if (clientNetwork !== null) return { sql: 'user_id IS NULL AND client_network = ?', bindings: [clientNetwork] };
  return { sql: 'user_id IS NULL AND client_network IS NULL', bindings: [] };
}

/** Outstanding WebAuthn challenges (their hashes), over Knex. */
export class KnexWebauthnChallengeStore implements WebauthnChallengeStore {
  constructor(private readonly db: Knex) {}

  async insertChallenge(challenge: StoredChallenge, keep: number): Promise<void> {
    const holder = holderOf(challenge);
    // One transaction: one commit (an fsync on SQLite) for the insert and the trim.
    await this.db.transaction(async (tx) => {
      await tx('webauthn_challenges').insert({
        ...{ challenge_hash: challenge.challengeHash, purpose: challenge.purpose },
        ...{ user_id: challenge.userId, client_network: challenge.clientNetwork },
        ...{ created_at: challenge.createdAt.getTime(), expires_at: challenge.expiresAt.getTime() },
      });
      await tx.raw(
        `DELETE FROM webauthn_challenges WHERE challenge_hash IN (
           SELECT challenge_hash FROM webauthn_challenges WHERE ${holder.sql}
            ORDER BY created_at DESC, challenge_hash DESC LIMIT ? OFFSET ?)`,
        [...holder.bindings, TRIM_LIMIT, keep],
      );
    });
  }

  async takeChallenge(challengeHash: string): Promise<StoredChallenge | undefined> {
    // The row goes in the statement that reads it: of two takes, the one that deleted it gets it.
    const result: unknown = await this.db.raw(
      `DELETE FROM webauthn_challenges WHERE challenge_hash = ? RETURNING ${CHALLENGE_COLUMNS.join(', ')}`,
      [challengeHash],
    );
    const [row] = rowsOf<ChallengeRow>(result);
    return row && toChallenge(row);
  }

  async deleteChallengesExpiredBefore(at: Date, limit: number): Promise<number> {
    const batch = this.db('webauthn_challenges')
      .where('expires_at', '<=', at.getTime())
      .select('challenge_hash')
      .limit(limit);
    return this.db('webauthn_challenges').whereIn('challenge_hash', batch).delete();
  }
}
