import { SESSION_END_REASONS } from '../sessions/types.js';
import { builder } from './builder.js';

export const SessionEndReasonEnum = builder.enumType('SessionEndReason', { values: SESSION_END_REASONS });

builder.objectType('Session', {
  description: 'One login: a row that lives on after it ends, with why it ended.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Public id; never the token.' }),
    user: t.field({
      type: 'User',
      resolve: async (session, _args, { viewer, sessions }) =>
        viewer?.user.id === session.userId ? viewer.user : sessions.requireUser(session.userId),
    }),
    active: t.boolean({
      description: 'Not ended and not expired at the time of the request.',
      resolve: (session, _args, { sessions }) => sessions.isActive(session),
    }),
    current: t.boolean({
      description: 'True for the session that made this request.',
      resolve: (session, _args, { viewer }) => viewer?.session.id === session.id,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'The login time.' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime', description: 'Last use, to within a minute.' }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      description: 'Absolute expiry; the idle timeout may end it sooner.',
    }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    endReason: t.field({ type: SessionEndReasonEnum, nullable: true, resolve: (session) => session.endReason }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    ipAddress: t.exposeString('ipAddress', { nullable: true }),
  }),
});

builder.queryField('currentSession', (t) =>
  t.field({
    type: 'Session',
    nullable: true,
    description: 'The session that made this request; null when not signed in.',
    resolve: (_root, _args, { viewer }) => viewer?.session ?? null,
  }),
);
