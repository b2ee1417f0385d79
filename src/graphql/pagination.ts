import { badUserInput } from '../sessions/errors.js';
import { builder } from './builder.js';
import type { PageCursor } from '../sessions/store.js';

export const MAX_PAGE_SIZE = 100;

/** Opaque to clients: base64url of `<createdAt ms>:<id>`, a position in a newest-first list. */
export function encodeCursor(session: { createdAt: Date; id: string }): string {
  return Buffer.from(`${session.createdAt.getTime()}:${session.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): PageCursor {
  const match = /^(\d{1,15}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badUserInput('Invalid cursor: pass an endCursor from a previous page', 'after');
  return { createdAt: new Date(Number(match[1])), id: match[2] as string };
}

export function checkPageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput(`first must be from 1 to ${MAX_PAGE_SIZE}`, 'first');
  }
  return first;
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
