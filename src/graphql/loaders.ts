import DataLoader from 'dataloader';
import type { SecondFactorRecord } from '../sessions/factor-store.js';
import type { UserRecord } from '../sessions/types.js';
import type { GraphQLContext } from './context.js';

interface RequestLoaders {
  /** Null for an id with no user (deleted since it was recorded). */
  user: DataLoader<string, UserRecord | null>;
  activeSessionCount: DataLoader<string, number>;
  /** Confirmed second factors by user id, oldest first: a page of users costs one query. */
  secondFactors: DataLoader<string, SecondFactorRecord[]>;
}

// Keyed by the request's context, created on first use: most requests (`me`) never need them.
const loadersByContext = new WeakMap<GraphQLContext, RequestLoaders>();

/** Per-request batch loaders, so a page of sessions costs one user query, not one per row. */
export function loadersFor(context: GraphQLContext): RequestLoaders {
  let loaders = loadersByContext.get(context);
  if (!loaders) {
    const { users, sessions, secondFactors } = context.services;
    loaders = {
      user: new DataLoader<string, UserRecord | null>(async (ids) => {
        const found = new Map((await users.findByIds(ids)).map((user) => [user.id, user]));
        return ids.map((id) => found.get(id) ?? null);
      }),
      activeSessionCount: new DataLoader<string, number>(async (ids) => {
        const counts = await sessions.countActiveByUser(ids);
        return ids.map((id) => counts.get(id) ?? 0);
      }),
      secondFactors: new DataLoader<string, SecondFactorRecord[]>(async (ids) => {
        const byUser = await secondFactors.listOfUsers(ids);
        return ids.map((id) => byUser.get(id) ?? []);
      }),
    };
    loadersByContext.set(context, loaders);
  }
  return loaders;
}
