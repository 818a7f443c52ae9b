import type { Lab } from './lab.js';
import type { LessonResult } from './checks/runner.js';
import { sleep } from './fsutil.js';
import { errorMessage } from './errors.js';

export interface VerifyStep { name: string; ok: boolean; detail: string; durationMs: number }
export interface VerifyResult { lesson: string; ok: boolean; skipped?: string; steps: VerifyStep[] }

const failing = (r: LessonResult) => r.checks.filter((c) => c.status === 'failed').map((c) => `${c.id}: ${c.message}`);

/**
 * The authoring guarantee, per lesson: reset → its checks fail → apply the reference solution →
 * they all pass → for each shortcut: reset → apply it → at least one check still fails.
 */
export async function verifyLesson(lab: Lab, id: string, opts: { solutionTimeoutMs?: number; settleMs?: number; onStep?: (s: VerifyStep) => void } = {}): Promise<VerifyResult> {
  const lesson = lab.lesson(id);
  const unavailable = lab.unavailableReason(lesson);
  if (unavailable) return { lesson: id, ok: true, skipped: unavailable === 'needs kind' ? 'needs the kind engine' : unavailable, steps: [] };
  const steps: VerifyStep[] = [];
  const step = async (name: string, fn: () => Promise<[boolean, string]>) => {
    const t0 = performance.now();
    let ok = false; let detail = '';
    try { [ok, detail] = await fn(); } catch (e) { ok = false; detail = errorMessage(e); }
    const s = { name, ok, detail, durationMs: Math.round(performance.now() - t0) };
    steps.push(s);
    opts.onStep?.(s);
    return ok;
  };
  const check = () => lab.check(id, { record: false });

  const run = async () => {
    if (!await step('reset', async () => { await lab.reset(id); return [true, 'scenario applied']; })) return;
    if (!await step('unsolved fails', async () => {
      const r = await check();
      if (r.unreachable) return [false, 'cluster unreachable'];
      const f = failing(r);
      return f.length ? [true, `${f.length} check(s) fail, e.g. ${f[0]}`] : [false, 'every check passes on the insecure scenario'];
    })) return;
    if (!await step('solution passes', async () => {
      await lab.solution(id, { apply: true });
      const end = Date.now() + (opts.solutionTimeoutMs ?? 60_000);
      let r = await check();
      while (!r.passed && Date.now() < end) { await sleep(250); r = await check(); }
      return r.passed ? [true, `all ${r.checks.filter((c) => c.status === 'passed').length} runnable checks pass`] : [false, failing(r).join('; ') || r.checks.map((c) => c.message).join('; ')];
    })) return;
    for (const s of lesson.shortcuts.filter((x) => !x.engines || x.engines.includes(lab.engine.name))) {
      await step(`shortcut "${s.name}" fails`, async () => {
        await lab.reset(id);
        await lab.applyShortcut(id, s.name);
        const end = Date.now() + (opts.settleMs ?? 3000);
        let last: LessonResult;
        let passes = 0; // two passing readings in a row: one can be a policy the API server has not dropped yet
        do {
          last = await check();
          passes = last.passed ? passes + 1 : 0;
          if (passes >= 2) return [false, `all checks pass after the shortcut${s.description ? ` (${s.description})` : ''}`];
          await sleep(250);
        } while (Date.now() < end || passes > 0);
        return [true, failing(last)[0] ?? 'a check fails'];
      });
    }
    // Leave nothing behind: an insecure scenario left in place (a cluster-wide binding, say) would skew other lessons.
    await step('clean up', async () => { await lab.remove(id); return [true, 'lesson objects removed'] as [boolean, string]; });
  };
  await run();
  return { lesson: id, ok: steps.every((s) => s.ok), steps };
}
