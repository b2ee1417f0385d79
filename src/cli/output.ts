/** What the command line prints: aligned tables for people, JSON for scripts. */

export interface Output {
  /** Print `rows` (objects with the same keys) as a table, or as a JSON array with `--json`. */
  rows(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): void;
  /** Print one result: `text` for people, `value` as JSON with `--json`. */
  result(text: string, value: unknown): void;
}

/** `1 session`, `2 sessions`: how the command line prints a number of things. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Left-aligned columns, two spaces apart, under a header. */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string {
  const cells = [columns.map((column) => column), ...rows.map((row) => columns.map((column) => cell(row[column])))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index]!.length)));
  return cells
    .map((line) =>
      line
        .map((text, index) => text.padEnd(widths[index]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function createOutput(
  json: boolean,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Output {
  return {
    rows(rows, columns) {
      if (json) write(JSON.stringify(rows) + '\n');
      else write((rows.length === 0 ? '(none)' : formatTable(rows, columns)) + '\n');
    },
    result(text, value) {
      write(json ? JSON.stringify(value) + '\n' : text + '\n');
    },
  };
}
