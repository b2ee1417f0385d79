import { SessionRevokedStream } from '../events/session-revoked-stream.js';
import { sessionEvent } from '../events/types.js';
import { builder } from './builder.js';
import { viewerOf } from './context.js';
import { SessionEndReasonEnum } from './session.js';

const SessionEventTypeEnum = builder.enumType('SessionEventType', { values: ['STARTED', 'ENDED'] as const });

builder.objectType('SessionRevokedEvent', {
  description: 'Your session has ended; sign in again to continue.',
  fields: (t) => ({
    sessionId: t.id({ resolve: (event) => event.session.id }),
    reason: t.field({ type: SessionEndReasonEnum, resolve: (event) => event.reason ?? 'EXPIRED' }),
    at: t.expose('at', { type: 'DateTime' }),
  }),
});

builder.objectType('SessionEvent', {
  description: 'A session started or ended.',
  fields: (t) => ({
    type: t.field({ type: SessionEventTypeEnum, resolve: (event) => event.type }),
    session: t.field({ type: 'Session', resolve: (event) => event.session }),
    reason: t.field({ type: SessionEndReasonEnum, nullable: true, resolve: (event) => event.reason }),
    at: t.expose('at', { type: 'DateTime' }),
  }),
});

builder.subscriptionField('sessionRevoked', (t) =>
  t.field({
    type: 'SessionRevokedEvent',
    description:
      "The caller's own session: one event when it ends, whatever ended it, then the subscription completes (and every other subscription and socket of that session closes).",
    authScopes: { signedIn: true },
    subscribe: (_root, _args, context) => {
      const { session } = viewerOf(context);
      const stream = new SessionRevokedStream(context.watcher, session.id);
      // The session may have ended between authentication and the watch above.
      void context.services.sessions.find(session.id).then(
        (current) => current?.endedAt && stream.ended(sessionEvent('ENDED', current)),
        (error: unknown) => stream.fail(error),
      );
      return stream;
    },
    resolve: (event) => event,
  }),
);

builder.subscriptionField('sessionEvents', (t) =>
  t.field({
    type: 'SessionEvent',
    description: 'Live feed of sessions starting and ending, for everyone or one user. ADMIN only.',
    authScopes: { admin: true },
    args: { userId: t.arg.id() },
    subscribe: (_root, args, { pubsub }) =>
      args.userId ? pubsub.subscribe('user', args.userId) : pubsub.subscribe('sessions'),
    resolve: (event) => event,
  }),
);
