/** Service tokens: DESIGN.md, "Other services". ADMIN only; the token itself is shown once. */
import { SERVICE_SCOPES, type ServiceTokenPayload, type ServiceTokenRecord } from '../sessions/service-tokens.js';
import { builder } from './builder.js';
import { actorOf } from './context.js';
import { loadersFor } from './loaders.js';

export const ServiceScopeEnum = builder.enumType('ServiceScope', {
  description:
    'What a service token may do. VERIFY_SESSIONS: `verifySession` and `sessionEndFeed`. READ_SESSIONS: `activeSessions`, `sessionsByUser`, `sessionStats`.',
  values: SERVICE_SCOPES,
});

const ServiceTokenRef = builder.objectRef<ServiceTokenRecord>('ServiceToken').implement({
  description:
    "Another service's credential (`Authorization: Bearer ghs_…`): it acts as no user and may use only its scopes. Never shows the token.",
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    scopes: t.field({ type: [ServiceScopeEnum], resolve: (token) => token.scopes }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.field({
      type: 'User',
      nullable: true,
      description: 'The admin who created it; null when created from the command line or once that account is deleted.',
      resolve: (token, _args, context) =>
        token.createdByUserId === null ? null : loadersFor(context).user.load(token.createdByUserId),
    }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Last use, to within a minute; null if never used.',
    }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const ServiceTokenPayloadRef = builder.objectRef<ServiceTokenPayload>('ServiceTokenPayload').implement({
  description: 'A new service token and the token itself (`ghs_…`): the only time it is shown.',
  fields: (t) => ({
    serviceToken: t.field({ type: ServiceTokenRef, resolve: (payload) => payload.serviceToken }),
    token: t.exposeString('token'),
  }),
});

builder.queryField('serviceTokens', (t) =>
  t.field({
    type: [ServiceTokenRef],
    description: 'Service tokens, newest first; revoked ones too with `includeRevoked`. ADMIN only.',
    authScopes: { admin: true },
    args: { includeRevoked: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, args, context) => context.services.serviceTokens.list(args.includeRevoked ?? false),
  }),
);

builder.mutationField('createServiceToken', (t) =>
  t.field({
    type: ServiceTokenPayloadRef,
    description:
      'Creates a service token with a name (1–100 characters, unique among unrevoked tokens) and at least one scope; returns the token, shown only here. ADMIN only.',
    authScopes: { admin: true },
    args: {
      name: t.arg.string({ required: true }),
      scopes: t.arg({ type: [ServiceScopeEnum], required: true }),
    },
    resolve: (_root, args, context) => context.services.serviceTokens.create(actorOf(context), args.name, args.scopes),
  }),
);

builder.mutationField('revokeServiceToken', (t) =>
  t.field({
    type: ServiceTokenRef,
    description:
      'Revokes a service token at once: its requests are refused and its open feeds close. A revoked token is returned unchanged. ADMIN only.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.services.serviceTokens.revoke(actorOf(context), args.id),
  }),
);
