/**
 * The headline figures of each benchmark, gathered by `npm run bench` (bench/all.ts) into one
 * table at the end of its run. A benchmark run on its own prints its figures the same way; run by
 * bench/all.ts (which sets BENCH_SUMMARY_FILE) it also appends them there, one JSON line each.
 *
 * Each figure is a measurement next to its baseline from the same run, and the goal it is read
 * against. Nothing fails on a goal: the machines are noisy, and the table is for people.
 */
import { appendFileSync } from 'node:fs';
import { print, table } from './support.js';

export interface Figure {
  /** What was measured, e.g. "cookie { me } CPU per request". */
  name: string;
  /** The measurement, with its unit. */
  value: number;
  unit: string;
  /** What it is compared with, from the same run, and how that baseline reads. */
  baseline?: { name: string; value: number };
  /** How the figure is read against its goal: "≤ 1.10× baseline", "≤ 25 ms", … */
  goal: string;
  /** Whether the figure meets its goal on this run. */
  met: boolean;
}

const format = (value: number) =>
  Math.abs(value) >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toPrecision(3);

/** A figure that is read as its ratio to a baseline (`value / baseline`) against `limit`. */
export function ratioFigure(
  name: string,
  unit: string,
  value: number,
  baseline: { name: string; value: number },
  limit: { atMost?: number; atLeast?: number },
): Figure {
  const ratio = value / baseline.value;
  const goal = limit.atMost !== undefined ? `≤ ${limit.atMost}× baseline` : `≥ ${limit.atLeast}× baseline`;
  const met = limit.atMost !== undefined ? ratio <= limit.atMost : ratio >= (limit.atLeast ?? 0);
  return { name, value, unit, baseline, goal, met };
}

/** A figure read against an absolute bound (a latency, a duration, a count). */
export function boundFigure(name: string, unit: string, value: number, atMost: number): Figure {
  return { name, value, unit, goal: `≤ ${format(atMost)} ${unit}`, met: value <= atMost };
}

/** A figure read against a floor (a rate, a throughput). */
export function floorFigure(name: string, unit: string, value: number, atLeast: number): Figure {
  return { name, value, unit, goal: `≥ ${format(atLeast)} ${unit}`, met: value >= atLeast };
}

export function figureRows(figures: Figure[]): string[][] {
  const rows = [['figure', 'measured', 'baseline (same run)', 'ratio', 'goal', '']];
  for (const figure of figures) {
    const { baseline } = figure;
    rows.push([
      figure.name,
      `${format(figure.value)} ${figure.unit}`,
      baseline ? `${format(baseline.value)} ${figure.unit} ${baseline.name}` : '-',
      baseline ? `${(figure.value / baseline.value).toFixed(2)}×` : '-',
      figure.goal,
      figure.met ? 'met' : 'MISSED',
    ]);
  }
  return rows;
}

/** Prints the figures as a table, and hands them to bench/all.ts when it runs this benchmark. */
export function reportFigures(title: string, figures: Figure[]): void {
  print();
  print(title);
  print(table(figureRows(figures)));
  const file = process.env.BENCH_SUMMARY_FILE;
  if (file) appendFileSync(file, figures.map((figure) => JSON.stringify(figure) + '\n').join(''));
}
