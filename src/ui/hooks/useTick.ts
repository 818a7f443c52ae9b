import { useCallback, useSyncExternalStore } from 'react';

/**
 * One clock per period, shared by everything that ticks at that period (spinners, elapsed times):
 * all of them move in the same React commit, so the screen is drawn once per tick, not once per
 * component. The timer runs only while something is subscribed.
 */
interface Clock {
  n: number;
  timer?: ReturnType<typeof setInterval>;
  subs: Set<() => void>;
}
const clocks = new Map<number, Clock>();

function clockFor(ms: number): Clock {
  let c = clocks.get(ms);
  if (!c) {
    c = { n: 0, subs: new Set() };
    clocks.set(ms, c);
  }
  return c;
}

function subscribe(ms: number, fn: () => void): () => void {
  const c = clockFor(ms);
  c.subs.add(fn);
  if (!c.timer) {
    c.timer = setInterval(() => {
      c.n++;
      for (const s of [...c.subs]) s();
    }, ms);
    c.timer.unref?.();
  }
  return () => {
    c.subs.delete(fn);
    if (!c.subs.size && c.timer) {
      clearInterval(c.timer);
      c.timer = undefined;
    }
  };
}

/** Re-render every `ms` while `active` (spinners, elapsed time); returns the shared tick count. */
export function useTick(ms: number, active = true): number {
  const sub = useCallback((fn: () => void) => (active ? subscribe(ms, fn) : () => {}), [ms, active]);
  const get = useCallback(() => clockFor(ms).n, [ms]);
  return useSyncExternalStore(sub, get, get);
}

/**
 * The period of spinners and running times: once a second. Each frame costs Ink a full layout and
 * diff of the screen (~20-40 ms of CPU on a busy machine, bench:tui); the running time moving on is
 * the sign of life, and the CPU while waiting stays near the 3 % goal.
 */
export const TICK_MS = 1000;
