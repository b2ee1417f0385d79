/**
 * What other services call with a service token (VERIFY_SESSIONS): `verifySession` to check a
 * session token, and `sessionEndFeed` to hear of every end (and heartbeats) so they may cache.
 */
import type { SessionEndFeedEvent } from '../events/session-end-feed-stream.js';
import { forbidden, unknownServiceToken } from '../sessions/errors.js';
import type { VerifiedSession } from '../sessions/verification.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { SessionEndReasonEnum } from './session.js';

const VerifiedSessionRef = builder.objectRef<VerifiedSession>('VerifiedSession').implement({
  description: 'A live session, as another service checking it sees it.',
  fields: (t) => ({
    user: t.field({ type: 'User', resolve: (verified) => verified.user }),
    session: t.field({ type: 'Session', resolve: (verified) => verified.session }),
    idleExpiresAt: t.expose('idleExpiresAt', {
      type: 'DateTime',
      description:
        'When the session ends if nobody uses it: its last use plus SESSION_IDLE_TIMEOUT, as of this answer (`session.expiresAt` is the absolute end).',
    }),
  }),
});

const SessionEndFeedEventTypeEnum = builder.enumType('SessionEndFeedEventType', {
  values: ['ENDED', 'HEARTBEAT'] as const,
});

const SessionEndFeedEventRef = builder.objectRef<SessionEndFeedEvent>('SessionEndFeedEvent').implement({
  description: 'A session ended, or a heartbeat proving the feed alive.',
  fields: (t) => ({
    type: t.field({ type: SessionEndFeedEventTypeEnum, resolve: (event) => event.type }),
    sessionId: t.id({ nullable: true, description: 'ENDED only.', resolve: (e) => (ended(e) ? e.sessionId : null) }),
    userId: t.id({ nullable: true, description: 'ENDED only.', resolve: (e) => (ended(e) ? e.userId : null) }),
    reason: t.field({
      type: SessionEndReasonEnum,
      nullable: true,
      description: 'ENDED only.',
      resolve: (e) => (ended(e) ? e.reason : null),
    }),
    at: t.expose('at', { type: 'DateTime', description: 'ENDED: when the session ended. HEARTBEAT: when sent.' }),
    proofAgeMs: t.int({
      nullable: true,
      description:
        'HEARTBEAT only: milliseconds since this instance last proved it had applied every end announced anywhere; every end announced before that proof was sent on this feed ahead of this heartbeat. Under 1000.',
      resolve: (e) => (e.type === 'HEARTBEAT' ? e.proofAgeMs : null),
    }),
  }),
});

function ended(event: SessionEndFeedEvent): event is Extract<SessionEndFeedEvent, { type: 'ENDED' }> {
  return event.type === 'ENDED';
}

/** The service token asking; the field's `authScopes` already require one. */
function serviceOf(context: GraphQLContext) {
  if (!context.service) throw forbidden();
  return context.service;
}

builder.queryField('verifySession', (t) =>
  t.field({
    type: VerifiedSessionRef,
    nullable: true,
    description:
      'The user and session behind a session token, or null when it is not a live session (ended, expired, idle, its user disabled, not a token at all). A device-bound session needs its bound cookie too. Counts as a use of the session. BAD_USER_INPUT past 512 characters. VERIFY_SESSIONS.',
    authScopes: { service: 'VERIFY_SESSIONS' },
    args: { token: t.arg.string({ required: true }), boundCookie: t.arg.string() },
    resolve: (_root, args, { services }) => services.verification.verify(args.token, args.boundCookie),
  }),
);

builder.subscriptionField('sessionEndFeed', (t) =>
  t.field({
    type: SessionEndFeedEventRef,
    description:
      'Every session end anywhere (ENDED), in the order this instance applied them, and a HEARTBEAT every 250 ms while this instance is proven to hear every end. Completes when it may have missed one or stops being proven: drop what you cached and subscribe again. Ends when the service token is revoked. VERIFY_SESSIONS.',
    authScopes: { service: 'VERIFY_SESSIONS' },
    subscribe: (_root, _args, context) => {
      const { tokenId } = serviceOf(context);
      // Its revocation may have been heard since this request (or socket) authenticated it: a
      // feed opened now would never hear of it.
      if (context.services.serviceTokens.isRevoked(tokenId)) throw unknownServiceToken();
      return context.endFeeds.open(tokenId);
    },
    resolve: (event) => event,
  }),
);
