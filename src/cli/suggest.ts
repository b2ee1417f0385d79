/** "Did you mean": the commands closest to what was typed, when one is close enough to be a slip. */

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

export interface Nearest {
  /** What was typed, as compared. */
  typed: string;
  /** The nearest names, ties kept in their order. */
  names: string[];
  distance: number;
}

/**
 * The names nearest to `typed`, or undefined when the nearest is more than a slip away: one edit
 * in three letters. A single word is also compared with each name's last word, so `kick` finds
 * `sessions kick`.
 */
function closest(typed: string, names: readonly string[]): Nearest | undefined {
  const word = typed.toLowerCase();
  const distances = names.map((name) => {
    const whole = editDistance(word, name);
    return word.includes(' ') ? whole : Math.min(whole, editDistance(word, name.split(' ').at(-1)!));
  });
  const distance = Math.min(...distances);
  if (distance > Math.max(1, Math.floor(word.length / 3))) return undefined;
  return { typed, names: names.filter((_, index) => distances[index] === distance), distance };
}

/** Of the ways to read the start of a command line (one word, two), the one nearest to a name. */
export function nearestReading(readings: readonly string[], names: readonly string[]): Nearest | undefined {
  let best: Nearest | undefined;
  for (const reading of readings) {
    const found = closest(reading, names);
    if (found && (!best || found.distance < best.distance)) best = found;
  }
  return best;
}
