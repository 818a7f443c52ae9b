import { describe, it, expect, vi, afterEach, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, cpSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { packageRoot } from '../../src/core/paths.js';
import { loadCatalogue, loadLesson, formatProblem } from '../../src/core/lessons/loader.js';
import { STEP_KINDS } from '../../src/core/steps/registry.js';
import { loadStepsFile } from '../../src/core/steps/load.js';
import { resolveStepsFile, stepsFiles } from '../../src/core/steps/files.js';
import { stepsFor, fixFiles, runStepsOf } from '../../src/core/steps/run.js';
import { Lab } from '../../src/core/lab.js';
import { runCommand } from '../../src/cli/commands.js';
import { UserError } from '../../src/core/errors.js';
import { engines } from '../../src/engines/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every folder a test wrote, removed after the file's tests. */
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'steps-'));
  made.push(d);
  return d;
};

/** Every steps file shipped: scenarios and every fix folder of every lesson. */
function shippedStepsFiles(): string[] {
  const out: string[] = [];
  for (const top of ['lessons', 'scenarios']) {
    for (const e of readdirSync(join(packageRoot, top), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && /^steps(\.[a-z]+)?\.ya?ml$/.test(e.name)) out.push(join(e.parentPath, e.name));
    }
  }
  return out.sort();
}

describe('the step registry', () => {
  it('every kind is one object with its schema and behaviour, keyed by its type', () => {
    expect(Object.keys(STEP_KINDS).length).toBeGreaterThanOrEqual(19);
    for (const [key, k] of Object.entries(STEP_KINDS)) {
      expect(k.type).toBe(key);
      expect(typeof k.run).toBe('function');
      expect(typeof k.schema.safeParse).toBe('function');
    }
  });

  it('every shipped steps file loads: known kinds, valid parameters, the files it reads present', async () => {
    const files = shippedStepsFiles();
    expect(files.length).toBeGreaterThan(150);
    const problems: string[] = [];
    const kinds = new Set<string>();
    for (const f of files) {
      const r = await loadStepsFile(f, relative(packageRoot, f));
      problems.push(...r.problems.map(formatProblem));
      for (const s of r.steps?.steps ?? []) kinds.add(s.type);
    }
    expect(problems).toEqual([]);
    // the lessons use (nearly) every kind: a kind no lesson uses is dead code
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining(['apply', 'build', 'manifest', 'nodeFile', 'workspaceFile', 'kubeletConfig', 'patch', 'sbom', 'sign']),
    );
  });

  it('the shipped catalogue loads with no problem', async () => {
    const c = await loadCatalogue(packageRoot);
    expect(c.problems.map(formatProblem)).toEqual([]);
  });

  it('an unknown step kind is a load error naming the file and line', async () => {
    const dir = tmp();
    const f = join(dir, 'steps.yaml');
    writeFileSync(f, 'description: x\nsteps:\n  - apply: a.yaml\n  - deleteAll: {namespace: shop}\n');
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
    const r = await loadStepsFile(f, 'fix/steps.yaml');
    expect(r.steps).toBeUndefined();
    expect(r.problems).toHaveLength(1);
    expect(formatProblem(r.problems[0])).toMatch(/^fix\/steps\.yaml:4: steps\[1\]\.deleteAll: unknown step kind "deleteAll" \(known: apply, /);
    // and where it would run, the same line, as a one-line error — never silently nothing
    await expect(stepsFor(dir, 'local')).rejects.toThrow(
      new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: steps\\[1\\]\\.deleteAll: unknown step kind`),
    );
    await expect(runStepsOf({ engine: { name: 'local' } } as never, dir, 'x')).rejects.toBeInstanceOf(UserError);
  });

  it('invalid parameters, two kinds in one step, a missing file: each at its line', async () => {
    const dir = tmp();
    const f = join(dir, 'steps.kind.yaml');
    writeFileSync(
      f,
      [
        'steps:',
        '  - wait: {namespace: shop, name: web}',
        '  - manifest:',
        '      component: kube-proxy',
        '  - {apply: a.yaml, patch: {apiVersion: v1, kind: Secret, name: s, merge: {}}}',
        '  - workspaceFile: {path: app/server.js, file: workspace/server.js}',
        '  - nodeFile: {path: etc/relative, content: x}',
        '',
      ].join('\n'),
    );
    const r = await loadStepsFile(f, 'steps.kind.yaml');
    const lines = r.problems.map(formatProblem);
    expect(lines).toEqual([
      expect.stringMatching(/^steps\.kind\.yaml:4: steps\[1\]\.manifest\.component: /),
      expect.stringMatching(/^steps\.kind\.yaml:5: steps\[2\]: has several step kinds \(apply, patch\)/),
      expect.stringMatching(/^steps\.kind\.yaml:6: steps\[3\]\.workspaceFile: reads workspace\/server\.js, which is not in /),
      expect.stringMatching(/^steps\.kind\.yaml:7: steps\[4\]\.nodeFile\.path: /),
    ]);
  });

  it('a steps file for an engine that does not exist is an error', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'steps.kinds.yaml'), 'steps: []\n');
    expect((await loadStepsFile(join(dir, 'steps.kinds.yaml'), 'steps.kinds.yaml')).problems.map(formatProblem)).toEqual([
      expect.stringMatching(/engine "kinds", which does not exist/),
    ]);
  });

  it('a lesson with an unknown step kind in a shortcut does not load, and says where', async () => {
    const root = tmp();
    const dir = join(root, 'lessons', 'cluster', '07-secrets-hygiene');
    cpSync(join(packageRoot, 'lessons', 'cluster', '07-secrets-hygiene'), dir, { recursive: true });
    cpSync(join(packageRoot, 'scenarios', 'secrets-hygiene'), join(root, 'scenarios', 'secrets-hygiene'), { recursive: true });
    expect((await loadLesson(dir, root, 'cluster')).problems).toEqual([]);
    const sc = join(dir, 'shortcuts', 'copy-not-move', 'steps.yaml');
    const lines = readFileSync(sc, 'utf8').split('\n');
    const at = lines.findIndex((l) => /^steps:/.test(l));
    lines.splice(at + 1, 0, '  - rotate: {namespace: payroll}');
    writeFileSync(sc, lines.join('\n'));
    const r = await loadLesson(dir, root, 'cluster');
    expect(r.lesson).toBeUndefined();
    expect(r.problems.map(formatProblem)).toEqual([
      `lessons/cluster/07-secrets-hygiene/shortcuts/copy-not-move/steps.yaml:${at + 2}: steps[0].rotate: unknown step kind "rotate" (known: ${Object.keys(STEP_KINDS).join(', ')})`,
    ]);
  });

  it("a step whose effect the lesson's reset would not undo is a load error", async () => {
    const root = tmp();
    const dir = join(root, 'lessons', 'cluster', '07-secrets-hygiene');
    cpSync(join(packageRoot, 'lessons', 'cluster', '07-secrets-hygiene'), dir, { recursive: true });
    cpSync(join(packageRoot, 'scenarios', 'secrets-hygiene'), join(root, 'scenarios', 'secrets-hygiene'), { recursive: true });
    writeFileSync(
      join(dir, 'solution', 'steps.kind.yaml'),
      'steps:\n  - workspaceFile: {path: notes/todo.txt, content: x}\n  - manifest: {component: kube-apiserver, setFlags: {--v: "2"}}\n',
    );
    expect((await loadLesson(dir, root, 'cluster')).problems.map(formatProblem)).toEqual([
      'lessons/cluster/07-secrets-hygiene/solution/steps.kind.yaml:2: workspaceFile: a reset would not undo this step: reset.workspaceFiles must cover notes/todo.txt (lesson.yaml)',
      'lessons/cluster/07-secrets-hygiene/solution/steps.kind.yaml:3: manifest: a reset would not undo this step: reset.controlPlane must list kube-apiserver (lesson.yaml)',
    ]);
  });
});

describe("a shortcut's caughtBy (what lets the kind suite leave it to the local run)", () => {
  const copy = () => {
    const root = tmp();
    const dir = join(root, 'lessons', 'cloud', '02-nodeport-exposure');
    cpSync(join(packageRoot, 'lessons', 'cloud', '02-nodeport-exposure'), dir, { recursive: true });
    cpSync(join(packageRoot, 'scenarios', 'nodeport-exposure'), join(root, 'scenarios', 'nodeport-exposure'), { recursive: true });
    return { root, dir };
  };
  const declare = (dir: string, fix: string, ids: string[]) => {
    const f = join(dir, fix, 'steps.yaml');
    writeFileSync(
      f,
      readFileSync(f, 'utf8')
        .replace(/^caughtBy:.*\n/m, '')
        .replace(/^steps:/m, `caughtBy: [${ids.join(', ')}]\nsteps:`),
    );
  };

  it('loads onto the shortcut; names a check of the lesson whose verdict is the same on every engine', async () => {
    const { root, dir } = copy();
    declare(dir, 'shortcuts/warn-only', ['exposure-denied']);
    const r = await loadLesson(dir, root, 'cloud');
    expect(r.problems).toEqual([]);
    expect(r.lesson!.shortcuts.find((s) => s.name === 'warn-only')!.caughtBy).toEqual(['exposure-denied']);
  });

  it('an unknown check, a check whose verdict can differ between engines, a check on status, the solution: load errors', async () => {
    const { root, dir } = copy();
    declare(dir, 'shortcuts/warn-only', ['exposure-denid']);
    declare(dir, 'shortcuts/services-only', ['dashboard-running', 'dashboard-reachable']);
    declare(dir, 'shortcuts/unbound-policy', ['dashboard-endpoints']);
    declare(dir, 'solution', ['exposure-denied']);
    const r = await loadLesson(dir, root, 'cloud');
    expect(r.lesson).toBeUndefined();
    const msgs = r.problems.map(formatProblem);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/solution\/steps\.yaml: caughtBy: only a shortcut is caught/),
        expect.stringMatching(/warn-only\/steps\.yaml: caughtBy: exposure-denid is not a check of this lesson/),
        expect.stringMatching(/services-only\/steps\.yaml: caughtBy: dashboard-running is a workload check, whose verdict can differ between engines/),
        expect.stringMatching(/services-only\/steps\.yaml: caughtBy: dashboard-reachable is a probe check/),
        expect.stringMatching(/unbound-policy\/steps\.yaml: caughtBy: dashboard-endpoints reads status the runtime writes/),
      ]),
    );
    expect(msgs).toHaveLength(5);
  });

  it("a control-plane flag check only for a flag the shortcut's own manifest steps write", async () => {
    const root = tmp();
    const dir = join(root, 'lessons', 'cluster', '06-audit-logging');
    cpSync(join(packageRoot, 'lessons', 'cluster', '06-audit-logging'), dir, { recursive: true });
    cpSync(join(packageRoot, 'scenarios', 'audit-logging'), join(root, 'scenarios', 'audit-logging'), { recursive: true });
    const ok = await loadLesson(dir, root, 'cluster');
    expect(ok.problems).toEqual([]);
    expect(ok.lesson!.shortcuts.find((s) => s.name === 'keep-forever')).toMatchObject({
      caughtBy: ['audit-log-maxage', 'audit-log-maxbackup'],
      writesFlags: expect.arrayContaining(['kube-apiserver --audit-log-maxage', 'kube-apiserver --audit-log-maxbackup']),
    });
    declare(dir, 'shortcuts/policy-without-flags', ['audit-policy-flag']);
    declare(dir, 'shortcuts/keep-forever', ['audit-log-maxage', 'secret-read-audited']);
    const msgs = (await loadLesson(dir, root, 'cluster')).problems.map(formatProblem);
    expect(msgs).toEqual([
      expect.stringMatching(/keep-forever\/steps\.yaml: caughtBy: secret-read-audited is a auditEvent check/),
      expect.stringMatching(
        /policy-without-flags\/steps\.yaml: caughtBy: audit-policy-flag reads kube-apiserver --audit-policy-file, which this shortcut's manifest steps do not set/,
      ),
    ]);
  });
});

describe('one resolver of steps files', () => {
  it('picks steps.<engine>.yaml where the folder has it, else steps.yaml', async () => {
    const dir = join(packageRoot, 'lessons', 'cloud', '01-api-server-exposure', 'solution');
    expect(await stepsFiles(dir)).toEqual(['steps.yaml', 'steps.kind.yaml']);
    expect(await resolveStepsFile(dir, 'kind')).toBe('steps.kind.yaml');
    expect(await resolveStepsFile(dir, 'local')).toBe('steps.yaml');
    expect(await resolveStepsFile(dir, 'existing')).toBe('steps.yaml');
    // steps.yaml there is for local only: on existing it does not apply
    expect((await stepsFor(dir, 'existing')).applies).toBe(false);
    expect((await stepsFor(dir, 'kind')).steps.steps.map((s) => s.type)).toEqual(['workspaceFile']);
    expect((await stepsFor(dir, 'local')).steps.steps.map((s) => s.type)).toEqual(['manifest']);
  });

  it('a folder with only an engine variant has no steps elsewhere; a folder with none has none', async () => {
    const dir = tmp();
    expect(await resolveStepsFile(dir, 'local')).toBeUndefined();
    expect(await stepsFor(dir, 'local')).toMatchObject({ applies: true, steps: { steps: [] } });
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'steps.kind.yaml'), 'steps:\n  - wait: {namespace: a, name: b}\n');
    expect(await resolveStepsFile(join(dir, 'x'), 'kind')).toBe('steps.kind.yaml');
    expect(await resolveStepsFile(join(dir, 'x'), 'local')).toBeUndefined();
  });

  it('what a solution shows is what takes effect on the engine, the files its steps read included', async () => {
    const api = join(packageRoot, 'lessons', 'cloud', '01-api-server-exposure', 'solution');
    expect(await fixFiles(api, 'kind')).toEqual(['steps.kind.yaml', 'workspace/kind-config.yaml']);
    expect(await fixFiles(api, 'local')).toEqual(['steps.yaml']);
    const sast = join(packageRoot, 'lessons', 'app', '02-sast', 'solution');
    expect(await fixFiles(sast, 'local')).toEqual(['limits.yaml', 'steps.yaml', 'workspace/server.js']);
  });
});

describe('solution of an app lesson', () => {
  it('shows the workspace files it writes (sast: the fixed server.js), through the Lab and the CLI', async () => {
    const env = { ...process.env, KUBE_SECLAB_DATA: tmp() };
    const lab = await Lab.open({ engines, env, engine: 'local', workshop: null });
    const s = await lab.solution('sast');
    const server = readFileSync(join(packageRoot, 'lessons', 'app', '02-sast', 'solution', 'workspace', 'server.js'), 'utf8');
    expect(s.files.map((f) => f.path)).toEqual([
      'lessons/app/02-sast/solution/limits.yaml',
      'lessons/app/02-sast/solution/steps.yaml',
      'lessons/app/02-sast/solution/workspace/server.js',
    ]);
    expect(s.files.find((f) => f.path.endsWith('server.js'))!.text).toBe(server);
    expect(server).toMatch(/execFile/); // the fix itself, not the vulnerable original

    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
      printed.push(String(c));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runCommand('solution', ['sast'], {}, env, 'local')).toBe(0);
    const text = printed.join('');
    expect(text).toContain('lessons/app/02-sast/solution/workspace/server.js');
    expect(text).toContain(server.trimEnd());
  });
});
