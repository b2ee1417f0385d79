import DataLoader from 'dataloader';
import { GatehouseError } from '../sessions/errors.js';
import type { UserRecord } from '../sessions/types.js';
import type { GraphQLContext } from './context.js';

interface RequestLoaders {
  user: DataLoader<string, UserRecord>;
  activeSessionCount: DataLoader<string, number>;
}

// Keyed by the request's context, created on first use: most requests (`me`) never need them.
const loadersByContext = new WeakMap<GraphQLContext, RequestLoaders>();

/** Per-request batch loaders, so a page of sessions costs one user query, not one per row. */
export function loadersFor(context: GraphQLContext): RequestLoaders {
  let loaders = loadersByContext.get(context);
  if (!loaders) {
    const { sessions } = context;
    loaders = {
      user: new DataLoader<string, UserRecord>(async (ids) => {
        const users = new Map((await sessions.findUsersByIds(ids)).map((user) => [user.id, user]));
        return ids.map((id) => users.get(id) ?? new GatehouseError('NOT_FOUND', 'No such user'));
      }),
      activeSessionCount: new DataLoader<string, number>(async (ids) => {
        const counts = await sessions.countActiveSessionsByUser(ids);
        return ids.map((id) => counts.get(id) ?? 0);
      }),
    };
    loadersByContext.set(context, loaders);
  }
  return loaders;
}
