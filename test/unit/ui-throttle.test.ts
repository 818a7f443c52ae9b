import { describe, expect, it } from 'vitest';
import { throttleLatest, type Timers } from '../../src/ui/throttle.js';
import { storeReporter, DETAIL_MS } from '../../src/ui/effects.js';
import type { Action } from '../../src/ui/store.js';

/** A clock the test moves by hand: timers fire in order as time passes. */
function manualTimers() {
  let t = 0;
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    now: () => t,
    setTimeout: (fn, ms) => {
      const id = ++seq;
      due.set(id, { at: t + ms, fn });
      return id;
    },
    clearTimeout: (id) => {
      due.delete(id as number);
    },
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      const next = [...due.entries()].filter(([, d]) => d.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      due.delete(next[0]);
      t = next[1].at;
      next[1].fn();
    }
    t = end;
  };
  return { timers, advance, pending: () => due.size };
}

describe('throttleLatest (streamed task output)', () => {
  it('delivers the first value at once, then the newest of each window, at most once per period', () => {
    const { timers, advance } = manualTimers();
    const got: Array<[number, string]> = [];
    const f = throttleLatest((v: string) => got.push([timers.now(), v]), 250, timers);
    f('line 1');
    expect(got).toEqual([[0, 'line 1']]);
    for (let i = 2; i <= 50; i++) {
      advance(10);
      f(`line ${i}`);
    } // 50 lines in half a second
    advance(1000);
    // Nothing lost at the end: the newest line is what stays on screen.
    expect(got.at(-1)![1]).toBe('line 50');
    // At most one delivery per 250 ms window.
    for (let i = 1; i < got.length; i++) expect(got[i][0] - got[i - 1][0]).toBeGreaterThanOrEqual(250);
    expect(got.length).toBeLessThanOrEqual(4);
    expect(got.length).toBeGreaterThanOrEqual(2);
  });

  it('after a quiet period a value goes through at once again', () => {
    const { timers, advance } = manualTimers();
    const got: string[] = [];
    const f = throttleLatest((v: string) => got.push(v), 250, timers);
    f('a');
    advance(1000);
    f('b');
    expect(got).toEqual(['a', 'b']);
  });

  it('flush delivers the pending value now; cancel drops it and leaves no timer', () => {
    const { timers, advance, pending } = manualTimers();
    const got: string[] = [];
    const f = throttleLatest((v: string) => got.push(v), 250, timers);
    f('a');
    f('b');
    f('c');
    expect(got).toEqual(['a']);
    f.flush();
    expect(got).toEqual(['a', 'c']);
    expect(pending()).toBe(0);
    advance(10);
    f('d');
    expect(pending()).toBe(1);
    f.cancel();
    expect(pending()).toBe(0);
    advance(1000);
    expect(got).toEqual(['a', 'c']);
  });
});

describe("storeReporter throttles a task's streamed lines", () => {
  it('a burst of lines is one redraw, and no update lands after the task ended', async () => {
    const acts: Action[] = [];
    const rep = storeReporter({ dispatch: (a) => acts.push(a) });
    await rep.task('build', async (u) => {
      for (let i = 0; i < 200; i++) u(`go: compiling package ${i}`);
    });
    await new Promise((r) => setTimeout(r, DETAIL_MS + 50));
    const updates = acts.filter((a) => a.type === 'task/update');
    expect(updates).toEqual([{ type: 'task/update', id: 1, detail: 'go: compiling package 0' }]);
    expect(acts.map((a) => a.type)).toEqual(['task/start', 'task/update', 'task/end']);
  });

  it('a line that stays pending shows up once its window ends, while the task still runs', async () => {
    const acts: Action[] = [];
    const rep = storeReporter({ dispatch: (a) => acts.push(a) });
    await rep.task('download', async (u) => {
      u('1 MB');
      u('2 MB');
      u('3 MB');
      await new Promise((r) => setTimeout(r, DETAIL_MS + 100));
    });
    const details = acts.flatMap((a) => (a.type === 'task/update' ? [a.detail] : []));
    expect(details).toEqual(['1 MB', '3 MB']);
  });
});

describe('render only on change', () => {
  it("the status poll's same answer leaves the state as it was (no redraw); a new answer changes it", async () => {
    const { initialState, reducer } = await import('../../src/ui/store.js');
    const status = { healthy: true, exists: true, running: true, problems: [] as string[] };
    const s1 = reducer(initialState(), { type: 'cluster/status', status });
    const s2 = reducer(s1, { type: 'cluster/status', status: { ...status, problems: [] } });
    expect(s2).toBe(s1);
    const s3 = reducer(s2, { type: 'cluster/status', status: { ...status, healthy: false, problems: ['etcd: not ready'] } });
    expect(s3).not.toBe(s2);
    expect(s3.cluster).toEqual({ healthy: false, exists: true, running: true, problems: ['etcd: not ready'] });
    expect(reducer(s3, { type: 'cluster/status', status: { ...status, healthy: false, problems: ['etcd: not ready'] } })).toBe(s3);
    expect(reducer(s3, { type: 'cluster/status', status: { ...status, healthy: false, problems: ['apiserver: down'] } }).cluster?.problems).toEqual([
      'apiserver: down',
    ]);
  });
});
