import { AUTH_EVENT_TYPES, originOfEvent, type AuthEventOrigin } from '../sessions/auth-events.js';
import { AuthenticationMethodEnum } from './assurance.js';
import { builder } from './builder.js';
import { loadersFor } from './loaders.js';
import { defineConnection, pageArgs, toPageQuery } from './pagination.js';
import { SessionEndReasonEnum } from './session.js';

const AuthEventTypeEnum = builder.enumType('AuthEventType', { values: AUTH_EVENT_TYPES });

const ORIGINS: Record<AuthEventOrigin, { description: string }> = {
  USER: { description: 'A signed-in user: `actor` (or `actorUserId`) says who.' },
  ANONYMOUS: {
    description: 'A request without a session, such as a sign-in attempt: `ipAddress` and `userAgent` say from where.',
  },
  COMMAND_LINE: { description: 'The `gatehouse` command, run by an operator on the server.' },
  SYSTEM: { description: 'Gatehouse itself: expiry, the sweeper, the first admin at start.' },
};
const AuthEventOriginEnum = builder.enumType('AuthEventOrigin', {
  description: 'Who brought an audit event about.',
  values: ORIGINS,
});

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
      description: 'Who did it (the admin who kicked, the user who logged out), when origin is USER; else null.',
    }),
    actor: t.field({
      type: 'User',
      nullable: true,
      description: 'Who did it, as a user; null for the system, or when that account has been deleted since.',
      resolve: (event, _args, context) => (event.actorUserId ? loadersFor(context).user.load(event.actorUserId) : null),
    }),
    origin: t.field({
      type: AuthEventOriginEnum,
      description: 'Who brought it about: a signed-in user, an anonymous request, the command line or the system.',
      resolve: originOfEvent,
    }),
    username: t.exposeString('username', { nullable: true, description: 'The name typed at a failed login.' }),
    reason: t.field({
      type: SessionEndReasonEnum,
      nullable: true,
      description: 'For SESSION_ENDED: why.',
      resolve: (event) => event.reason,
    }),
    factorId: t.exposeID('factorId', { nullable: true, description: 'For factor events: the factor it concerns.' }),
    serviceTokenId: t.exposeID('serviceTokenId', {
      nullable: true,
      description: 'For service token events: the token it concerns (`serviceTokens(includeRevoked: true)` names it).',
    }),
    method: t.field({
      type: AuthenticationMethodEnum,
      nullable: true,
      description:
        "For factor events: the factor's kind, or what a failed code was meant as; for a login or step-up completed by a second factor or passkey: that method.",
      resolve: (event) => event.method,
    }),
    recoveryCodesLeft: t.exposeInt('recoveryCodesLeft', {
      nullable: true,
      description: 'For RECOVERY_CODE_USED and RECOVERY_CODES_REGENERATED: the unused recovery codes the user has now.',
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
    description: 'The audit log, newest first: all of it, or what every filter given keeps. ADMIN only.',
    authScopes: { admin: true },
    args: {
      ...pageArgs(t.arg),
      userId: t.arg.id({ description: 'Events concerning this user.' }),
      actorUserId: t.arg.id({ description: 'Events this user brought about while signed in (origin USER).' }),
      types: t.arg({
        type: [AuthEventTypeEnum],
        description: 'Events of any of these types (at least one; omit for all).',
      }),
    },
    resolve: (_root, { userId, actorUserId, types, ...page }, { services }) =>
      services.audit.list({
        ...toPageQuery(page),
        ...(userId ? { userId } : {}),
        ...(actorUserId ? { actorUserId } : {}),
        ...(types ? { types } : {}),
      }),
  }),
);
