import { SERVICE_SCOPES, type ServiceScope, type ServiceTokenRecord } from '../../sessions/service-tokens.js';
import { CLI_OPERATOR } from '../../sessions/types.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../usage.js';

const SCOPES = SERVICE_SCOPES.join(' or ');

/** A token as printed: never the token itself, which only `create` prints. */
async function tokenRows({ core }: CommandContext, tokens: ServiceTokenRecord[]) {
  const creators = [...new Set(tokens.flatMap((token) => token.createdByUserId ?? []))];
  const users = new Map((await core.services.users.findByIds(creators)).map((user) => [user.id, user.username]));
  return tokens.map((token) => ({
    id: token.id,
    name: token.name,
    scopes: token.scopes.join(','),
    createdAt: token.createdAt,
    // An admin's username; `-` from the command line (or once that account is deleted).
    createdBy: token.createdByUserId === null ? null : (users.get(token.createdByUserId) ?? null),
    lastUsedAt: token.lastUsedAt,
    revokedAt: token.revokedAt,
  }));
}

/** `name`, the one column that may hold spaces, comes last: the columns before it keep their places for scripts. */
/** The GraphQL fields' names (`ServiceToken`), as `revoke --json` has them too. */
const TOKEN_COLUMNS = ['id', 'scopes', 'createdAt', 'createdBy', 'lastUsedAt', 'revokedAt', 'name'];

function scopesOf(option: string | boolean | string[] | undefined): ServiceScope[] {
  const given = Array.isArray(option) ? option : [];
  if (given.length === 0) throw new UsageError(`give at least one --scope (${SCOPES})`);
  for (const scope of given) {
    if (!(SERVICE_SCOPES as readonly string[]).includes(scope)) {
      throw new UsageError(`unknown scope '${scope}': --scope is ${SCOPES}`);
    }
  }
  return given as ServiceScope[];
}

export const serviceTokenCommands: Command[] = [
  {
    name: 'service-tokens create',
    summary: 'create a token for another service; prints the token, this once',
    options: { name: { type: 'string' }, scope: { type: 'string', multiple: true } },
    details: [
      '--name NAME    what the token is for (1 to 100 characters, unique among unrevoked tokens)',
      `--scope SCOPE  ${SCOPES}; repeat it for both`,
      'The token (ghs_…) is stored hashed: copy it now, it cannot be shown again.',
    ],
    async run({ core, out, options }) {
      if (typeof options.name !== 'string') throw new UsageError('--name is required');
      const scopes = scopesOf(options.scope);
      const { serviceToken, token } = await core.services.serviceTokens.create(CLI_OPERATOR, options.name, scopes);
      out.result(
        `created service token ${serviceToken.name} (${serviceToken.id}), ${serviceToken.scopes.join(', ')}.\n` +
          `Its token, shown only this once:\n${token}`,
        { id: serviceToken.id, name: serviceToken.name, scopes: serviceToken.scopes, token },
      );
    },
  },
  {
    name: 'service-tokens list',
    summary: 'list service tokens with their last use, newest first',
    options: { all: { type: 'boolean' } },
    details: ['--all  revoked tokens too'],
    async run(context) {
      const tokens = await context.core.services.serviceTokens.list(context.options.all === true);
      context.out.rows(await tokenRows(context, tokens), TOKEN_COLUMNS);
    },
  },
  {
    name: 'service-tokens revoke',
    summary: 'revoke a service token: every running server refuses it within a second',
    positionals: ['ID'],
    async run({ core, out, args }) {
      const token = await core.services.serviceTokens.revoke(CLI_OPERATOR, args.ID!);
      out.result(`revoked service token ${token.name} (${token.id})`, {
        id: token.id,
        name: token.name,
        revokedAt: token.revokedAt,
      });
    },
  },
];
