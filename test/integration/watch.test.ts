import { describe, it, expect, inject } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import type { LessonResult } from '../../src/core/checks/runner.js';
import { applyFix } from '../../src/core/scenarios/apply.js';
import { engines } from '../../src/engines/index.js';

const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData') };

describe('watch mode', () => {
  it('re-checks on API events, survives an API server restart, and sees the fix land with no polling', async () => {
    const lab = await Lab.open({ engines, env, engine: 'local' });
    const lesson = lab.lesson('rbac-least-privilege');
    await lab.start(lesson.id);
    const results: { r: LessonResult; reason: string; at: number }[] = [];
    const ac = new AbortController();
    const done = lab.watch(lesson.id, (r, reason) => results.push({ r, reason, at: Date.now() }), ac.signal);
    const until = async (pred: () => boolean, ms: number, what: string) => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; reasons seen: ${results.map((x) => x.reason).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(() => results.length > 0, 20_000, 'the first check');
      expect(results[0].r.passed).toBe(false);

      // restart the API server (any manifest change restarts it), and wait until it is back
      const manifest = await lab.engine.controlPlane!.readManifest('kube-apiserver');
      await lab.engine.controlPlane!.writeManifest('kube-apiserver', `${manifest}# restarted by the watch test\n`);
      try {
        const before = results.length;
        // the watches reconnect by themselves; a fix made now must be seen without any keypress
        const cluster = await lab.cluster();
        const t0 = Date.now();
        await applyFix({ cluster, engine: lab.engine, workspace: lab.workspace }, lesson.solution, lesson.id);
        await until(() => results.slice(before).some((x) => x.r.passed), 30_000, 'a passing re-check after the fix');
        const hit = results.slice(before).find((x) => x.r.passed)!;
        expect(hit.reason).not.toBe('start');
        expect(hit.at - t0).toBeLessThan(30_000);
      } finally {
        await lab.engine.controlPlane!.restoreManifest('kube-apiserver');
      }
    } finally {
      ac.abort();
      await done;
      await lab.reset(lesson.id);
    }
  });
});
