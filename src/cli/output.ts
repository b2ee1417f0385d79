/** What the command line prints: aligned tables for people, JSON for scripts. */

export interface Output {
  /**
   * Print `rows` (objects with the same keys) as a table of `columns`, or as a JSON array of whole
   * rows with `--json`. `cells` says how a column's values read in the table (default: `-` for
   * none, times in ISO 8601, anything else as a string); JSON keeps the values as they are.
   */
  rows(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[], cells?: CellFormats): void;
  /** Print one result: `text` for people, `value` as JSON with `--json`. */
  result(text: string, value: unknown): void;
}

/** How the values of some columns read in a table, by column. */
export type CellFormats = Readonly<Record<string, (value: unknown) => string>>;

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
export function formatTable(
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: readonly string[],
  formats: CellFormats = {},
): string {
  const show = (row: Record<string, unknown>, column: string) => (formats[column] ?? cell)(row[column]);
  const cells = [columns.map((column) => column), ...rows.map((row) => columns.map((column) => show(row, column)))];
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
    rows(rows, columns, cells) {
      if (json) write(JSON.stringify(rows) + '\n');
      else write((rows.length === 0 ? '(none)' : formatTable(rows, columns, cells)) + '\n');
    },
    result(text, value) {
      write(json ? JSON.stringify(value) + '\n' : text + '\n');
    },
  };
}
