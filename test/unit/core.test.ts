import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { select, evaluate } from '../../src/core/checks/path.js';
import { manifestToProcess, defaultManifests } from '../../src/engines/local/manifests.js';
import { manifestFlags } from '../../src/core/engine/index.js';
import { editManifest } from '../../src/core/scenarios/manifest-edit.js';
import { ProgressStore } from '../../src/core/progress/store.js';
import { loadCatalogue, formatProblem } from '../../src/core/lessons/loader.js';
import { matches } from '../../src/core/checks/networkPolicy.js';
import { packageRoot } from '../../src/core/paths.js';

const ports = { etcdClient: 2379, etcdPeer: 2380, apiserver: 6443, controllerManager: 10257, scheduler: 10259 };

describe('path selection and conditions', () => {
  const dep = {
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'app', image: 'a:1', securityContext: { privileged: true } },
            { name: 'side', image: 'b:2' },
          ],
        },
      },
    },
    metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
  };
  it('selects through lists, indexes, filters and quoted keys', () => {
    expect(select(dep, 'spec.template.spec.containers[*].image')).toEqual(['a:1', 'b:2']);
    expect(select(dep, 'spec.template.spec.containers[1].name')).toEqual(['side']);
    expect(select(dep, 'spec.template.spec.containers[name=app].securityContext.privileged')).toEqual([true]);
    expect(select(dep, 'metadata.labels["pod-security.kubernetes.io/enforce"]')).toEqual(['baseline']);
    expect(select(dep, 'spec.nothing.here')).toEqual([]);
  });
  it('explains a failing condition in one line', () => {
    expect(evaluate(dep, { path: 'spec.template.spec.containers[*].securityContext.privileged', notEquals: true })).toBe(
      'spec.template.spec.containers[*].securityContext.privileged is true, should not be true',
    );
    expect(evaluate(dep, { path: 'spec.template.spec.containers[*].image', matches: '^a:' })).toMatch(/is "b:2", should match/);
    expect(evaluate(dep, { path: 'spec.template.spec.containers[*].image', matches: '^a:', quantifier: 'any' })).toBeUndefined();
    expect(evaluate(dep, { path: 'spec.hostPID', exists: false })).toBeUndefined();
    expect(evaluate(dep, { path: 'spec.hostPID', equals: true })).toBe('spec.hostPID is not set');
  });
});

describe('static-pod manifests → processes', () => {
  const m = defaultManifests(ports);
  it("maps every absolute path through the pod's hostPath volumes into the node root", () => {
    const p = manifestToProcess(m['kube-apiserver'], 'kube-apiserver', '/lab/node');
    expect(p.argv[0]).toBe('kube-apiserver');
    expect(p.argv).toContain('--tls-cert-file=/lab/node/etc/kubernetes/pki/apiserver.crt');
    expect(p.argv).toContain('--service-cluster-ip-range=10.96.0.0/16');
    expect(p.warnings).toEqual([]);
  });
  it('a flag naming a file outside every mounted volume does not resolve, with a warning, as on a kubelet', () => {
    const edited = editManifest(m['kube-apiserver'], { setFlags: { '--encryption-provider-config': '/etc/kubernetes/enc/enc.yaml' } });
    const p = manifestToProcess(edited, 'kube-apiserver', '/lab/node');
    expect(p.warnings[0]).toMatch(
      /--encryption-provider-config points to \/etc\/kubernetes\/enc\/enc.yaml, which is not inside any volume mounted into the kube-apiserver static pod/,
    );
    const mounted = editManifest(edited, { volumes: [{ name: 'enc', hostPath: '/etc/kubernetes/enc', mountPath: '/etc/kubernetes/enc' }] });
    expect(manifestToProcess(mounted, 'kube-apiserver', '/lab/node').argv).toContain('--encryption-provider-config=/lab/node/etc/kubernetes/enc/enc.yaml');
  });
  it('never binds beyond loopback, and says so', () => {
    const open = editManifest(m['kube-apiserver'], { setFlags: { '--bind-address': '0.0.0.0' } });
    const p = manifestToProcess(open, 'kube-apiserver', '/n');
    expect(p.argv).toContain('--bind-address=127.0.0.1');
    expect(p.overrides[0]).toMatch(/--bind-address=0.0.0.0 was run as --bind-address=127.0.0.1/);
    const etcd = editManifest(m.etcd, { setFlags: { '--listen-client-urls': 'https://0.0.0.0:2379' } });
    expect(manifestToProcess(etcd, 'etcd', '/n').argv).toContain('--listen-client-urls=https://127.0.0.1:2379');
  });
  it('a bind flag deleted from the manifest, or written as two list items, still runs on loopback', () => {
    const removed = editManifest(m['kube-apiserver'], { removeFlags: ['--bind-address'] });
    const p = manifestToProcess(removed, 'kube-apiserver', '/n');
    expect(p.argv).toContain('--bind-address=127.0.0.1');
    expect(p.overrides.join()).toMatch(/--bind-address is not set .*every interface/);
    for (const c of ['kube-controller-manager', 'kube-scheduler'] as const) {
      expect(manifestToProcess(editManifest(m[c], { removeFlags: ['--bind-address'] }), c, '/n').argv).toContain('--bind-address=127.0.0.1');
    }
    const split = m['kube-apiserver'].replace('- --bind-address=127.0.0.1', '- --bind-address\n        - 0.0.0.0');
    expect(split).toContain('- 0.0.0.0');
    const q = manifestToProcess(split, 'kube-apiserver', '/n');
    expect(q.argv).toContain('--bind-address=127.0.0.1');
    expect(q.argv).not.toContain('0.0.0.0');
  });
  it('edits keep comments and are idempotent', () => {
    const once = editManifest(m['kube-apiserver'], { setFlags: { '--audit-log-path': '/var/log/a.log' }, removeFlags: ['--enable-bootstrap-token-auth'] });
    const twice = editManifest(once, { setFlags: { '--audit-log-path': '/var/log/a.log' } });
    expect(twice).toBe(once);
    expect(once).toContain('# Static pod manifest for kube-apiserver');
    const flags = manifestFlags(once);
    expect(flags.get('--audit-log-path')).toBe('/var/log/a.log');
    expect(flags.has('--enable-bootstrap-token-auth')).toBe(false);
  });
  it('reports a broken manifest clearly', () => {
    expect(() => manifestToProcess('kind: Pod\nspec: [', 'kube-apiserver', '/n')).toThrow(/kube-apiserver.yaml is not valid YAML/);
    expect(() => manifestToProcess('kind: ConfigMap', 'kube-apiserver', '/n')).toThrow(/not a Pod with a container/);
  });
});

describe('progress store', () => {
  it('writes atomically, and sets a corrupt file aside with a warning instead of losing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'progress-'));
    const store = new ProgressStore(join(dir, 'progress.json'));
    await store.update((d) => {
      ProgressStore.touch(d, 'a').hintsUsed = 2;
      d.current = 'a';
    });
    expect(JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8'))).toMatchObject({
      version: 1,
      current: 'a',
      lessons: { a: { hintsUsed: 2, status: 'started' } },
    });
    writeFileSync(join(dir, 'progress.json'), '{"version": 1, "lessons": tru');
    const fresh = await store.load();
    expect(fresh.lessons).toEqual({});
    expect(store.warnings[0]).toMatch(/progress file was unreadable .* kept it as .*corrupt-/);
    const aside = readdirSync(dir).find((f) => f.startsWith('progress.json.corrupt-'))!;
    expect(readFileSync(join(dir, aside), 'utf8')).toBe('{"version": 1, "lessons": tru');
  });
  it('counts active time in gaps of at most five minutes', () => {
    const d: import('../../src/core/progress/store.js').ProgressData = { version: 1, lessons: {} };
    const t0 = new Date('2026-01-01T10:00:00Z');
    ProgressStore.touch(d, 'x', t0);
    ProgressStore.touch(d, 'x', new Date(t0.getTime() + 60_000));
    ProgressStore.touch(d, 'x', new Date(t0.getTime() + 60_000 + 3600_000));
    expect(d.lessons.x.timeSpentMs).toBe(60_000 + 5 * 60_000);
  });
});

describe('lesson loading', () => {
  it('loads every shipped lesson without a problem', async () => {
    const c = await loadCatalogue(packageRoot);
    expect(c.problems.map(formatProblem)).toEqual([]);
    expect(c.lessons.length).toBeGreaterThanOrEqual(3);
  });
  it('names the file, line and field of a malformed lesson, and still loads the others', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lessons-'));
    cpSync(join(packageRoot, 'lessons'), join(root, 'lessons'), { recursive: true });
    cpSync(join(packageRoot, 'scenarios'), join(root, 'scenarios'), { recursive: true });
    const bad = join(root, 'lessons', 'cluster', '01-rbac-least-privilege', 'lesson.yaml');
    writeFileSync(bad, readFileSync(bad, 'utf8').replace('subject: "system:serviceaccount:shop:api"', 'subject: 42'));
    const c = await loadCatalogue(root);
    expect(c.problems).toHaveLength(1);
    expect(formatProblem(c.problems[0])).toMatch(/^lessons\/cluster\/01-rbac-least-privilege\/lesson.yaml:\d+: checks\[0\]\.permissions\.subject: /);
    expect(c.lessons.map((l) => l.id)).not.toContain('rbac-least-privilege');
    expect(c.lessons.length).toBeGreaterThanOrEqual(2);
  });
  it('rejects an unknown check type and a missing shortcut folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lessons-'));
    const dir = join(root, 'lessons', 'app', '01-x');
    mkdirSync(join(dir, 'solution'), { recursive: true });
    mkdirSync(join(root, 'scenarios', 'x'), { recursive: true });
    writeFileSync(join(dir, 'lesson.md'), '# x');
    writeFileSync(join(dir, 'debrief.md'), 'x');
    writeFileSync(
      join(dir, 'lesson.yaml'),
      'id: x\ntitle: X\nlayer: app\ndifficulty: beginner\nguide: SAST and DAST\nobjectives: [{id: o, text: t}]\nhints: [a, b]\nchecks:\n  - id: c\n    title: c\n    objective: o\n    telepathy: {}\naudit: {kubeScore: {}, kubeBench: {}}\n',
    );
    const c = await loadCatalogue(root);
    const text = c.problems.map(formatProblem).join('\n');
    expect(text).toMatch(/lessons\/app\/01-x\/lesson.yaml:1\d: checks\[0\]\.telepathy: unknown check type \(known: rbac, admission/);
    expect(text).toMatch(/lessons\/app\/01-x\/shortcuts: needs at least one shortcut/);
    expect(c.lessons).toEqual([]);
  });
});

describe('label selectors (NetworkPolicy analysis)', () => {
  it('matches matchLabels and matchExpressions like the API does', () => {
    expect(matches({ matchLabels: { app: 'api' } }, { app: 'api', tier: 'b' })).toBe(true);
    expect(matches({ matchLabels: { app: 'api' } }, { app: 'db' })).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, { tier: 'b' })).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['b'] }] }, { tier: 'b' })).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, {})).toBe(true);
    expect(matches({}, { any: 'thing' })).toBe(true);
  });
});
