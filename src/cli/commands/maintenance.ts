import { migrationSource } from '../../../migrations/index.js';
import { migrateToLatest } from '../../storage/migrate.js';
import type { Command } from '../command.js';
import { plural } from '../output.js';

export const maintenanceCommands: Command[] = [
  {
    name: 'migrate',
    summary: 'bring the database schema up to date (the server also does this at start)',
    options: { down: { type: 'boolean' } },
    details: ['--down  roll the last batch of migrations back instead'],
    needsCore: false,
    async run({ core, out, options }) {
      if (options.down === true) {
        const [batch, names] = (await core.db.migrate.rollback({ migrationSource })) as [number, string[]];
        return out.result(`rolled back batch ${batch}: ${names.join(', ') || 'nothing'}`, { batch, rolledBack: names });
      }
      await migrateToLatest(core.db);
      const [done, pending] = (await core.db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
      out.result(`migrated: ${done.length} applied, ${pending.length} pending`, {
        applied: done.length,
        pending: pending.length,
      });
    },
  },
  {
    name: 'sweep',
    summary: 'end expired sessions (EXPIRED) and delete rows past their retention, now',
    async run({ core, out }) {
      const result = await core.sweeper.runOnce();
      out.result(
        `expired ${plural(result.expired, 'session')}, deleted ${plural(result.deleted, 'old row')} and ${plural(result.deletedAuthEvents, 'old audit event')}`,
        result,
      );
    },
  },
];
