/**
 * WebAuthn challenges: what makes a passkey's signature fresh. Safety rules:
 * - A challenge is 32 random bytes, handed to the client once. The database keeps its SHA-256
 *   only, like a session token: a dump of the table answers no ceremony.
 * - Single use: a response's challenge is looked up by deleting its row, and only the request
 *   whose statement deleted it goes on, so two concurrent uses cannot both pass. Every response
 *   that parses uses up its challenge, whether it then verifies or not.
 * - It serves one purpose (registration or authentication) for one holder, and lives at most
 *   {@link CHALLENGE_TTL_MS}; the sweeper deletes those left unanswered.
 * - Bounded: a holder (a user, or for a passwordless login the client's network) keeps its
 *   newest {@link MAX_CHALLENGES_PER_USER} / {@link MAX_CHALLENGES_PER_NETWORK}; a new one pushes
 *   out its oldest. Asking for login options in a loop churns the asker's own rows and cannot
 *   fill the table, nor push out anyone else's challenge but one from the same network.
 */
import { isIP } from 'node:net';
import type { Clock } from './clock.js';
import { invalidSecondFactor } from './errors.js';
import { generateToken, hashToken, isWellFormedToken } from './tokens.js';

/** How long a challenge may be answered: the ceremony's `timeout`, the most DESIGN.md allows. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** Challenges one user may hold: a few tabs' worth of ceremonies. */
export const MAX_CHALLENGES_PER_USER = 10;
/** Challenges one network may hold for passwordless logins: more, as an office shares one address. */
export const MAX_CHALLENGES_PER_NETWORK = 50;

export const CHALLENGE_PURPOSES = ['REGISTRATION', 'AUTHENTICATION'] as const;
export type ChallengePurpose = (typeof CHALLENGE_PURPOSES)[number];

/** Who a challenge is issued to: a user, or (a passwordless login) the network a request came from. */
export type ChallengeHolder = { userId: string } | { clientNetwork: string | null };

/** A challenge as stored: never the challenge itself. */
export interface StoredChallenge {
  /** SHA-256 of the challenge as sent (base64url), hex. */
  challengeHash: string;
  purpose: ChallengePurpose;
  /** The user it was issued to; null for a passwordless login. */
  userId: string | null;
  /** For a passwordless login: the asker's network (see {@link clientNetworkOf}). */
  clientNetwork: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface WebauthnChallengeStore {
  /**
   * Stores the challenge, then deletes its holder's (same user, or same network without a user)
   * beyond the newest `keep`, in one transaction.
   */
  insertChallenge(challenge: StoredChallenge, keep: number): Promise<void>;
  /** Deletes the challenge and returns it; undefined when there was none (or another take won). */
  takeChallenge(challengeHash: string): Promise<StoredChallenge | undefined>;
  /** Deletes up to `limit` challenges that expired at or before `at`; returns how many. */
  deleteChallengesExpiredBefore(at: Date, limit: number): Promise<number>;
}

/** A challenge that was outstanding, as {@link WebauthnChallenges.take} hands it back. */
export interface TakenChallenge {
  /** The user it was issued to; null for a passwordless login. */
  userId: string | null;
}

export class WebauthnChallenges {
  constructor(
    private readonly store: WebauthnChallengeStore,
    private readonly clock: Clock,
  ) {}

  /** A new challenge for `holder`: base64url, for the options sent to the browser. */
  async issue(purpose: ChallengePurpose, holder: ChallengeHolder): Promise<string> {
    const challenge = generateToken();
    const now = this.clock.now();
    const userId = 'userId' in holder ? holder.userId : null;
    await this.store.insertChallenge(
      {
        ...{ challengeHash: hashToken(challenge), purpose, userId },
        clientNetwork: 'userId' in holder ? null : holder.clientNetwork,
        ...{ createdAt: now, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS) },
      },
      userId === null ? MAX_CHALLENGES_PER_NETWORK : MAX_CHALLENGES_PER_USER,
    );
    return challenge;
  }

  /**
   * Uses up the challenge a response echoes (from its clientDataJSON). INVALID_SECOND_FACTOR
   * unless it was outstanding, unexpired and issued for `purpose`.
   */
  async take(challenge: string, purpose: ChallengePurpose): Promise<TakenChallenge> {
    // Anything else was never issued here: no need to ask the database.
    const stored = isWellFormedToken(challenge) ? await this.store.takeChallenge(hashToken(challenge)) : undefined;
    if (!stored) throw invalidSecondFactor('Unknown or already used challenge: ask for new options');
    if (stored.expiresAt <= this.clock.now())
      throw invalidSecondFactor('The challenge has expired: ask for new options');
    if (stored.purpose !== purpose)
      throw invalidSecondFactor(`The challenge was not issued for ${purpose.toLowerCase()}`);
    return { userId: stored.userId };
  }
}

/**
 * The network a client address counts in: the address itself for IPv4, its /64 for IPv6 (one
 * host commonly holds a whole /64). An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is IPv4.
 */
export function clientNetworkOf(ipAddress: string | null): string | null {
  if (ipAddress === null) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ipAddress)?.[1];
  if (mapped) return mapped;
  if (isIP(ipAddress) !== 6) return ipAddress;
  const prefix = expandIpv6(ipAddress)
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}

/** The groups of an IPv6 address, `::` expanded, without a zone (`%eth0`); the first four are all a /64 needs. */
function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.split('%', 1)[0]!.toLowerCase().split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  if (tail === undefined) return groups(head);
  const missing = 8 - groups(head).length - groups(tail).length;
  return [...groups(head), ...Array<string>(missing).fill('0'), ...groups(tail)];
}
