import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config.js';
import type { Core } from '../core.js';
import type { Output } from './output.js';

export interface CommandContext {
  config: Config;
  /** Started (migrated, following ends) unless the command says it needs no core. */
  core: Core;
  out: Output;
  /** The positional arguments, by the names in {@link Command.positionals}. */
  args: Record<string, string>;
  /** The options as parsed (strings and booleans; a list for a `multiple` option). */
  options: Record<string, string | boolean | string[] | undefined>;
}

export interface Command {
  /** As typed: `users list`, `sweep`. */
  name: string;
  summary: string;
  /** Names of the required positional arguments, in order. */
  positionals?: string[];
  /** Options beyond the common ones (`--json`, `--help`, `--verbose`). */
  options?: NonNullable<ParseArgsConfig['options']>;
  /** One line per option or argument, for `--help`. */
  details?: string[];
  /** False for commands that open the database themselves (`migrate`). Default true. */
  needsCore?: boolean;
  run(context: CommandContext): Promise<void>;
}
