import type { LessonResult } from './checks/runner.js';
import { sleep as realSleep } from './fsutil.js';

export type ApiServerDown = { state: 'starting' } | { state: 'stuck'; why: string } | undefined;

export interface SettleOptions {
  /** One reading of the lesson's checks. */
  check: () => Promise<LessonResult>;
  /** How long the readings go on at least (a fix takes a moment to be seen). */
  settleMs: number;
  /** More time while the engine says the control plane is still starting (control-plane lessons). */
  startingMs?: number;
  /** While the cluster does not answer: is the API server on its way back, or stuck? */
  apiServerDown?: () => Promise<ApiServerDown>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface Settled {
  /** caught: a check fails and keeps failing; passes: every check passes, twice; unsettled: neither. */
  verdict: 'caught' | 'passes' | 'unsettled';
  last: LessonResult;
  readings: number;
  down: ApiServerDown;
}

/** Readings before the cap may end them, and readings past `settleMs` among them. */
export const MIN_READINGS = 4;
const LATE_READINGS = 3;
const CAP_MS = 30_000;

/**
 * Reads a lesson's checks until they settle after a change (a shortcut applied). Caught: two failing
 * readings in a row, the last past `settleMs`. Passes: two passing readings in a row (one can be an
 * admission policy the API server has not dropped yet). A reading in which the cluster does not
 * answer and no check failed says nothing — unless the engine knows the API server will not come
 * back by itself (etcd refuses it, it keeps exiting): then it counts as failing.
 *
 * Unsettled only after MIN_READINGS readings, LATE_READINGS of them past `settleMs`, once 30 s past
 * it (and, while the engine says the control plane is still starting, `startingMs` more) — whatever
 * a reading costs. A reading can take far longer than the cap (on kind a probe a wrong fix blocks
 * waits out its timeout; an attack starts pods of its own), so the cap is never reached by time
 * alone: two readings in a row always have their chance.
 */
export async function settle(o: SettleOptions): Promise<Settled> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  const end = now() + o.settleMs;
  const cap = end + CAP_MS;
  const longCap = cap + (o.startingMs ?? 0);
  let passes = 0;
  let fails = 0;
  let readings = 0;
  let late = 0;
  for (;;) {
    const last = await o.check();
    readings += 1;
    if (now() >= end) late += 1;
    // A check that failed is a verdict even while others cannot reach the cluster (a shortcut that
    // locks the API server out of etcd: the flags and etcd itself still say what is wrong).
    let down: ApiServerDown;
    let definite = !last.unreachable || last.checks.some((c) => c.status === 'failed');
    if (!definite) {
      down = await o.apiServerDown?.().catch(() => undefined);
      definite = down?.state === 'stuck';
    }
    if (last.passed) {
      passes += 1;
      fails = 0;
    } else if (definite) {
      fails += 1;
      passes = 0;
    }
    if (passes >= 2) return { verdict: 'passes', last, readings, down };
    if (fails >= 2 && now() >= end) return { verdict: 'caught', last, readings, down };
    const t = now();
    const enough = readings >= MIN_READINGS && late >= LATE_READINGS;
    if (enough && ((t >= cap && down?.state !== 'starting') || t >= longCap)) return { verdict: 'unsettled', last, readings, down };
    await sleep(250);
  }
}
