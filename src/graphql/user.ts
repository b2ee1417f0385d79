import { ROLES } from '../sessions/types.js';
import { builder } from './builder.js';

export const RoleEnum = builder.enumType('Role', { values: ROLES });

builder.objectType('User', {
  description: 'An account that can sign in.',
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    role: t.field({ type: RoleEnum, resolve: (user) => user.role }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: 'User',
    nullable: true,
    description: 'The signed-in user; null when not signed in.',
    resolve: (_root, _args, { viewer }) => viewer?.user ?? null,
  }),
);

builder.mutationField('createUser', (t) =>
  t.field({
    type: 'User',
    description: 'Creates an account. ADMIN only.',
    authScopes: { admin: true },
    args: {
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum, defaultValue: 'USER' }),
    },
    resolve: (_root, args, { sessions }) =>
      sessions.createUser({ username: args.username, password: args.password, role: args.role ?? 'USER' }),
  }),
);
