import { notFound } from '../sessions/errors.js';
import { pendingLoginAsSession } from '../sessions/pending-logins.js';
import { SESSION_END_REASONS } from '../sessions/types.js';
import { AssuranceLevelEnum, AuthenticationMethodEnum } from './assurance.js';
import { builder } from './builder.js';
import { actorOf, viewerOf } from './context.js';
import { loadersFor } from './loaders.js';
import { defineConnection, pageArgs, toPageQuery } from './pagination.js';

export const SessionEndReasonEnum = builder.enumType('SessionEndReason', { values: SESSION_END_REASONS });

export const SessionRef = builder.objectType('Session', {
  description: 'One login: a row that lives on after it ends, with why it ended.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Public id; never the token.' }),
    user: t.field({
      type: 'User',
      resolve: (session, _args, context) =>
        context.viewer?.user.id === session.userId
          ? context.viewer.user
          : context.pendingLogin?.user.id === session.userId
            ? context.pendingLogin.user
            : loadersFor(context)
                .user.load(session.userId)
                .then((user) => {
                  if (!user) throw notFound('user');
                  return user;
                }),
    }),
    active: t.boolean({
      description:
        'Not ended and not expired at the time of the request. Never for a pending login shown as a session: it is not signed in.',
      // A service that checks a token by `currentSession { active }` must not take a right
      // password alone for a session.
      resolve: (session, _args, { services, pendingLogin }) =>
        pendingLogin?.id !== session.id && services.sessions.isActive(session),
    }),
    current: t.boolean({
      description: 'True for the session (or pending login) that made this request.',
      resolve: (session, _args, { viewer, pendingLogin }) =>
        viewer ? viewer.session.id === session.id : pendingLogin?.id === session.id,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'The login time.' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime', description: 'Last use, to within a minute.' }),
    authenticatedAt: t.expose('authenticatedAt', {
      type: 'DateTime',
      description:
        'When the user last proved who they are on this session: the login, `reauthenticate`, or a second factor added on it. Step-up operations need it within REAUTH_WINDOW (at AAL2 for a user with a second factor).',
    }),
    assurance: t.field({
      type: AssuranceLevelEnum,
      description: 'How sure the session is of its user: AAL2 after a second factor or a passkey, else AAL1.',
      resolve: (session) => session.assurance,
    }),
    authenticationMethods: t.field({
      type: [AuthenticationMethodEnum],
      description: 'Every method proved on this session (the login and later step-ups), in the order first proved.',
      resolve: (session) => session.authenticationMethods,
    }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      description: 'Absolute expiry; the idle timeout may end it sooner.',
    }),
    deviceBound: t.boolean({
      description:
        'Whether the browser bound this session to a key it cannot export (DBSC): then it is served only with its short-lived bound cookie too, and a copied cookie stops working elsewhere.',
      resolve: (session) => session.deviceBoundAt !== null,
    }),
    deviceBoundAt: t.expose('deviceBoundAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the session was bound to its device; null while unbound.',
    }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    endReason: t.field({ type: SessionEndReasonEnum, nullable: true, resolve: (session) => session.endReason }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    ipAddress: t.exposeString('ipAddress', { nullable: true }),
  }),
});

const SessionConnection = defineConnection('Session', SessionRef, {
  connection: 'Active sessions, newest first; cursors stay valid while sessions start and end.',
  totalCount: 'Active sessions across all pages.',
});

builder.objectType('EndReasonCount', {
  fields: (t) => ({
    reason: t.field({ type: SessionEndReasonEnum, resolve: (row) => row.reason }),
    count: t.exposeInt('count'),
  }),
});

builder.objectType('SessionStats', {
  description: 'Figures for an operator dashboard. The "last 24 hours" figures count from `since`.',
  fields: (t) => ({
    activeSessions: t.exposeInt('activeSessions'),
    activeUsers: t.exposeInt('activeUsers', { description: 'Users with at least one active session.' }),
    totalUsers: t.exposeInt('totalUsers'),
    sessionsStartedLast24h: t.exposeInt('sessionsStartedSince'),
    sessionsEndedLast24h: t.exposeInt('sessionsEndedSince'),
    endReasonsLast24h: t.field({ type: ['EndReasonCount'], resolve: (stats) => stats.endReasonsSince }),
    averageSessionsPerActiveUser: t.float({
      resolve: (stats) => (stats.activeUsers === 0 ? 0 : stats.activeSessions / stats.activeUsers),
    }),
    since: t.expose('since', { type: 'DateTime' }),
  }),
});

builder.queryField('currentSession', (t) =>
  t.field({
    type: 'Session',
    nullable: true,
    description:
      'The session that made this request; null when not signed in. A pending login (a right password waiting for its second step) shows as a session at AAL1, not active, that expires at its deadline.',
    resolve: (_root, _args, { viewer, pendingLogin }) =>
      viewer?.session ?? (pendingLogin ? pendingLoginAsSession(pendingLogin) : null),
  }),
);

builder.queryField('activeSessions', (t) =>
  t.field({
    type: SessionConnection,
    description:
      'Active sessions of everyone, or of one user; newest first. ADMIN, or a service token with READ_SESSIONS.',
    authScopes: { admin: true, service: 'READ_SESSIONS' },
    args: { ...pageArgs(t.arg), userId: t.arg.id() },
    resolve: (_root, args, { services }) =>
      services.sessions.listActive({ ...toPageQuery(args), ...(args.userId ? { userId: args.userId } : {}) }),
  }),
);

builder.queryField('sessionsByUser', (t) =>
  t.field({
    type: ['Session'],
    description:
      "A user's sessions, newest first (at most 500). ADMIN, the user themself, or a service token with READ_SESSIONS.",
    args: {
      userId: t.arg.id({ required: true }),
      includeEnded: t.arg.boolean({ defaultValue: false }),
    },
    authScopes: (_root, args) => ({ admin: true, self: args.userId, service: 'READ_SESSIONS' }),
    resolve: async (_root, args, { services }) => {
      await services.users.require(args.userId);
      return services.sessions.listForUser(args.userId, args.includeEnded ?? false);
    },
  }),
);

builder.queryField('sessionStats', (t) =>
  t.field({
    type: 'SessionStats',
    description: 'Dashboard figures. ADMIN, or a service token with READ_SESSIONS.',
    authScopes: { admin: true, service: 'READ_SESSIONS' },
    resolve: (_root, _args, { services }) => services.sessions.stats(),
  }),
);

builder.mutationField('kickSession', (t) =>
  t.field({
    type: 'Session',
    description:
      "Ends a session (KICKED). ADMIN: any session; a user: their own. Another user's session is NOT_FOUND. An ended session is returned unchanged. Ending one's own other session needs a password proof within REAUTH_WINDOW.",
    authScopes: { signedIn: true },
    args: { sessionId: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.services.ends.kick(actorOf(context), args.sessionId),
  }),
);

builder.mutationField('revokeOtherSessions', (t) =>
  t.int({
    description:
      "Ends all of the caller's sessions except this one (USER_SESSIONS_REVOKED). Returns how many. Needs a password proof within REAUTH_WINDOW.",
    authScopes: { signedIn: true },
    resolve: (_root, _args, context) => context.services.ends.revokeOthers(viewerOf(context), context.device),
  }),
);

builder.mutationField('revokeUserSessions', (t) =>
  t.int({
    description:
      "Ends all of a user's sessions (USER_SESSIONS_REVOKED). Returns how many. ADMIN only; needs a password proof within REAUTH_WINDOW.",
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.services.ends.revokeUser(actorOf(context), args.userId),
  }),
);
