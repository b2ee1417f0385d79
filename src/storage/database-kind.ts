/** Which SQL dialect a `DATABASE_URL` names: the stores write a few statements per dialect. */
export type DatabaseKind = 'sqlite' | 'postgres';

export function databaseKind(databaseUrl: string): DatabaseKind {
  return databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
}
