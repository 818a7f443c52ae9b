import { describe, it, expect, inject } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/paths.js';
import { Lab } from '../../src/core/lab.js';
import { LabLock } from '../../src/core/lock.js';
import { engines } from '../../src/engines/index.js';

const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData'), NO_COLOR: '1' };
const tsx = join(packageRoot, 'node_modules', '.bin', 'tsx');
const main = join(packageRoot, 'src', 'cli', 'main.ts');

/** Until a command holds the lab's lock (its lab.lock.json names it): no guessing how long a start takes on a busy machine. */
async function untilLocked(command: string): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const info = join(env.KUBE_SECLAB_DATA as string, 'lab.lock.json');
  for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    try {
      if (existsSync(info) && readFileSync(info, 'utf8').includes(command)) return;
    } catch {
      /* being written */
    }
  }
  throw new Error(`no process took the lab's lock for \`${command}\` within 60 s`);
}

const live = new Map<string, string>();
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(tsx, [main, ...args], { env, cwd: packageRoot });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
      live.set(String(p.pid), stderr);
    });
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('one lab, one writer', () => {
  it('resets of a control-plane lesson at once: each waits its turn, all succeed, the lesson works', { timeout: 300_000 }, async () => {
    expect((await cli('start', 'audit-logging')).code).toBe(0);
    // The test itself holds the lock first (as a long reset would), so the two resets below surely
    // meet a busy lab — however long their start takes on a busy machine.
    live.clear();
    const holder = new LabLock(env.KUBE_SECLAB_DATA as string, 'kube-seclab reset audit-logging --yes (the test)');
    await holder.acquire();
    let released = false;
    try {
      const a = cli('reset', 'audit-logging', '--yes');
      const b = cli('reset', 'audit-logging', '--yes');
      // Until both say they wait (however long their start takes on a busy machine).
      for (const end = Date.now() + 120_000; Date.now() < end && [...live.values()].filter((e) => /waiting for/.test(e)).length < 2;) {
        await new Promise((r) => setTimeout(r, 200));
      }
      await holder.releaseLock();
      released = true;
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.code, ra.stderr).toBe(0);
      expect(rb.code, rb.stderr).toBe(0);
      for (const r of [ra, rb]) expect(r.stderr).toMatch(/waiting for `kube-seclab reset audit-logging --yes( \(the test\))?` \(pid \d+\) to finish…/);
      expect(`${ra.stderr}${rb.stderr}`).not.toMatch(/unexpected error|\n\s+at /);
    } finally {
      if (!released) await holder.releaseLock();
    }
    // The lesson is set up once more, whole: its checks run and fail on the insecure start.
    const lab = await Lab.open({ engines, env, engine: 'local' });
    const r = await lab.check('audit-logging', { record: false });
    expect(r.unreachable).toBe(false);
    expect(r.checks.filter((c) => c.status === 'error')).toEqual([]);
    expect(r.passed).toBe(false);
    await lab.remove('audit-logging');
  });

  it('readers never wait: check and status answer while a reset holds the lock', { timeout: 300_000 }, async () => {
    expect((await cli('start', 'rbac-least-privilege')).code).toBe(0);
    const reset = cli('reset', 'rbac-least-privilege', '--yes');
    await untilLocked('reset rbac-least-privilege');
    const status = await cli('status', '--json');
    expect(status.stderr).not.toMatch(/waiting for/);
    expect((await reset).code).toBe(0);
  });
});
