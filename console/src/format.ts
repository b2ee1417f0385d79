/** Times as the tables show them: "3 min ago", with the exact instant in a tooltip. */
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

/** Each unit in milliseconds, and how many of it are shown before the next unit takes over. */
const UNITS: Array<{ unit: Intl.RelativeTimeFormatUnit; size: number; below: number }> = [
  { unit: 'second', size: 1_000, below: 60 },
  { unit: 'minute', size: 60_000, below: 60 },
  { unit: 'hour', size: 3_600_000, below: 24 },
  { unit: 'day', size: 86_400_000, below: 365 },
  { unit: 'year', size: 365 * 86_400_000, below: Infinity },
];

/** Under this many seconds either way, a time reads "just now". */
const JUST_NOW_SECONDS = 10;

/** The unit a time `at` is shown in at `now` (its index in UNITS), and the rounded count of it (past: negative). */
function shown(at: number, now: number): { index: number; amount: number } {
  for (let index = 0; ; index++) {
    const amount = Math.round((at - now) / UNITS[index]!.size);
    if (Math.abs(amount) < UNITS[index]!.below) return { index, amount };
  }
}

export function ago(iso: string, now = Date.now()): string {
  const { index, amount } = shown(Date.parse(iso), now);
  if (index === 0 && Math.abs(amount) < JUST_NOW_SECONDS) return 'just now';
  return relative.format(amount, UNITS[index]!.unit);
}

/**
 * The first instant (ms) after `now` at which {@link ago} may read differently, so that a time
 * on screen is drawn again then and not before. The count of a unit, round((at - now) / size),
 * steps as that quotient falls through a half; a past time moves up a unit on such a step, a
 * future one moves down a unit where the smaller unit's count falls below its limit.
 */
export function nextChange(iso: string, now = Date.now()): number {
  const at = Date.parse(iso);
  const { index, amount } = shown(at, now);
  let next = at - (amount - 0.5) * UNITS[index]!.size + 1;
  const smaller = UNITS[index - 1];
  if (smaller && at > now) {
    const down = at - (smaller.below - 0.5) * smaller.size + 1;
    if (down > now) next = Math.min(next, down);
  }
  return next;
}

export const exactly = (iso: string) => absolute.format(new Date(iso));
