/**
 * Keyset pages of a newest-first list (sessions, audit events): one shape for both, so the API
 * pages them alike and no list is ever read with OFFSET.
 */

/** Position in a newest-first list: (createdAt, id), both descending. */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

export interface PageQuery {
  /** Items on the page. */
  first: number;
  /** Items strictly after this position. */
  after?: PageCursor;
}

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  /** Across all pages. */
  totalCount: number;
}

/**
 * Reads one page: one row more than asked tells whether another page follows, without a
 * second query. `readItems` gets that limit; `count` runs alongside.
 */
export async function readPage<T>(
  query: PageQuery,
  readItems: (limit: number) => Promise<T[]>,
  count: () => Promise<number>,
): Promise<Page<T>> {
  const [rows, totalCount] = await Promise.all([readItems(query.first + 1), count()]);
  return { items: rows.slice(0, query.first), hasNextPage: rows.length > query.first, totalCount };
}
