import { AUTH_EVENT_TYPES } from '../sessions/auth-events.js';
import { builder } from './builder.js';
import { loadersFor } from './loaders.js';
import { defineConnection, pageArgs, toPageQuery } from './pagination.js';
import { SessionEndReasonEnum } from './session.js';

const AuthEventTypeEnum = builder.enumType('AuthEventType', { values: AUTH_EVENT_TYPES });

const AuthEventRef = builder.objectType('AuthEvent', {
  description: 'One entry of the audit log. Never holds a token or a password.',
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.field({ type: AuthEventTypeEnum, resolve: (event) => event.type }),
    userId: t.exposeID('userId', { nullable: true, description: 'The user it concerns.' }),
    user: t.field({
      type: 'User',
      nullable: true,
      description: 'The user it concerns; null when none, or when the account has been deleted since.',
      resolve: (event, _args, context) => (event.userId ? loadersFor(context).user.load(event.userId) : null),
    }),
    sessionId: t.exposeID('sessionId', { nullable: true }),
    actorUserId: t.exposeID('actorUserId', {
      nullable: true,
      description: 'Who did it (the admin who kicked, the user who logged out); null for the system.',
    }),
    actor: t.field({
      type: 'User',
      nullable: true,
      description: 'Who did it, as a user; null for the system, or when that account has been deleted since.',
      resolve: (event, _args, context) => (event.actorUserId ? loadersFor(context).user.load(event.actorUserId) : null),
    }),
    username: t.exposeString('username', { nullable: true, description: 'The name typed at a failed login.' }),
    reason: t.field({
      type: SessionEndReasonEnum,
      nullable: true,
      description: 'For SESSION_ENDED: why.',
      resolve: (event) => event.reason,
    }),
    ipAddress: t.exposeString('ipAddress', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const AuthEventConnection = defineConnection('AuthEvent', AuthEventRef);

builder.queryField('authEvents', (t) =>
  t.field({
    type: AuthEventConnection,
    description: 'The audit log, newest first; for everyone or one user. ADMIN only.',
    authScopes: { admin: true },
    args: { ...pageArgs(t.arg), userId: t.arg.id() },
    resolve: (_root, args, { services }) =>
      services.audit.list({ ...toPageQuery(args), ...(args.userId ? { userId: args.userId } : {}) }),
  }),
);
