import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, cpSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue, formatProblem, ATTACK_CHECK_ID } from '../../src/core/lessons/loader.js';
import { loadAttack } from '../../src/core/attacks/loader.js';
import { redact, showEvidence } from '../../src/core/attacks/redact.js';
import { readOutput } from '../../src/core/attacks/steps/pod.js';
import { packageRoot } from '../../src/core/paths.js';
import { z } from 'zod';
import { runAttack } from '../../src/core/attacks/runner.js';
import type { Attack, AttackStepSpec } from '../../src/core/attacks/loader.js';
import type { AttackStepKind } from '../../src/core/attacks/types.js';
import type { CheckContext } from '../../src/core/checks/types.js';

/** Every folder a test wrote, removed after the file's tests. */
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const attackDir = (yaml: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'attack-'));
  made.push(dir);
  mkdirSync(join(dir, 'attack'));
  writeFileSync(join(dir, 'attack', 'attack.yaml'), yaml);
  return dir;
};

describe('attack files', () => {
  it('loads steps, their needs, the goal and what the goal needs from the engine', async () => {
    const dir = attackDir(
      `title: T\nstory: S\ngoal: [read]\nsteps:\n  - id: tok\n    try: take\n    token: {serviceAccount: shop/api}\n  - id: read\n    try: read\n    needs: [tok]\n    api: {as: tok, path: /api/v1/secrets}\n  - id: shell\n    try: shell\n    exec: {workload: {namespace: shop, name: api}, command: [id]}\n`,
    );
    const { attack, problems } = await loadAttack(dir, dir);
    expect(problems).toEqual([]);
    expect(attack!.goal).toEqual(['read']);
    expect(attack!.requires).toBe('api');
    expect(attack!.steps.map((s) => [s.id, s.type, s.requires])).toEqual([
      ['tok', 'token', 'api'],
      ['read', 'api', 'api'],
      ['shell', 'exec', 'kind'],
    ]);
  });
  it('a goal that only runs on a real node makes the attack need kind', async () => {
    const dir = attackDir(`title: T\nstory: S\nsteps:\n  - id: shell\n    try: shell\n    exec: {workload: {namespace: shop, name: api}, command: [id]}\n`);
    expect((await loadAttack(dir, dir)).attack!.requires).toBe('kind');
  });
  it('a step marked for some engines runs only there: the attack check goes to the engines where a goal step runs', async () => {
    const yaml = (e1: string, e2: string) =>
      `title: T\nstory: S\ngoal: [port, pod]\nsteps:\n  - id: port\n    try: port\n    engines: ${e1}\n    etcdConnect: {}\n  - id: pod\n    try: pod\n    engines: ${e2}\n    pod: {namespace: ns, command: [id]}\n`;
    let a = (await loadAttack(attackDir(yaml('[local]', '[kind]')), '/')).attack!;
    expect([a.engines, a.requires, a.steps.map((s) => s.engines)]).toEqual([['local', 'kind'], 'api', [['local'], ['kind']]]);
    a = (await loadAttack(attackDir(yaml('[kind]', '[kind]')), '/')).attack!;
    expect(a.engines).toEqual(['kind']);
    // A pod step needs kind whatever it says: marked for local only, no goal step runs anywhere.
    const text = (
      await loadAttack(
        attackDir(
          yaml('[local]', '[local]').replace('  - id: port\n    try: port\n    engines: [local]\n    etcdConnect: {}\n', '').replace('[port, pod]', '[pod]'),
        ),
        '/',
      )
    ).problems
      .map(formatProblem)
      .join('\n');
    expect(text).toMatch(/goal: no goal step runs on any engine/);
  });
  it('names file, line and field of a malformed attack: unknown kind, a write that is not a dry run, a missing need', async () => {
    const dir = attackDir(
      `title: T\nstory: S\nsteps:\n  - id: a\n    try: x\n    telepathy: {}\n  - id: b\n    try: y\n    api: {as: anonymous, method: POST, path: /api/v1/namespaces}\n  - id: c\n    try: z\n    needs: [nope]\n    api: {as: anonymous, path: /version}\n`,
    );
    const text = (await loadAttack(dir, '/')).problems.map(formatProblem).join('\n');
    expect(text).toMatch(/attack\/attack.yaml:6: steps\[0\]\.telepathy: unknown attack step kind/);
    expect(text).toMatch(/attack\/attack.yaml:9: steps\[1\]\.api: a write must be a dry run/);
    expect(text).toMatch(/attack\/attack.yaml:\d+: steps\[2\]\.needs: needs nope, which is not an earlier step/);
  });
  it('gives every lesson with an attack its attack-fails check, and refuses one written by hand', async () => {
    const c = await loadCatalogue(packageRoot);
    const l = c.get('rbac-least-privilege')!;
    expect(l.attack).toBeDefined();
    expect(l.checks.find((x) => x.id === ATTACK_CHECK_ID)).toMatchObject({ type: 'attack', requires: 'api', objective: 'no-admin' });
    const root = mkdtempSync(join(tmpdir(), 'lessons-'));
    made.push(root);
    cpSync(join(packageRoot, 'lessons'), join(root, 'lessons'), { recursive: true });
    cpSync(join(packageRoot, 'scenarios'), join(root, 'scenarios'), { recursive: true });
    const f = join(root, 'lessons', 'cluster', '01-rbac-least-privilege', 'lesson.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/^checks:\n/m, 'checks:\n  - id: mine\n    title: mine\n    objective: no-admin\n    attack: {}\n'));
    const text = (await loadCatalogue(root)).problems.map(formatProblem).join('\n');
    expect(text).toMatch(/01-rbac-least-privilege\/lesson.yaml:\d+: checks\[0\]: the attack check is added from attack\/attack.yaml/);
  });
});

describe('what a transcript shows', () => {
  it('redacts secrets to their first characters and length, less for short ones', () => {
    expect(redact('sk_live_do_not_leak_me')).toBe('sk_l… (22 chars)');
    expect(redact('hunter22')).toBe('hu… (8 chars)');
    expect(redact('abc')).toBe('… (3 chars)');
    expect(showEvidence({ label: 'apiKey', value: 'sk_live_do_not_leak_me', secret: true })).toBe('apiKey: sk_l… (22 chars)');
    expect(showEvidence({ label: 'user', value: 'root' })).toBe('user: root');
  });
  it("reads evidence lines out of a command's output and keeps the last plain line as the message", () => {
    const r = readOutput("trying…\nevidence: uid=0\nsecret: token=eyJhbGciOi1234567890\nread the node's /etc/shadow\n");
    expect(r.last).toBe("read the node's /etc/shadow");
    expect(r.evidence).toEqual([
      { label: 'uid', value: '0', secret: false },
      { label: 'token', value: 'eyJhbGciOi1234567890', secret: true },
    ]);
  });
});

describe('the verdict of an attack', () => {
  // Step kinds whose outcome the test decides: the runner's verdict logic alone, no cluster.
  type Plan = 'works' | 'blocked' | 'throws' | 'unreachable' | 'hangs';
  const kind = (plan: Plan): AttackStepKind => ({
    type: 'fake',
    schema: z.any(),
    timeoutMs: () => 50,
    async run() {
      if (plan === 'throws') throw new Error('Internal error occurred: failed calling webhook "policy.example.com"');
      if (plan === 'unreachable') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
      if (plan === 'hangs') return new Promise<never>(() => {});
      return plan === 'works'
        ? { succeeded: true, message: 'GET → 200 OK', evidence: [{ label: 'apiKey', value: 'sk_live_do_not_leak_me', secret: true }] }
        : { succeeded: false, message: 'GET → 403 Forbidden' };
    },
  });
  const step = (id: string, plan: Plan, o: { needs?: string[]; requires?: 'api' | 'kind' } = {}): AttackStepSpec => ({
    id,
    try: `try ${id}`,
    needs: o.needs ?? [],
    type: 'fake',
    params: {},
    kind: kind(plan),
    requires: o.requires ?? 'api',
  });
  // The runner probes the API server after an unreachable step: here it never answers.
  const ctx = {
    cluster: {
      rename: { value: (v: unknown) => v },
      guard: {
        ensure: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
        },
      },
    },
    engine: { name: 'local', supports: (r: string) => r === 'api' },
    lessonId: 'l',
    lessonDir: '/x',
    workspace: '/w',
  } as unknown as CheckContext;
  const run = (steps: AttackStepSpec[], goal: string[]) => runAttack(ctx, { dir: '/x', title: 'T', story: 'S', goal, steps, requires: 'api' } as Attack);

  it('works when a goal step works, and shows only the redacted value', async () => {
    const r = await run([step('tok', 'works'), step('read', 'works', { needs: ['tok'] }), step('bind', 'blocked', { needs: ['tok'] })], ['read', 'bind']);
    expect(r.succeeded).toBe(true);
    expect(r.summary).toBe('try read: apiKey: sk_l… (22 chars)');
    expect(JSON.stringify(r)).not.toContain('sk_live_do_not_leak_me');
  });

  it('fails when a defence stopped every goal step — also when it stopped a step they build on', async () => {
    let r = await run([step('tok', 'works'), step('read', 'blocked', { needs: ['tok'] }), step('bind', 'blocked', { needs: ['tok'] })], ['read', 'bind']);
    expect([r.succeeded, r.skipped]).toEqual([false, undefined]);
    expect(r.summary).toBe('stopped: try read — GET → 403 Forbidden');
    // No token mounted any more: the first step is stopped, and so is everything built on it.
    r = await run([step('tok', 'blocked'), step('read', 'works', { needs: ['tok'] })], ['read']);
    expect([r.succeeded, r.skipped]).toEqual([false, undefined]);
    expect(r.summary).toBe('stopped: try tok — GET → 403 Forbidden');
    expect(r.steps[1]).toMatchObject({ status: 'skipped', message: 'needs step tok, which was stopped' });
  });

  it('never says "fails" when a goal step could not run: an error, the API server failing, the cluster gone', async () => {
    for (const plan of ['throws', 'unreachable'] as const) {
      const r = await run([step('tok', 'works'), step('read', 'blocked', { needs: ['tok'] }), step('bind', plan, { needs: ['tok'] })], ['read', 'bind']);
      expect(r.succeeded).toBe(false);
      expect(r.skipped).toMatch(plan === 'throws' ? /^Internal error occurred: failed calling webhook/ : /^cluster unreachable: connect ECONNREFUSED/);
      expect(r.summary).toMatch(/^could not run: /);
    }
    // The step every goal builds on errored: nothing is known about them.
    let r = await run([step('tok', 'throws'), step('read', 'works', { needs: ['tok'] })], ['read']);
    expect(r.skipped).toMatch(/failed calling webhook/);
    expect(r.steps[1]).toMatchObject({ status: 'skipped', message: 'needs step tok, which could not run' });
    // The cluster is gone (here: it does not answer the runner's probe either): the rest is not tried.
    r = await run([step('tok', 'unreachable'), step('other', 'works'), step('read', 'works', { needs: ['tok'] })], ['other', 'read']);
    expect(r.skipped).toMatch(/^cluster unreachable/);
    expect(r.steps.slice(1).map((s) => s.message)).toEqual([
      expect.stringMatching(/^not tried: the cluster stopped answering/),
      expect.stringMatching(/^not tried/),
    ]);
  });

  it('stops trying once a step gets no answer in its time (each would wait as long)', async () => {
    const r = await run([step('a', 'hangs'), step('b', 'works'), step('c', 'works')], ['b', 'c']);
    expect(r.steps.map((s) => s.status)).toEqual(['error', 'skipped', 'skipped']);
    expect(r.steps[1].message).toMatch(/^not tried: the cluster stopped answering/);
    expect(r.skipped).toMatch(/no answer within/);
  });

  it('skips a step marked for another engine, and judges the goal by the steps that run here', async () => {
    const marked = (id: string, plan: Plan, engines: ('local' | 'kind')[]) => ({ ...step(id, plan), engines });
    let r = await run([marked('port', 'blocked', ['local']), marked('pod', 'works', ['kind'])], ['port', 'pod']);
    expect([r.succeeded, r.skipped]).toEqual([false, undefined]);
    expect(r.steps[1]).toMatchObject({ status: 'skipped', message: 'runs on the kind engine; this lab runs on local' });
    r = await run([marked('pod', 'works', ['kind'])], ['pod']);
    expect(r.skipped).toBe('runs on the kind engine; this lab runs on local');
    r = await run([marked('port', 'works', ['local', 'kind'])], ['port']);
    expect(r.succeeded).toBe(true);
  });

  it('says nothing on an engine that cannot run the goal; judges the goal steps it can run', async () => {
    let r = await run([step('shell', 'works', { requires: 'kind' })], ['shell']);
    expect(r.skipped).toMatch(/needs a real node and network \(the kind engine\)/);
    r = await run([step('shell', 'works', { requires: 'kind' }), step('read', 'blocked')], ['shell', 'read']);
    expect([r.succeeded, r.skipped]).toEqual([false, undefined]);
  });
});
