/**
 * Latest-wins throttle for streamed output (a build's log lines, download progress): the first
 * value goes through at once, later ones at most once per `ms` — the newest value of each window,
 * delivered when the window ends. A screen redraw per line costs the TUI a few ms of CPU; a line
 * every `ms` is all a learner can read anyway.
 */
export interface Throttled<T> {
  (value: T): void;
  /** Deliver the pending value now (if any). */
  flush(): void;
  /** Drop the pending value; nothing more is delivered until the next call. */
  cancel(): void;
}

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

export function throttleLatest<T>(deliver: (value: T) => void, ms: number, timers: Timers = realTimers): Throttled<T> {
  let last = -Infinity;
  let pending: { value: T } | undefined;
  let timer: unknown;
  const fire = () => {
    timer = undefined;
    if (!pending) return;
    const { value } = pending;
    pending = undefined;
    last = timers.now();
    deliver(value);
  };
  const fn = ((value: T) => {
    pending = { value };
    if (timer !== undefined) return;
    const wait = last + ms - timers.now();
    if (wait <= 0) fire();
    else timer = timers.setTimeout(fire, wait);
  }) as Throttled<T>;
  fn.flush = () => {
    if (timer !== undefined) {
      timers.clearTimeout(timer);
      timer = undefined;
    }
    fire();
  };
  fn.cancel = () => {
    if (timer !== undefined) {
      timers.clearTimeout(timer);
      timer = undefined;
    }
    pending = undefined;
  };
  return fn;
}
