import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/paths.js';
import { parseKubeScore, stripServerFields, KUBE_SCORE_ARGS } from '../../src/core/audit/kubeScore.js';
import { parseKubeBench, rewriteBenchmark, rewriteConfig, offendingObject, assertPinned } from '../../src/core/audit/kubeBench.js';
import { judge, benchChecksFor, findingNamespace } from '../../src/core/audit/audit.js';
import { belongsTo } from '../../src/core/audit/collect.js';
import { KUBE_SCORE_CHECKS, CIS_CHECKS, KUBE_SCORE_OPTIONAL_ENABLED } from '../../src/core/audit/catalogue.js';
import { auditSchema, type AuditDeclaration } from '../../src/core/lessons/schema.js';
import { loadCatalogue, formatProblem } from '../../src/core/lessons/loader.js';
import { findAuditors, AuditorMissingError } from '../../src/core/audit/tools.js';
import type { AuditFinding } from '../../src/core/audit/types.js';

const fixture = (name: string) => readFileSync(join(packageRoot, 'test', 'fixtures', 'audit', name), 'utf8');

// Real outputs, captured from kube-score v1.20.0 and kube-bench v0.16.0 (CIS 1.12) on a local lab with
// the pod-security-standards scenario in place (see test/fixtures/audit/README.md).
const score = parseKubeScore(fixture('pod-security-standards.kube-score.json'));
const node = parseKubeBench(fixture('local-node.kube-bench.json'));
const policies = parseKubeBench(fixture('pod-security-standards.policies.kube-bench.json'));

describe('kube-score output', () => {
  it('becomes one finding per check and object, raised below OK, skipped checks left out', () => {
    const priv = score.find((f) => f.id === 'container-security-context-privileged');
    expect(priv).toMatchObject({ tool: 'kube-score', object: 'Deployment payments/ledger', status: 'CRITICAL', raised: true });
    expect(priv!.detail).toMatch(/\(ledger\) .*privileged/i);
    const ok = score.filter((f) => !f.raised);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.every((f) => f.status === 'OK')).toBe(true);
    // skipped in this output (no Service targets the Deployment): not judged, so not there at all
    expect(score.some((f) => f.id === 'deployment-strategy')).toBe(false);
    for (const f of score) expect(KUBE_SCORE_CHECKS.map(([id]) => id)).toContain(f.id);
  });
  it('says what went wrong when it is not kube-score JSON', () => {
    expect(() => parseKubeScore('oops')).toThrow(/kube-score printed no JSON/);
  });
  it('is fed what the API server holds, minus its bookkeeping', () => {
    const o = stripServerFields({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'a',
        namespace: 'n',
        uid: 'u',
        resourceVersion: '1',
        generation: 2,
        managedFields: [],
        ownerReferences: [],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' },
      },
      status: { replicas: 1 },
    } as never);
    expect(o).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: 'n', annotations: { keep: 'me' } } });
  });
  it("runs with annotations unable to silence it, seccomp switched on, the lab's Kubernetes minor", () => {
    expect(KUBE_SCORE_ARGS).toEqual(
      expect.arrayContaining(['--disable-ignore-checks-annotations', '--disable-optional-checks-annotations', '--kubernetes-version', 'v1.36']),
    );
    for (const t of KUBE_SCORE_OPTIONAL_ENABLED) expect(KUBE_SCORE_ARGS.join(' ')).toContain(`--enable-optional-test ${t}`);
  });
});

describe('kube-bench output', () => {
  it("keeps every node check with its CIS id and status; raised = FAIL or an automated check's WARN", () => {
    const get = (id: string) => node.filter((f) => f.id === id);
    expect(get('1.2.17')).toEqual([expect.objectContaining({ status: 'FAIL', raised: true })]);
    expect(get('1.2.25')).toEqual([expect.objectContaining({ status: 'PASS', raised: false })]);
    expect(get('1.2.20')).toEqual([expect.objectContaining({ status: 'WARN', manual: true, raised: false })]);
    expect(get('1.2.1')).toEqual([expect.objectContaining({ status: 'WARN', raised: true })]); // unscored --anonymous-auth: its test failed
    const ids = new Set(node.map((f) => f.id));
    for (const [id, target] of CIS_CHECKS) if (['master', 'etcd', 'controlplane'].includes(target)) expect(ids.has(id), id).toBe(true);
  });
  it("read THIS lab's processes: the flags in the audit output are the lab's own (mapped node paths)", () => {
    const f = node.find((x) => x.id === '1.2.17')!;
    expect(f.detail).toMatch(/kube-apiserver --advertise-address=127\.0\.0\.1 /);
    expect(f.detail).toMatch(/engines\/local\/node\/etc\/kubernetes\/pki|--secure-port=\d+/);
  });
  it('splits a multi-object policies check into one finding per object it names (compliant ones not raised)', () => {
    const priv = policies.filter((f) => f.id === '5.2.2' && f.raised);
    expect(priv.length).toBeGreaterThanOrEqual(1);
    for (const f of priv) {
      expect(f.object).toMatch(/^payments\/ledger-/);
      expect(findingNamespace(f)).toBe('payments');
    }
    const roles = policies.filter((f) => f.id === '5.1.3' && f.raised);
    expect(roles.map((f) => f.object)).toContain('ClusterRole cluster-admin');
    expect(findingNamespace(roles[0])).toBeUndefined();
  });
  it('does not count a multi-object check that printed nothing as raised', () => {
    const doc = {
      Controls: [
        {
          id: '5',
          node_type: 'policies',
          tests: [
            {
              section: '5.1',
              results: [{ test_number: '5.1.6', test_desc: 'x (Manual)', type: '', status: 'WARN', actual_value: '', scored: false, IsMultiple: true }],
            },
          ],
        },
      ],
    };
    expect(parseKubeBench(JSON.stringify(doc))).toEqual([expect.objectContaining({ id: '5.1.6', raised: false })]);
  });
  it('names the object of an offending line', () => {
    expect(offendingObject('**pod_name: ledger-1 container_name: ledger pod_namespace: payments is_pod_privileged: true is_compliant: false')).toBe(
      'payments/ledger-1',
    );
    expect(offendingObject('namespace: gallery, kind: ServiceAccount, name: default, automountServiceAccountToken: notset')).toBe('gallery/default');
    expect(offendingObject('**role_name: api-everything role_namespace: shop role_rules: [] role_is_compliant: false')).toBe('shop/api-everything');
    expect(offendingObject('**clusterrole_name: cluster-admin clusterrole_rules: [] clusterrole_is_compliant: false')).toBe('ClusterRole cluster-admin');
  });
});

describe('kube-bench on the local engine audits exactly this lab', () => {
  const master = `      - id: 1.2.17
        audit: "/bin/ps -ef | grep $apiserverbin | grep -v grep"
      - id: 1.1.11
        audit: |
          for d in $(ps -ef | grep $etcdbin | grep -- --data-dir | sed 's%x%y%'); do echo $d; done
      - id: 1.1.13
        audit: |
         for adminconf in /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf; do stat $adminconf; done
      - id: 1.1.20
        audit: "find /etc/kubernetes/pki/ -name '*.crt' | xargs stat -c permissions=%a"
      - id: 2.1
        audit: "/bin/ps -ef | /bin/grep $etcdbin | /bin/grep -v grep"
      - id: 1.4.1
        audit: "/bin/ps -ef | grep $schedulerbin | grep -v grep"
      - id: 1.1.9
        audit: |
          ps -ef | grep $kubeletbin | grep -- --cni-conf-dir
          find /var/lib/cni/networks -type f
`;
  const local = {
    processId: (c: string) => ({ 'kube-apiserver': 11, etcd: 22, 'kube-controller-manager': 33, 'kube-scheduler': 0 })[c],
    nodePath: (p: string) => join('/data/lab/engines/local/node', p),
    kubelet: false,
  };
  it("replaces every process lookup by a read of this lab's pid, and maps node paths into its node folder", () => {
    const out = rewriteBenchmark(master, local);
    expect(out).not.toMatch(/ps -ef/);
    expect(out).toContain('audit: "xargs -0 echo < /proc/11/cmdline"');
    expect(out).toContain('for d in $(xargs -0 echo < /proc/22/cmdline | grep -- --data-dir');
    expect(out).toContain(
      '        audit: "xargs -0 echo < /proc/22/cmdline"\n        audit_env: "{ xargs -0 -n1 < /proc/22/environ | grep -a ^ETCD_ || true; }"\n',
    ); // etcd's ETCD_* tests read this etcd's ETCD_ variables, nothing else
    expect(out).toContain(
      'for adminconf in /data/lab/engines/local/node/etc/kubernetes/admin.conf /data/lab/engines/local/node/etc/kubernetes/super-admin.conf;',
    );
    expect(out).toContain('find /data/lab/engines/local/node/etc/kubernetes/pki/ -name');
    expect(out).toContain('find /data/lab/engines/local/node/var/lib/cni/networks -type f');
    // no kubelet here: another cluster's kubelet on this machine must not be read
    expect(out).toContain('          true | grep -- --cni-conf-dir');
    expect(out).toContain('audit: "true"'); // a component of this lab that is not running: nothing to read, not another lab's
    expect(out).not.toContain('/proc/11/environ'); // only etcd's checks test variables
  });
  it('leaves the benchmark as it is inside a kind node (its own process table and files)', () => {
    const kind = { processId: () => undefined, nodePath: (p: string) => p, kubelet: true };
    expect(rewriteBenchmark(master, kind)).toBe(master);
    expect(rewriteConfig('confs:\n  - /etc/kubernetes/manifests/kube-apiserver.yaml\n', kind)).toBe(
      'confs:\n  - /etc/kubernetes/manifests/kube-apiserver.yaml\n',
    );
  });
  it('maps every path of config.yaml, not the binary names', () => {
    const cfg =
      'apiserver:\n  bins:\n    - "kube-apiserver"\n  confs:\n    - /etc/kubernetes/manifests/kube-apiserver.yaml\n  defaultconf: /etc/kubernetes/manifests/kube-apiserver.yaml\netcd:\n  datadirs:\n    - /var/lib/etcd/default.etcd\n  kubeconfig:\n    - "/etc/kubernetes/kubelet.conf"\n';
    const out = rewriteConfig(cfg, local);
    expect(out).toContain('    - "kube-apiserver"');
    expect(out).toContain('    - /data/lab/engines/local/node/etc/kubernetes/manifests/kube-apiserver.yaml');
    expect(out).toContain('  defaultconf: /data/lab/engines/local/node/etc/kubernetes/manifests/kube-apiserver.yaml');
    expect(out).toContain('    - /data/lab/engines/local/node/var/lib/etcd/default.etcd');
    expect(out).toContain('    - "/data/lab/engines/local/node/etc/kubernetes/kubelet.conf"');
  });
  it("refuses a benchmark with a process lookup it cannot pin to this lab's pid", () => {
    expect(() => assertPinned(rewriteBenchmark(master, local), 'cis-1.12/master.yaml')).not.toThrow();
    expect(() =>
      assertPinned(rewriteBenchmark(master + '      - id: 9.9\n        audit: "ps -C kube-apiserver -o args"\n', local), 'cis-1.12/master.yaml'),
    ).toThrow(/cannot pin to this lab: "ps -C kube-apiserver -o args"/);
    const envCheck =
      '      - id: 9.8\n        audit: "cat /x"\n        tests:\n          test_items:\n            - flag: "--x"\n              env: "ETCD_X"\n';
    expect(() => assertPinned(envCheck, 'cis-1.12/etcd.yaml')).toThrow(/check 9.8 tests an environment variable of a process it would find by name/);
  });
  it('refuses a node folder it cannot put into a shell command', () => {
    const spaced = { ...local, nodePath: (p: string) => join('/home/a b/node', p) };
    expect(() => rewriteBenchmark(master, spaced)).toThrow(/characters kube-bench's shell commands cannot take/);
  });
});

const decl = (d: { kubeScore?: Partial<AuditDeclaration['kubeScore']>; kubeBench?: Partial<AuditDeclaration['kubeBench']> }): AuditDeclaration =>
  auditSchema.parse({ kubeScore: d.kubeScore ?? {}, kubeBench: d.kubeBench ?? {} });
const where = (tool: string, kind: string, i: number) => `lesson.yaml audit.${tool}.${kind}[${i}]`;
const f = (o: Partial<AuditFinding> & Pick<AuditFinding, 'id'>): AuditFinding => ({
  tool: 'kube-score',
  status: 'CRITICAL',
  raised: true,
  detail: 'd',
  object: 'Deployment payments/ledger',
  ...o,
});

describe("a lesson's audit declaration, judged", () => {
  const scenario = { kubeScore: score, kubeBench: [...node, ...policies], notes: [] };
  it('holds when the scenario raises it and the solution clears it (kube-bench: PASS)', () => {
    const solvedBench = node.map((x) => (x.id === '1.2.17' ? { ...x, status: 'PASS' as const, raised: false } : x));
    const solved = {
      kubeScore: score.map((x) => (x.id === 'container-security-context-privileged' ? { ...x, status: 'OK' as const, raised: false } : x)),
      kubeBench: solvedBench,
      notes: [],
    };
    const v = judge(
      decl({
        kubeScore: { raise: ['container-security-context-privileged'], clear: ['container-security-context-privileged'] },
        kubeBench: { raise: ['1.2.17', '5.2.2@payments'], clear: ['1.2.17'] },
      }),
      scenario,
      solved,
      { where, namespaces: ['payments'] },
    );
    expect(v.map((x) => [x.kind, x.id, x.ok])).toEqual([
      ['raise', 'container-security-context-privileged', true],
      ['clear', 'container-security-context-privileged', true],
      ['raise', '1.2.17', true],
      ['raise', '5.2.2@payments', true],
      ['clear', '1.2.17', true],
    ]);
  });
  it('fails, naming where it is written, when the scenario does not raise it or the solution leaves it', () => {
    const v = judge(decl({ kubeScore: { raise: ['service-type'] }, kubeBench: { raise: ['1.2.25', '1.2.17'], clear: ['1.2.17'] } }), scenario, scenario, {
      where,
    });
    const bad = v.filter((x) => !x.ok);
    expect(bad.map((x) => `${x.where}: ${x.id}: ${x.detail}`)).toEqual([
      expect.stringMatching(/^lesson.yaml audit.kubeScore.raise\[0\]: service-type: the scenario does not raise it: kube-score did not judge it/),
      expect.stringMatching(/^lesson.yaml audit.kubeBench.raise\[0\]: 1.2.25: the scenario does not raise it: kube-bench says PASS/),
      expect.stringMatching(/^lesson.yaml audit.kubeBench.clear\[0\]: 1.2.17: still raised after the solution: .*kube-apiserver/),
    ]);
  });
  it('does not count "the object is gone" as cleared: the auditor must have judged the check', () => {
    const solved = { kubeScore: [], kubeBench: [], notes: [] };
    const v = judge(
      decl({ kubeScore: { raise: ['container-security-context-privileged'], clear: ['container-security-context-privileged'] } }),
      scenario,
      solved,
      { where },
    );
    expect(v[1]).toMatchObject({ kind: 'clear', ok: false });
    expect(v[1].detail).toMatch(/not judged after the solution/);
  });
  it("fails a solution that leaves a finding on the lesson's topic, even one it did not name", () => {
    const solved = { kubeScore: [f({ id: 'container-security-context-readonlyrootfilesystem' }), f({ id: 'container-resources' })], kubeBench: [], notes: [] };
    const v = judge(decl({ kubeScore: { topic: ['container-security-context-*'] } }), scenario, solved, { where });
    expect(v).toEqual([
      expect.objectContaining({
        kind: 'topic',
        ok: false,
        detail: expect.stringMatching(/leaves a finding on the lesson's topic: container-security-context-readonlyrootfilesystem/),
      }),
    ]);
  });
  it("limits an entry to one namespace of the lesson with @NAMESPACE, and rejects a namespace not the lesson's", () => {
    const lab = f({ tool: 'kube-bench', id: '5.1.6', object: 'lab-cloud/api-1', status: 'WARN' });
    const solved = {
      kubeScore: [],
      kubeBench: [lab, f({ tool: 'kube-bench', id: '5.1.6', status: 'PASS', raised: false, object: 'gallery/up-2', detail: 'is_compliant: true' })],
      notes: [],
    };
    const sc = { kubeScore: [], kubeBench: [f({ tool: 'kube-bench', id: '5.1.6', object: 'gallery/up-1', status: 'WARN' }), lab], notes: [] };
    const d = decl({ kubeBench: { raise: ['5.1.6@gallery'], clear: ['5.1.6@gallery'], topic: ['5.1.*@gallery'] } });
    expect(judge(d, sc, solved, { where, namespaces: ['gallery', 'lab-cloud'] }).map((x) => x.ok)).toEqual([true, true, true]);
    // without @gallery, the lab's own fake cloud (lab-cloud) keeps it: not cleared
    expect(judge(decl({ kubeBench: { raise: ['5.1.6'], clear: ['5.1.6'] } }), sc, solved, { where }).map((x) => x.ok)).toEqual([true, false]);
    // gallery's pods gone after the "solution": nothing judged there, so nothing cleared
    expect(judge(d, sc, { ...solved, kubeBench: [lab] }, { where, namespaces: ['gallery', 'lab-cloud'] })[1]).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/not judged after the solution/),
    });
    const w = judge(decl({ kubeBench: { raise: ['5.1.6@elsewhere'] } }), sc, solved, { where, namespaces: ['gallery'] });
    expect(w[0]).toMatchObject({ ok: false, detail: "@elsewhere is not one of the lesson's namespaces (gallery)" });
    const renamed = judge(
      decl({ kubeBench: { raise: ['5.1.6@gallery'] } }),
      { ...sc, kubeBench: [f({ tool: 'kube-bench', id: '5.1.6', object: 'p1-gallery/up-1', status: 'WARN' })] },
      solved,
      { where, mapNs: (n) => `p1-${n}` },
    );
    expect(renamed[0].ok).toBe(true);
  });
  it('asks kube-bench only for the checks the declaration needs (topic globs expanded, manual ones left out)', () => {
    expect(benchChecksFor(decl({ kubeBench: { raise: ['1.2.17', '5.2.2@payments'], clear: ['1.2.17'], topic: ['1.2.1[6-9]'] } })).sort()).toEqual([
      '1.2.16',
      '1.2.17',
      '1.2.18',
      '1.2.19',
      '5.2.2',
    ]);
    expect(benchChecksFor(decl({}))).toEqual([]);
  });
  it("keeps a policies finding only when it is about the lesson's namespaces or its own ClusterRoles", () => {
    const own = { namespaces: ['payments'], clusterObjects: ['ClusterRole shop-reader'] };
    expect(belongsTo(f({ tool: 'kube-bench', id: '5.2.2', object: 'payments/ledger-1' }), own)).toBe(true);
    expect(belongsTo(f({ tool: 'kube-bench', id: '5.2.2', object: 'kube-system/kube-proxy-x' }), own)).toBe(false);
    expect(belongsTo(f({ tool: 'kube-bench', id: '5.1.3', object: 'ClusterRole cluster-admin' }), own)).toBe(false);
    expect(belongsTo(f({ tool: 'kube-bench', id: '5.1.3', object: 'ClusterRole shop-reader' }), own)).toBe(true);
    expect(belongsTo(f({ tool: 'kube-bench', id: '1.2.17', object: undefined }), own)).toBe(true);
  });
});

describe('audit declarations in lesson.yaml', () => {
  const withAudit = (audit: string) => {
    const root = mkdtempSync(join(tmpdir(), 'lessons-'));
    cpSync(join(packageRoot, 'lessons'), join(root, 'lessons'), { recursive: true });
    cpSync(join(packageRoot, 'scenarios'), join(root, 'scenarios'), { recursive: true });
    const file = join(root, 'lessons', 'cluster', '06-audit-logging', 'lesson.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.indexOf('\naudit:')) + `\naudit:\n${audit}`);
    return loadCatalogue(root);
  };
  it('are required, at the end of every shipped lesson, and validated', async () => {
    const c = await loadCatalogue(packageRoot);
    expect(c.problems.map(formatProblem)).toEqual([]);
    for (const l of c.lessons) {
      const text = readFileSync(join(l.dir, 'lesson.yaml'), 'utf8');
      expect(text.slice(text.lastIndexOf('\n\n') + 1), `${l.id}: audit: is the last block`).toMatch(/^(#.*\n)*audit:\n/m);
    }
  });
  it('report a typo, a manual CIS check, a clear not raised and a namespace on a node check by file:line', async () => {
    const c = await withAudit(
      '  kubeScore:\n    raise: [container-security-context-privilegd]\n  kubeBench:\n    raise: ["1.2.17", "1.2.20"]\n    clear: ["1.2.18", "1.2.17@logs"]\n',
    );
    const text = c.problems.map(formatProblem).join('\n');
    expect(text).toMatch(/06-audit-logging\/lesson.yaml:\d+: audit\.kubeScore\.raise\[0\]: kube-score has no check container-security-context-privilegd/);
    expect(text).toMatch(/lesson.yaml:\d+: audit\.kubeBench\.raise\[1\]: 1\.2\.20 is a manual CIS check/);
    expect(text).toMatch(/lesson.yaml:\d+: audit\.kubeBench\.clear\[0\]: 1\.2\.18 is not in raise/);
    expect(text).toMatch(/lesson.yaml:\d+: audit\.kubeBench\.clear\[1\]: 1\.2\.17 judges the control-plane node, not a namespace's objects/);
    expect(c.lessons.map((l) => l.id)).not.toContain('audit-logging');
  });
  it('need both auditors named (an empty one says it has nothing to say)', async () => {
    const c = await withAudit('  kubeScore: {}\n');
    expect(c.problems.map(formatProblem).join('\n')).toMatch(/lesson.yaml:\d+: audit\.kubeBench: required: what kube-bench must raise and clear/);
  });
  it('are required: a lesson without one does not load, and is told what to write', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lessons-'));
    cpSync(join(packageRoot, 'lessons'), join(root, 'lessons'), { recursive: true });
    cpSync(join(packageRoot, 'scenarios'), join(root, 'scenarios'), { recursive: true });
    const file = join(root, 'lessons', 'cluster', '06-audit-logging', 'lesson.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.indexOf('\naudit:')) + '\n');
    const c = await loadCatalogue(root);
    expect(c.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^lessons\/cluster\/06-audit-logging\/lesson.yaml:1: audit: required: what kube-score and kube-bench must raise/),
    ]);
  });
});

describe('finding the auditors', () => {
  it('says how to build one that is missing, in one line', () => {
    const env = { ...process.env, KUBE_SECLAB_CACHE: mkdtempSync(join(tmpdir(), 'cache-')), KUBE_SECLAB_KUBE_SCORE: '', KUBE_SECLAB_KUBE_BENCH: '' };
    expect(() => findAuditors(env)).toThrow(AuditorMissingError);
    expect(() => findAuditors(env)).toThrow(
      /^kube-score not found \(looked in .*kube-score-v1\.20\.0\/kube-score\): build it with `bash tools\/build-auditors\.sh`/,
    );
    expect(() => findAuditors({ ...env, KUBE_SECLAB_KUBE_SCORE: '/nonexistent/kube-score' })).toThrow(
      /KUBE_SECLAB_KUBE_SCORE=\/nonexistent\/kube-score is not an executable file/,
    );
  });
});
