/**
 * `npm run bench`: every headline benchmark, one after another in one run, and at the end one
 * table of their figures next to their baselines and goals (bench/summary.ts). Each benchmark is
 * its own process, so one's leftovers (sockets, heap, timers) never weigh on the next; its own
 * output is shown as it runs.
 *
 * Knobs (environment): BENCH_ONLY (comma-separated names from the list below, e.g.
 * `request-cost,login-storm`); each benchmark's own knobs pass through.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figureRows, type Figure } from './summary.js';
import { describeMachine, print, table } from './support.js';

const BENCHMARKS = [
  'request-cost',
  'login-storm',
  'live-fanout',
  'sweep',
  'second-factor-login',
  'dbsc',
  'verify',
] as const;

const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const unknown = only?.filter((name) => !(BENCHMARKS as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')}; expected ${BENCHMARKS.join(', ')}`);
const chosen = BENCHMARKS.filter((name) => only === undefined || only.includes(name));

function run(name: string, summaryFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, `${name}.ts`)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_SUMMARY_FILE: summaryFile },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-summary-'));
try {
  const startedAt = describeMachine();
  const failed: string[] = [];
  const sections: Array<{ name: string; figures: Figure[] }> = [];
  for (const name of chosen) {
    print();
    print(`━━━ ${name} ━━━`);
    const file = join(dir, `${name}.jsonl`);
    writeFileSync(file, '');
    if ((await run(name, file)) !== 0) failed.push(name);
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    sections.push({ name, figures: lines.map((line) => JSON.parse(line) as Figure) });
  }
  print();
  print(`━━━ summary · started ${startedAt} · ended ${new Date().toISOString()} ━━━`);
  print('Every baseline was measured in the same run as its figure. Nothing fails on a goal: read the ratios.');
  const rows = figureRows([]);
  for (const section of sections) {
    rows.push([`[${section.name}]`, '', '', '', '', '']);
    rows.push(...figureRows(section.figures).slice(1));
  }
  print(table(rows));
  if (failed.length > 0) {
    print(`failed to run: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
