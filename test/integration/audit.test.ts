/**
 * `dev audit` on the real local engine: independent auditors (kube-score v1.20.0, kube-bench v0.16.0
 * with CIS 1.12, from tools/build-auditors.sh) against every lesson's scenario and solved state.
 */
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { Lab } from '../../src/core/lab.js';
import { packageRoot } from '../../src/core/paths.js';
import { auditLesson } from '../../src/core/audit/audit.js';
import { findAuditors, CIS_BENCHMARK } from '../../src/core/audit/tools.js';
import { KUBE_SCORE_CHECKS, CIS_CHECKS } from '../../src/core/audit/catalogue.js';
import { runKubeBenchNode } from '../../src/core/audit/kubeBench.js';
import { LocalEngine } from '../../src/engines/local/engine.js';
import { labPaths } from '../../src/core/paths.js';
import { engines } from '../../src/engines/index.js';

const run = promisify(execFile);
const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData'), NO_COLOR: '1' };
const tools = findAuditors(env); // not built: this file fails here, with the line saying how to build them
let lab: Lab;
beforeAll(async () => {
  lab = await Lab.open({ engines, env, engine: 'local' });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(join(packageRoot, 'node_modules', '.bin', 'tsx'), [join(packageRoot, 'src', 'cli', 'main.ts'), ...args], {
      env,
      cwd: packageRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e: any) {
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the auditors dev audit runs', () => {
  it("know exactly the checks the lessons may declare (the catalogue is the installed tools')", async () => {
    const list = (await execa(tools.kubeScore, ['list'])).stdout
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    expect(list.map((c) => [c[0], c[1], c[c.length - 1]])).toEqual(KUBE_SCORE_CHECKS.map((c) => [...c]));
    const checks: [string, string, boolean][] = [];
    for (const f of ['master', 'etcd', 'controlplane', 'node', 'policies']) {
      // Textually (go-yaml accepts flow scalars a strict YAML parser refuses; "2.10" is no 2.1): every
      // `- id:` entry up to the next; a group's holds its `checks:` key.
      const text = await readFile(join(tools.kubeBench.cfgDir, CIS_BENCHMARK, `${f}.yaml`), 'utf8');
      const entries = [...text.matchAll(/^\s+- id: "?([0-9.]+)"?\s*$/gm)];
      entries.forEach((m, i) => {
        const body = text.slice(m.index! + m[0].length, entries[i + 1]?.index ?? text.length);
        if (/^\s+checks:\s*$/m.test(body)) return;
        checks.push([m[1], f, /^\s+type: "?manual"?\s*$/m.test(body)]);
      });
    }
    expect(checks).toEqual(CIS_CHECKS.map((c) => [...c]));
  });
});

// Every lesson's declaration is judged in test/integration/lessons.test.ts, inside its dev verify pass
// (verifyAndAudit: the auditors read the states verify reaches, no reset of their own). Here: the
// command's own path (auditLesson: its own reset and solution), and that it fails what it must.

describe('dev audit fails a lesson whose solution leaves a finding on its own topic', () => {
  it('least-privilege-container with a solution that keeps the fix but runs the container privileged', { timeout: 600_000 }, async () => {
    // A copy of the lessons whose reference solution, otherwise unchanged, adds privileged: true — still a
    // container-security-context-* finding (the lesson's topic), though every id it `clear`s stays cleared.
    const root = await mkdtemp(join(tmpdir(), 'kube-seclab-it-lessons-'));
    try {
      await execa('cp', ['-r', join(packageRoot, 'lessons'), join(packageRoot, 'scenarios'), root]);
      const file = join(root, 'lessons', 'image', '01-least-privilege-container', 'solution', 'thumbnailer.yaml');
      const text = await readFile(file, 'utf8');
      const weakened = text.replace('            allowPrivilegeEscalation: false\n', '            privileged: true\n');
      expect(weakened).not.toBe(text);
      await writeFile(file, weakened);
      const l2 = await Lab.open({ engines, env, engine: 'local', root });
      const r = await auditLesson(l2, 'least-privilege-container', { tools });
      expect(r.errors).toEqual([]);
      expect(r.ok).toBe(false);
      const bad = r.verdicts.filter((v) => !v.ok);
      console.log(
        `audit least-privilege-container, weakened solution: ${r.ok ? 'ok' : 'FAILED'} in ${(r.durationMs / 1000).toFixed(1)} s\n${bad.map((v) => `${v.where} ${v.tool} ${v.id}: ${v.detail}`).join('\n')}`,
      );
      expect(bad.map((v) => `${v.where} ${v.tool} ${v.id}: ${v.detail}`)).toEqual([
        expect.stringMatching(
          /^lessons\/image\/01-least-privilege-container\/lesson.yaml:\d+ audit.kubeScore.topic\[0\] kube-score container-security-context-\*: the solution leaves a finding on the lesson's topic: container-security-context-privileged — Deployment gallery\/thumbnailer: /,
        ),
      ]);
      // What it declares to raise and clear still holds: the topic alone fails it.
      expect(r.cleared).toEqual(r.raised);
      expect(r.raised).toHaveLength(3);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('kube-bench on the local engine', () => {
  let other: { data: string; engine: LocalEngine } | undefined;
  afterAll(async () => {
    if (!other) return;
    await other.engine.down();
    await rm(other.data, { recursive: true, force: true });
  });
  it("audits exactly this lab's control plane while another local lab runs beside it", { timeout: 600_000 }, async () => {
    // This lab with an audit log (audit-logging's solution), another one without: each must be judged on its own flags and files.
    await lab.reset('audit-logging');
    await lab.solution('audit-logging', { apply: true });
    const data = await mkdtemp(join(tmpdir(), 'kube-seclab-it-other-'));
    const oenv = { ...process.env, KUBE_SECLAB_DATA: data };
    other = { data, engine: new LocalEngine(labPaths(oenv), oenv) };
    await other.engine.up();
    try {
      const checks = ['1.2.16', '3.2.1', '1.1.1', '1.1.11', '2.2'];
      const judge = async (engine: LocalEngine) => {
        const host = await engine.nodeAuditHost();
        try {
          return await runKubeBenchNode(tools.kubeBench, host, checks);
        } finally {
          await host.dispose();
        }
      };
      const mine = await judge(lab.engine as LocalEngine);
      const theirs = await judge(other.engine);
      const status = (fs: typeof mine, id: string) => fs.filter((f) => f.id === id).map((f) => f.status);
      expect(status(mine, '1.2.16')).toEqual(['PASS']);
      expect(status(theirs, '1.2.16')).toEqual(['FAIL']);
      expect(status(mine, '3.2.1')).toEqual(['PASS']);
      expect(status(theirs, '3.2.1')).toEqual(['WARN']);
      // files: each lab's own manifests (mode 644 as written) and etcd data folder (700)
      expect(status(mine, '1.1.1')).toEqual(['FAIL']);
      expect(mine.find((f) => f.id === '1.1.1')!.detail).toMatch(/permissions=644/);
      expect(status(mine, '1.1.11')).toEqual(['PASS']);
      expect(status(theirs, '2.2')).toEqual(['PASS']);
      // and the flags kube-bench read are each lab's own process's
      const port = (e: LocalEngine) => JSON.parse(readFileSync(e.L.config, 'utf8')).ports.apiserver as number;
      expect(mine.find((f) => f.id === '1.2.16')!.detail).toBe("'--audit-log-path' is present");
      expect(theirs.find((f) => f.id === '1.2.16')!.detail).toContain(`--secure-port=${port(other.engine)} `);
      expect(theirs.find((f) => f.id === '1.2.16')!.detail).not.toContain(`--secure-port=${port(lab.engine as LocalEngine)} `);
    } finally {
      await lab.remove('audit-logging');
    }
  });
});

describe('kube-seclab dev audit (the CLI)', () => {
  it('prints one line per lesson with what was raised and cleared, exit 0', { timeout: 300_000 }, async () => {
    const r = await cli('dev', 'audit', 'nodeport-exposure', 'sast');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ nodeport-exposure {2}raised kube-score service-type; cleared kube-score service-type \d+\.\d s, auditors \d+\.\d s/);
    expect(r.stdout).toMatch(/– sast {2}skipped: declares nothing for either auditor/);
    expect(r.stdout).toMatch(/^1 passed, 0 failed, 1 skipped/m);
  });
  it('exits 2 with one line saying how to build an auditor that is missing', async () => {
    const r = await run(join(packageRoot, 'node_modules', '.bin', 'tsx'), [join(packageRoot, 'src', 'cli', 'main.ts'), 'dev', 'audit', 'nodeport-exposure'], {
      env: { ...env, KUBE_SECLAB_KUBE_BENCH: '/nonexistent/kube-bench' },
      cwd: packageRoot,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: any) => ({ code: e.code, stderr: String(e.stderr) }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^kube-seclab: kube-bench not found \(KUBE_SECLAB_KUBE_BENCH=\/nonexistent\/kube-bench is not an executable file\): build it with `bash tools\/build-auditors.sh`/,
      ),
    ]);
  });
  it('names the lesson.yaml line of a declaration that no longer holds', { timeout: 300_000 }, async () => {
    // A copy of the lessons where nodeport-exposure claims kube-score's privileged check too.
    const root = await mkdtemp(join(tmpdir(), 'kube-seclab-it-lessons-'));
    try {
      await execa('cp', ['-r', join(packageRoot, 'lessons'), join(packageRoot, 'scenarios'), root]);
      const file = join(root, 'lessons', 'cloud', '02-nodeport-exposure', 'lesson.yaml');
      const text = await readFile(file, 'utf8');
      await (
        await import('node:fs/promises')
      ).writeFile(file, text.replace('    raise: [service-type]\n', '    raise: [service-type, container-security-context-privileged]\n'));
      const l2 = await Lab.open({ engines, env, engine: 'local', root });
      const r = await auditLesson(l2, 'nodeport-exposure', { tools });
      expect(r.ok).toBe(false);
      const bad = r.verdicts.filter((v) => !v.ok);
      expect(bad).toHaveLength(1);
      expect(`${bad[0].where} ${bad[0].tool} ${bad[0].id}: ${bad[0].detail}`).toMatch(
        /^lessons\/cloud\/02-nodeport-exposure\/lesson.yaml:\d+ audit.kubeScore.raise\[1\] kube-score container-security-context-privileged: the scenario does not raise it: kube-score says OK/,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
      expect(await readdir(root).catch(() => [])).toEqual([]);
    }
  });
});
