/**
 * The page's one clock for relative times ("3 min ago"). Each time on screen asks to be woken
 * when its words next change ({@link nextChange}), and one timer, set for the soonest of those,
 * wakes the ones due and nothing else: a "2 hr ago" is drawn again in half an hour, not every
 * second. Wakes are rounded up to whole seconds, so times due within the same second are drawn
 * in one render, and a page of rows counting seconds costs one wake a second, not one per row.
 */
import { useEffect, useState } from 'preact/hooks';
import { ago, nextChange } from './format.js';

interface Waiter {
  at: number;
  wake(): void;
}

const GRAIN_MS = 1_000;
/** The longest delay setTimeout takes (a longer one fires at once); a longer wait is taken in steps. */
const LONGEST_DELAY_MS = 2 ** 31 - 1;

const waiting = new Set<Waiter>();
let timer: ReturnType<typeof setTimeout> | undefined;
/** When the timer rings; Infinity while none is set. */
let timerAt = Infinity;

function arm(at: number): void {
  clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(ring, Math.min(Math.max(0, at - Date.now()), LONGEST_DELAY_MS));
}

function ring(): void {
  timerAt = Infinity;
  const now = Date.now();
  let soonest = Infinity;
  for (const waiter of waiting) {
    if (waiter.at <= now) {
      waiting.delete(waiter);
      waiter.wake();
    } else soonest = Math.min(soonest, waiter.at);
  }
  if (soonest < timerAt) arm(soonest);
}

/** Calls `wake` once, at `at` or within a second after; returns a function that cancels it. */
export function wakeAt(at: number, wake: () => void): () => void {
  const waiter = { at: Math.ceil(at / GRAIN_MS) * GRAIN_MS, wake };
  waiting.add(waiter);
  if (waiter.at < timerAt) arm(waiter.at);
  return () => void waiting.delete(waiter);
}

/** `iso` as {@link ago} words it now, drawn again whenever those words change. */
export function useRelativeTime(iso: string): string {
  const [, setWakes] = useState(0);
  const now = Date.now();
  const next = nextChange(iso, now);
  useEffect(() => wakeAt(next, () => setWakes((wakes) => wakes + 1)), [next]);
  return ago(iso, now);
}
