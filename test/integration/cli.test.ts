import { describe, it, expect, inject } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { packageRoot } from '../../src/core/paths.js';
import { commandDir } from '../../src/core/shell.js';

const run = promisify(execFile);
const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData'), NO_COLOR: '1' };
const tsx = join(packageRoot, 'node_modules', '.bin', 'tsx');
const main = join(packageRoot, 'src', 'cli', 'main.ts');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(tsx, [main, ...args], { env, cwd: packageRoot });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e: any) {
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the CLI as a learner uses it', () => {
  // A dozen CLI processes in a row (each a tsx start): minutes on a busy CI machine — a guard against a hang, not a speed goal.
  it('start → check fails with useful lines → fix → check passes → reset restores the insecure state', { timeout: 600_000 }, async () => {
    const start = await cli('start', 'rbac-least-privilege');
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(`eval "$(cd ${packageRoot} && npx kube-seclab env)"`);

    const failing = await cli('check', '--json');
    expect(failing.code).toBe(1);
    const r = JSON.parse(failing.stdout);
    expect(Object.keys(r)).toEqual(['lesson', 'passed', 'durationMs', 'checks']);
    expect(r.lesson).toBe('rbac-least-privilege');
    expect(r.passed).toBe(false);
    for (const c of r.checks) for (const k of ['id', 'title', 'passed', 'message', 'durationMs', 'requires']) expect(c).toHaveProperty(k);
    const secrets = r.checks.find((c: any) => c.id === 'api-least-privilege');
    expect(secrets.message).toMatch(
      /ServiceAccount shop\/api can do more than it needs: every verb on every resource cluster-wide \[everything\] — ClusterRoleBinding app-admin → ClusterRole cluster-admin/,
    );

    const human = await cli('check');
    expect(human.stdout).toMatch(/✗ no-wildcard-rules +1 wildcard Role left in namespace shop: api-everything/);

    const hint = await cli('hint');
    expect(hint.stdout).toMatch(/Hint 1\/3/);

    expect((await cli('solution', 'rbac-least-privilege', '--apply')).code).toBe(0);
    const passing = await cli('check', '--json');
    expect(JSON.parse(passing.stdout).passed).toBe(true);
    expect(passing.code).toBe(0);

    const list = JSON.parse((await cli('list', '--json')).stdout);
    expect(list.find((l: any) => l.id === 'rbac-least-privilege')).toEqual({
      id: 'rbac-least-privilege',
      layer: 'cluster',
      title: expect.any(String),
      requires: 'api',
      status: 'done',
    });

    expect((await cli('reset', 'rbac-least-privilege', '--yes')).code).toBe(0);
    const again = await cli('check', '--json');
    expect(JSON.parse(again.stdout).passed).toBe(false);
  });

  it('never grades a lesson that was not set up on this cluster (a pristine cluster is no fix)', async () => {
    // Its checks on a cluster that never ran its scenario: nothing to judge, nothing recorded.
    const r = await cli('check', 'over-broad-groups', '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/lesson over-broad-groups is not set up on this cluster/);
    expect(r.stderr).toMatch(/kube-seclab start over-broad-groups/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const list = JSON.parse((await cli('list', '--json')).stdout);
    expect(list.find((l: any) => l.id === 'over-broad-groups').status).not.toBe('done');
  });

  it('answers usage errors with exit 2 and a next step, never a stack trace', async () => {
    const r = await cli('start', 'no-such-lesson');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no lesson "no-such-lesson"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const bad = await cli('frobnicate');
    expect(bad.code).toBe(2);
    const nonTty = await cli();
    expect(nonTty.code).toBe(2);
    expect(nonTty.stderr).toMatch(/interactive terminal/);
  });

  it('survives a corrupt progress file: backs it up, warns, and starts fresh', async () => {
    const p = join(inject('labData'), 'progress.json');
    writeFileSync(p, '{ this is not json');
    const r = await cli('list', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/progress file was unreadable .*kept it as .*progress\.json\.corrupt-/);
    expect(JSON.parse(r.stdout).length).toBeGreaterThanOrEqual(1);
    await cli('hint', 'rbac-least-privilege');
    expect(JSON.parse(readFileSync(p, 'utf8')).version).toBe(1);
  });

  it("env prints the lines for eval (kubeconfig, the lab's own command on PATH) and status --json reports the engine", async () => {
    const lines = (await cli('env')).stdout.trim().split('\n');
    expect(lines[0]).toBe(`export KUBECONFIG=${join(inject('labData'), 'kubeconfig')}`);
    expect(lines[1]).toBe(`case ":$PATH:" in *:${commandDir(env)}:*) ;; *) export PATH=${commandDir(env)}"\${PATH:+:$PATH}" ;; esac`);
    expect(lines.slice(2)).toEqual([`export KUBE_SECLAB_DATA=${inject('labData')}`]);
    const st = JSON.parse((await cli('status', '--json')).stdout);
    expect(st).toMatchObject({ engine: 'local', exists: true, healthy: true });
  });
});
