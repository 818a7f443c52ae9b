import { describe, it, expect, inject } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/paths.js';
import { Lab } from '../../src/core/lab.js';

const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData'), NO_COLOR: '1' };
const tsx = join(packageRoot, 'node_modules', '.bin', 'tsx');
const main = join(packageRoot, 'src', 'cli', 'main.ts');

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(tsx, [main, ...args], { env, cwd: packageRoot });
    let stdout = ''; let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('one lab, one writer', () => {
  it('two resets of a control-plane lesson at once: the second waits for the first, both succeed, the lesson works', { timeout: 300_000 }, async () => {
    expect((await cli('start', 'audit-logging')).code).toBe(0);
    const first = cli('reset', 'audit-logging', '--yes');
    await new Promise((r) => setTimeout(r, 1500)); // the first holds the lock by now (tsx takes ~1 s to start)
    const second = cli('reset', 'audit-logging', '--yes');
    const [a, b] = await Promise.all([first, second]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/waiting for `kube-seclab reset audit-logging --yes` \(pid \d+\) to finish…/);
    expect(`${a.stderr}${b.stderr}`).not.toMatch(/unexpected error|\n\s+at /);
    // The lesson is set up once more, whole: its checks run and fail on the insecure start.
    const lab = await Lab.open({ env, engine: 'local' });
    const r = await lab.check('audit-logging', { record: false });
    expect(r.unreachable).toBe(false);
    expect(r.checks.filter((c) => c.status === 'error')).toEqual([]);
    expect(r.passed).toBe(false);
    await lab.remove('audit-logging');
  });

  it('readers never wait: check and status answer while a reset holds the lock', { timeout: 300_000 }, async () => {
    expect((await cli('start', 'rbac-least-privilege')).code).toBe(0);
    const reset = cli('reset', 'rbac-least-privilege', '--yes');
    await new Promise((r) => setTimeout(r, 1200));
    const status = await cli('status', '--json');
    expect(status.stderr).not.toMatch(/waiting for/);
    expect((await reset).code).toBe(0);
  });
});
