import type { Knex } from 'knex';
import * as createUsers from './20261125_01_create_users.js';
import * as createSessions from './20261125_02_create_sessions.js';
import * as createThrottlesAndAuthEvents from './20261125_03_create_login_throttles_and_auth_events.js';
import * as addAccountControls from './20261130_04_add_account_controls.js';
import * as announceSessionEvents from './20261130_05_announce_session_events.js';
import * as webhooks from './20261201_06_webhooks.js';
import * as indexIdleSessions from './20261201_07_index_idle_sessions.js';
import * as partialSessionIndexes from './20261202_08_partial_session_indexes.js';
import * as indexAuditFilters from './20261203_09_index_audit_filters.js';
import * as usernameSkeletons from './20261207_10_username_skeletons.js';
import * as serverMembership from './20261207_11_server_membership.js';
import * as secondFactors from './20261208_12_second_factors.js';
import * as webauthnChallengeHolders from './20261208_13_webauthn_challenge_holders.js';
import * as deviceBoundSessions from './20261208_14_device_bound_sessions.js';
import * as serviceTokens from './20261208_15_service_tokens.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Migrations are imported, not discovered on disk, so they run the same from TypeScript
 * sources and from the compiled build. Append new ones; never reorder or rename.
 */
const migrations: Record<string, Migration> = {
  '20261125_01_create_users': createUsers,
  '20261125_02_create_sessions': createSessions,
  '20261125_03_create_login_throttles_and_auth_events': createThrottlesAndAuthEvents,
  '20261130_04_add_account_controls': addAccountControls,
  '20261130_05_announce_session_events': announceSessionEvents,
  '20261201_06_webhooks': webhooks,
  '20261201_07_index_idle_sessions': indexIdleSessions,
  '20261202_08_partial_session_indexes': partialSessionIndexes,
  '20261203_09_index_audit_filters': indexAuditFilters,
  '20261207_10_username_skeletons': usernameSkeletons,
  '20261207_11_server_membership': serverMembership,
  '20261208_12_second_factors': secondFactors,
  '20261208_13_webauthn_challenge_holders': webauthnChallengeHolders,
  '20261208_14_device_bound_sessions': deviceBoundSessions,
  '20261208_15_service_tokens': serviceTokens,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`Unknown migration ${name}`);
    return migration;
  },
};
