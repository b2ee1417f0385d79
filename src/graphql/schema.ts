import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './pagination.js';
import './user.js';
import './session.js';
import './auth.js';
import './subscriptions.js';
import './audit.js';
import './accounts.js';
import './webhooks.js';
import './second-factors.js';
import './passkeys.js';
import './service-tokens.js';

export const schema: GraphQLSchema = builder.toSchema();

/** The committed `schema.graphql`: printed from the code, sorted so diffs stay readable. */
export function printSchemaSDL(): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
