/**
 * `gatehouse <command>`: the operator's command line, on the same settings (and validation) as
 * the server and the same core. A session it ends is ended everywhere: the end is announced by
 * the database like any other, and the command returns once every running server has applied
 * it. Exit codes: 0 done, 1 failed (the reason on stderr), 2 not understood (with the usage).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { createCore } from '../core.js';
import { createLogger } from '../logger.js';
import { GatehouseError } from '../sessions/errors.js';
import { isDatabaseOutage } from '../storage/outage.js';
import type { Command, CommandContext } from './command.js';
import { maintenanceCommands } from './commands/maintenance.js';
import { serviceTokenCommands } from './commands/service-tokens.js';
import { sessionCommands } from './commands/sessions.js';
import { userCommands } from './commands/users.js';
import { createOutput } from './output.js';
import { nearestReading } from './suggest.js';
import { UsageError } from './usage.js';

const COMMANDS: Command[] = [...maintenanceCommands, ...userCommands, ...sessionCommands, ...serviceTokenCommands];
const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
} as const;
const COMMON_DETAILS = [
  '--json     print JSON for scripts',
  '--verbose  log what the core does (stderr)',
  '--help     this help',
];

function commandUsage(command: Command): string {
  const positionals = (command.positionals ?? []).map((name) => ` ${name}`).join('');
  const details = [...(command.details ?? []), ...COMMON_DETAILS].map((line) => `  ${line}`).join('\n');
  return `usage: gatehouse ${command.name}${positionals} [options]\n\n${command.summary}.\n\n${details}\n`;
}

function overallUsage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `usage: gatehouse <command> [options]\n\n${lines.join('\n')}\n\nSettings come from the environment, as for the server (DATABASE_URL, …).\n'gatehouse <command> --help' tells more.\n`;
}

/** The command named by the first one or two words, and the rest of the line. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const command = COMMANDS.find((candidate) => candidate.name === argv.slice(0, words).join(' '));
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

function parse(command: Command, rest: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as CommandContext['options'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** What is wrong with a command line that names no command, in one line (none for an empty one). */
function notACommand(argv: string[]): string | undefined {
  const [first, second] = argv;
  if (first === undefined) return undefined;
  if (first.startsWith('-')) return `options come after the command: gatehouse <command> ${argv.join(' ')}`;
  const names = COMMANDS.map((command) => command.name);
  const group = names.filter((name) => name.startsWith(`${first} `));
  if (group.length > 0 && (second === undefined || second.startsWith('-'))) {
    return `'${first}' needs one more word: ${group.map((name) => name.slice(first.length + 1)).join(', ')}`;
  }
  const twoWords = second === undefined || second.startsWith('-') ? [] : [`${first} ${second}`];
  const readings = group.length > 0 ? twoWords : [first, ...twoWords];
  const nearest = nearestReading(readings, group.length > 0 ? group : names);
  if (!nearest) return `unknown command '${readings[0]}'`;
  return `unknown command '${nearest.typed}'; did you mean ${nearest.names.map((name) => `'${name}'`).join(' or ')}?`;
}

/** Runs one command line; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const found = findCommand(argv);
  if (!found) {
    const wantsHelp = argv[0] === 'help' || argv.includes('--help') || argv.includes('-h');
    if (wantsHelp) {
      process.stdout.write(overallUsage());
      return 0;
    }
    const problem = notACommand(argv);
    process.stderr.write(`${problem ? `gatehouse: ${problem}\n\n` : ''}${overallUsage()}`);
    return 2;
  }
  const { command } = found;
  try {
    const { values, positionals } = parse(command, found.rest);
    if (values.help === true) {
      process.stdout.write(commandUsage(command));
      return 0;
    }
    const names = command.positionals ?? [];
    if (positionals.length !== names.length) throw new UsageError(`expected ${names.join(' ') || 'no arguments'}`);
    const args = Object.fromEntries(names.map((name, index) => [name, positionals[index]!]));
    return await run(command, args, values);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`gatehouse ${command.name}: ${error.message}\n\n${commandUsage(command)}`);
    return 2;
  }
}

async function run(command: Command, args: Record<string, string>, options: CommandContext['options']) {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fail(error.message);
  }
  const logger = createLogger({ level: options.verbose === true ? 'info' : 'warn' });
  const core = createCore(config, { logger });
  try {
    if (command.needsCore !== false) await core.start();
    await command.run({ config, core, args, options, out: createOutput(options.json === true) });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof GatehouseError) return fail(`${error.message} (${error.code})`);
    if (isDatabaseOutage(error)) return fail('the database cannot be reached');
    return fail(error instanceof Error ? error.message : String(error));
  } finally {
    await core.close();
  }
}

function fail(message: string): number {
  process.stderr.write(`gatehouse: ${message}\n`);
  return 1;
}

// Exits explicitly: a handle a driver leaves behind must not keep a finished command alive.
process.exit(await main(process.argv.slice(2)));
