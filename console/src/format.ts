/** Times as the tables show them: "3 min ago", with the exact instant in a tooltip. */
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 365],
];

export function ago(iso: string, now = Date.now()): string {
  let amount = Math.round((new Date(iso).getTime() - now) / 1000);
  for (const [unit, size] of STEPS) {
    if (Math.abs(amount) < size)
      return unit === 'second' && Math.abs(amount) < 10 ? 'just now' : relative.format(amount, unit);
    amount = Math.round(amount / size);
  }
  return relative.format(amount, 'year');
}

export const exactly = (iso: string) => absolute.format(new Date(iso));
