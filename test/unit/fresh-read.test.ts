import { describe, expect, it } from 'vitest';
import { FreshRead } from '../../src/engines/kind/fresh-read.js';

/** A read whose calls are recorded and ended by hand: each resolves to its own start order. */
function manualReads() {
  const calls: { n: number; startedAt: number; end: () => void }[] = [];
  let clock = 0;
  const read = () =>
    new Promise<number>((resolve) => {
      const n = calls.length + 1;
      calls.push({ n, startedAt: clock, end: () => resolve(n) });
    });
  return { calls, read, now: () => clock, tick: (ms: number) => (clock += ms) };
}
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('FreshRead: one costly read at a time, never older than the call', () => {
  it('callers that ask while a read runs share the one read after it, and none gets the read that began before it asked', async () => {
    const m = manualReads();
    const f = new FreshRead(m.read, 0, m.now, async () => {});
    const first = f.get();
    await flush();
    expect(m.calls).toHaveLength(1);
    m.tick(10);
    const late = [f.get(), f.get(), f.get()];
    await flush();
    expect(m.calls).toHaveLength(1); // they wait: the running read began before they asked
    m.calls[0]!.end();
    expect(await first).toBe(1);
    await flush();
    expect(m.calls).toHaveLength(2); // one read for the three of them
    expect(m.calls[1]!.startedAt).toBeGreaterThanOrEqual(10);
    m.calls[1]!.end();
    expect(await Promise.all(late)).toEqual([2, 2, 2]);
  });

  it('a call after a read ended starts a new one', async () => {
    const m = manualReads();
    const f = new FreshRead(m.read, 0, m.now, async () => {});
    const a = f.get();
    await flush();
    m.calls[0]!.end();
    expect(await a).toBe(1);
    m.tick(1);
    const b = f.get();
    await flush();
    expect(m.calls).toHaveLength(2);
    m.calls[1]!.end();
    expect(await b).toBe(2);
  });

  it('reads start at least the interval apart', async () => {
    const m = manualReads();
    const slept: number[] = [];
    const f = new FreshRead(m.read, 500, m.now, async (ms) => {
      slept.push(ms);
      m.tick(ms);
    });
    const a = f.get();
    await flush();
    m.tick(100);
    m.calls[0]!.end();
    await a;
    const b = f.get();
    await flush();
    expect(slept).toEqual([400]);
    expect(m.calls[1]!.startedAt - m.calls[0]!.startedAt).toBe(500);
    m.calls[1]!.end();
    expect(await b).toBe(2);
  });

  it('a failed read fails its callers, and the next call reads again', async () => {
    let n = 0;
    const f = new FreshRead(async () => {
      n++;
      if (n === 1) throw new Error('exec failed');
      return n;
    });
    await expect(f.get()).rejects.toThrow('exec failed');
    expect(await f.get()).toBe(2);
  });
});
