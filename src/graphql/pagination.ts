/**
 * Relay-style connections over the keyset pages of `src/sessions/page.ts`: one definition of
 * the cursor, the page arguments, the edge and the connection types, for every paged list.
 */
import type { ArgBuilder, ObjectRef } from '@pothos/core';
import { badUserInput } from '../sessions/errors.js';
import type { Page, PageCursor, PageQuery } from '../sessions/page.js';
import { builder, type Keyed, type Types } from './builder.js';

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 50;

/** Opaque to clients: base64url of `<createdAt ms>:<id>`, a position in a newest-first list. */
export function encodeCursor(item: Keyed): string {
  return Buffer.from(`${item.createdAt.getTime()}:${item.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): PageCursor {
  const match = /^(\d{1,15}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badUserInput('Invalid cursor: pass an endCursor from a previous page', 'after');
  return { createdAt: new Date(Number(match[1])), id: match[2] as string };
}

/** `first` and `after`, as every paged field takes them. */
export function pageArgs(arg: ArgBuilder<Types>) {
  return { first: arg.int({ defaultValue: DEFAULT_PAGE_SIZE }), after: arg.string() };
}

/** The page the arguments ask for; BAD_USER_INPUT for a size out of range or a foreign cursor. */
export function toPageQuery(args: { first?: number | null; after?: string | null }): PageQuery {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput(`first must be from 1 to ${MAX_PAGE_SIZE}`, 'first');
  }
  return { first, ...(args.after ? { after: decodeCursor(args.after) } : {}) };
}

builder.objectType('PageInfo', {
  description: 'Forward pagination: pass endCursor as `after` for the next page.',
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.boolean({
      description: 'Always false: pages are read forwards only.',
      resolve: () => false,
    }),
    startCursor: t.string({
      nullable: true,
      resolve: ({ items }) => (items[0] ? encodeCursor(items[0]) : null),
    }),
    endCursor: t.string({
      nullable: true,
      resolve: ({ items }) => {
        const last = items[items.length - 1];
        return last ? encodeCursor(last) : null;
      },
    }),
  }),
});

/** `<Node>Edge` and `<Node>Connection` for a paged list of `node`. */
export function defineConnection<T extends Keyed>(
  name: string,
  node: ObjectRef<Types, T>,
  descriptions: { connection?: string; totalCount?: string } = {},
) {
  const edge = builder.objectRef<T>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.string({ resolve: (item) => encodeCursor(item) }),
      // The edge is its node; Pothos's result type cannot be narrowed for a generic T.
      node: t.field({ type: node, resolve: (item) => item as never }),
    }),
  });
  return builder.objectRef<Page<T>>(`${name}Connection`).implement({
    ...(descriptions.connection ? { description: descriptions.connection } : {}),
    fields: (t) => ({
      edges: t.field({ type: [edge], resolve: (page) => page.items }),
      pageInfo: t.field({ type: 'PageInfo', resolve: (page) => page }),
      totalCount: t.exposeInt('totalCount', {
        ...(descriptions.totalCount ? { description: descriptions.totalCount } : {}),
      }),
    }),
  });
}
