import { describe, it, expect } from 'vitest';
import { settle, MIN_READINGS, type ApiServerDown } from '../../src/core/settle.js';
import type { LessonResult } from '../../src/core/checks/runner.js';

/** A lesson result: 'pass', 'fail' (a check failed) or 'away' (unreachable, nothing failed). */
const result = (r: 'pass' | 'fail' | 'away'): LessonResult => ({
  lesson: 'l',
  passed: r === 'pass',
  durationMs: 0,
  unreachable: r === 'away',
  checks: [{ id: 'c', status: r === 'pass' ? 'passed' : r === 'fail' ? 'failed' : 'unreachable' } as LessonResult['checks'][number]],
});

/** A fake clock: each reading takes `readingMs`, each pause 250 ms; the readings follow `script` (its last one repeats; `cycle`: all of it repeats). */
function run(
  script: ('pass' | 'fail' | 'away')[],
  readingMs: number,
  o: { settleMs?: number; startingMs?: number; down?: ApiServerDown; cycle?: boolean } = {},
) {
  let t = 0;
  let i = 0;
  return settle({
    settleMs: o.settleMs ?? 3000,
    startingMs: o.startingMs,
    apiServerDown: async () => o.down,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    check: async () => {
      t += readingMs;
      const k = i++;
      return result(script[o.cycle ? k % script.length : Math.min(k, script.length - 1)]);
    },
  });
}

describe('settle: when readings after a change give a verdict', () => {
  it('a fix that keeps failing is caught at its second failing reading, however long one reading takes', async () => {
    // 40 s a reading: longer than settleMs + the 30 s cap (an attack that starts pods, probes that time out on kind under load).
    // Before: given up after one reading as "no settled verdict … the checks flip between readings".
    const slow = await run(['fail'], 40_000);
    expect(slow).toMatchObject({ verdict: 'caught', readings: 2 });
    const fast = await run(['fail'], 100);
    expect(fast.verdict).toBe('caught');
  });

  it('two passing readings in a row: passes (slow or fast)', async () => {
    expect((await run(['pass'], 40_000)).verdict).toBe('passes');
    expect((await run(['fail', 'pass'], 100)).verdict).toBe('passes');
  });

  it('readings that flip are unsettled — only after enough of them, past the cap', async () => {
    const r = await run(['fail', 'pass'], 40_000, { cycle: true });
    expect(r.verdict).toBe('unsettled');
    expect(r.readings).toBeGreaterThanOrEqual(MIN_READINGS);
    const quick = await run(['fail', 'pass'], 1000, { cycle: true });
    expect(quick.verdict).toBe('unsettled');
    expect(quick.readings).toBeGreaterThan(20); // readings go on until 30 s past settleMs
  });

  it('an unreachable cluster says nothing, unless the engine calls it stuck', async () => {
    expect((await run(['away'], 1000, { down: { state: 'stuck', why: 'etcd refuses it' } })).verdict).toBe('caught');
    const starting = await run(['away'], 1000, { down: { state: 'starting' }, startingMs: 60_000 });
    expect(starting.verdict).toBe('unsettled');
    expect(starting.readings).toBeGreaterThan(60); // waited the starting time too, not only the cap
    const away = await run(['away', 'away', 'fail'], 1000);
    expect(away.verdict).toBe('caught');
  });
});
