import { describe, it, expect } from 'vitest';
import { mkdtempSync, cpSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NamespaceRenamer, IDENTITY } from '../../src/core/scope/rename.js';
import { lessonScope, sharedPlan } from '../../src/core/scope/lesson-scope.js';
import { loadCatalogue, loadLesson } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';
import { Guard } from '../../src/core/guard/guard.js';
import { GuardError } from '../../src/core/errors.js';
import { missingSharedOptions, validatePrefix } from '../../src/core/engine/index.js';
import { KubeConfig } from '@kubernetes/client-node';

const r = new NamespaceRenamer('alice', ['payroll', 'storefront', 'payments']);

describe('namespace renaming (shared cluster)', () => {
  it('renames a Namespace object, metadata.namespace and the name label, and nothing that only looks like a name', () => {
    expect(
      r.value({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { 'kubernetes.io/metadata.name': 'payments', team: 'payments' } } }),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'alice-payments', labels: { 'kubernetes.io/metadata.name': 'alice-payments', team: 'payments' } },
    });
    const cm = r.value({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'payroll', namespace: 'payroll' },
      data: {
        DB_USER: 'payroll',
        DB_HOST: 'payroll-db.payroll.svc',
        URL: 'http://api.storefront.svc.cluster.local:8080/x',
        OTHER: 'api.payrollx.svc',
        KEEP: 'db.kube-system.svc',
      },
    });
    expect(cm).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'payroll', namespace: 'alice-payroll' },
      data: {
        DB_USER: 'payroll',
        DB_HOST: 'payroll-db.alice-payroll.svc',
        URL: 'http://api.alice-storefront.svc.cluster.local:8080/x',
        OTHER: 'api.payrollx.svc',
        KEEP: 'db.kube-system.svc',
      },
    });
  });

  it('renames RoleBinding subjects: ServiceAccount namespaces, SA user names and the namespace group', () => {
    const rb = r.value({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'x', namespace: 'payroll' },
      subjects: [
        { kind: 'ServiceAccount', name: 'api', namespace: 'payroll' },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts:payroll' },
        { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccount:payroll:reports' },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts:payrollx' },
      ],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'payroll' },
    });
    expect((rb as any).subjects.map((s: any) => s.namespace ?? s.name)).toEqual([
      'alice-payroll',
      'system:serviceaccounts:alice-payroll',
      'system:serviceaccount:alice-payroll:reports',
      'system:serviceaccounts:payrollx',
    ]);
    expect((rb as any).roleRef.name).toBe('payroll');
  });

  it('renames NetworkPolicy namespaceSelectors on kubernetes.io/metadata.name, leaving other namespaces (kube-system) alone', () => {
    const np: any = r.value({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p', namespace: 'storefront' },
      spec: {
        podSelector: {},
        egress: [
          {
            to: [
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
            ],
          },
          { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payroll' } } }] },
          {
            to: [
              {
                namespaceSelector: {
                  matchExpressions: [
                    { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['storefront', 'default'] },
                    { key: 'team', operator: 'In', values: ['storefront'] },
                  ],
                },
              },
            ],
          },
        ],
      },
    });
    expect(np.metadata.namespace).toBe('alice-storefront');
    expect(np.spec.egress[0].to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('kube-system');
    expect(np.spec.egress[1].to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('alice-payroll');
    expect(np.spec.egress[2].to[0].namespaceSelector.matchExpressions[0].values).toEqual(['alice-storefront', 'default']);
    expect(np.spec.egress[2].to[0].namespaceSelector.matchExpressions[1].values).toEqual(['storefront']);
  });

  it('renames steps and check parameters: object refs, a Namespace by name, endpoints, rbac subjects, DNS in expected values', () => {
    expect(r.value({ delete: { apiVersion: 'v1', kind: 'Namespace', name: 'payments' } })).toEqual({
      delete: { apiVersion: 'v1', kind: 'Namespace', name: 'alice-payments' },
    });
    expect(r.value({ delete: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'payments', name: 'payments' } })).toEqual({
      delete: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'alice-payments', name: 'payments' },
    });
    expect(r.value({ wait: { namespace: 'payroll', name: 'payroll-api' } })).toEqual({ wait: { namespace: 'alice-payroll', name: 'payroll-api' } });
    expect(
      r.value({ from: { namespace: 'storefront', deployment: 'api' }, to: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } }, port: 53 }),
    ).toEqual({ from: { namespace: 'alice-storefront', deployment: 'api' }, to: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } }, port: 53 });
    expect(
      r.value({
        as: 'system:serviceaccount:payroll:payroll-api',
        groups: ['system:serviceaccounts:payroll'],
        verb: 'get',
        resource: 'secrets',
        namespace: 'payroll',
        name: 'payroll-credentials',
      }),
    ).toEqual({
      as: 'system:serviceaccount:alice-payroll:payroll-api',
      groups: ['system:serviceaccounts:alice-payroll'],
      verb: 'get',
      resource: 'secrets',
      namespace: 'alice-payroll',
      name: 'payroll-credentials',
    });
    expect(
      r.value({
        apiVersion: 'v1',
        kind: 'Namespace',
        name: 'payments',
        assert: [
          { path: 'data.DB_HOST', equals: 'payroll-db.payroll.svc' },
          { path: 'data.DB_USER', equals: 'payroll' },
        ],
      }),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      name: 'alice-payments',
      assert: [
        { path: 'data.DB_HOST', equals: 'payroll-db.alice-payroll.svc' },
        { path: 'data.DB_USER', equals: 'payroll' },
      ],
    });
  });

  it('is idempotent, leaves its input alone, and the identity (local, kind) changes nothing', () => {
    const input = { kind: 'Deployment', metadata: { namespace: 'payroll' }, env: [{ value: 'http://a.payroll.svc' }] };
    const copy = structuredClone(input);
    const once = r.value(input);
    expect(input).toEqual(copy);
    expect(r.value(once)).toEqual(once);
    expect(IDENTITY.value(input)).toBe(input);
    expect(IDENTITY.ns('payroll')).toBe('payroll');
    expect(IDENTITY.active).toBe(false);
    expect(r.namespaces).toEqual(['alice-payments', 'alice-payroll', 'alice-storefront']);
    expect(new NamespaceRenamer('bob', ['payroll']).value(input)).toEqual({
      kind: 'Deployment',
      metadata: { namespace: 'bob-payroll' },
      env: [{ value: 'http://a.bob-payroll.svc' }],
    });
  });
});

describe('which lessons run confined to namespaces (computed from the lesson files)', () => {
  it('the shipped catalogue: the namespace-only lessons in, control-plane, node and cluster-scoped ones out, with reasons', async () => {
    const plan = await sharedPlan(await loadCatalogue(packageRoot));
    const scope = (id: string) => plan.lessons.get(id)!;
    for (const id of ['pod-security-standards', 'network-policy', 'secrets-hygiene', 'least-privilege-container', 'restrict-ports'])
      expect(scope(id).namespaced, `${id}: ${scope(id).reason}`).toBe(true);
    expect(scope('rbac-least-privilege')).toMatchObject({ namespaced: false, reason: expect.stringMatching(/ClusterRoleBinding app-admin is cluster-scoped/) });
    expect(scope('image-provenance')).toMatchObject({ namespaced: false, reason: expect.stringMatching(/ValidatingAdmissionPolicy .* is cluster-scoped/) });
    expect(scope('encryption-at-rest')).toMatchObject({ namespaced: false, reason: expect.stringMatching(/control plane/) });
    expect(scope('kubelet-authentication')).toMatchObject({ namespaced: false, reason: expect.stringMatching(/kind/) });
    expect(scope('sast')).toMatchObject({ namespaced: false, reason: expect.stringMatching(/builds the app it hands out/) });
    // The namespaces a learner gets: the lessons' own and the lab's Pod Security ones (the levels the checks use); kube-system only to read its labels.
    expect(plan.namespaces).toEqual(expect.arrayContaining(['payments', 'storefront', 'netpol-canary', 'payroll', 'gallery', 'kube-seclab-pss-restricted']));
    expect(plan.namespaces).not.toContain('orders'); // image-provenance's: out
    expect(plan.namespaces).not.toContain('kube-system');
    expect(plan.labelsOf).toEqual(['kube-system']);
  });

  /** secrets-hygiene copied into a scratch catalogue, to break one rule at a time. */
  function scratch(): { root: string; dir: string } {
    const root = mkdtempSync(join(tmpdir(), 'scope-'));
    const dir = join(root, 'lessons', 'cluster', '07-secrets-hygiene');
    cpSync(join(packageRoot, 'lessons', 'cluster', '07-secrets-hygiene'), dir, { recursive: true });
    cpSync(join(packageRoot, 'scenarios', 'secrets-hygiene'), join(root, 'scenarios', 'secrets-hygiene'), { recursive: true });
    return { root, dir };
  }
  const scopeOf = async (root: string, dir: string) => lessonScope((await loadLesson(dir, root, 'cluster')).lesson!);

  it('a new lesson needs no code change: the copy is in, and one cluster-scoped object in a shortcut takes it out', async () => {
    const { root, dir } = scratch();
    expect((await scopeOf(root, dir)).namespaced).toBe(true);
    writeFileSync(
      join(dir, 'shortcuts', 'secret-for-everyone', 'crb.yaml'),
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: everyone}\nsubjects: [{kind: Group, name: system:authenticated}]\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n',
    );
    expect(await scopeOf(root, dir)).toMatchObject({
      namespaced: false,
      reason: 'shortcut secret-for-everyone: ClusterRoleBinding everyone is cluster-scoped',
    });
  });

  it('out: an object in a namespace the scenario does not create, a node step, a check of another namespace or of the control plane', async () => {
    let { root, dir } = scratch();
    writeFileSync(join(dir, 'solution', 'elsewhere.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\n');
    expect((await scopeOf(root, dir)).reason).toBe('solution: ConfigMap x is in namespace default, not one of its own');

    // A node step must be undone by the lesson's reset (else the lesson does not load), and a reset of a node is out.
    ({ root, dir } = scratch());
    writeFileSync(join(dir, 'shortcuts', 'copy-not-move', 'steps.yaml'), 'steps:\n  - nodeFile: {path: /etc/x, content: y}\n');
    expect((await loadLesson(dir, root, 'cluster')).problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/a reset would not undo this step: reset.nodeFiles must cover \/etc\/x/),
    ]);
    const y0 = join(dir, 'lesson.yaml');
    writeFileSync(y0, `${readFileSync(y0, 'utf8')}\nreset:\n  nodeFiles: [/etc/x]\n`);
    expect((await scopeOf(root, dir)).reason).toMatch(/changes the control plane or a node/);

    ({ root, dir } = scratch());
    const y = join(dir, 'lesson.yaml');
    writeFileSync(
      y,
      readFileSync(y, 'utf8').replace(
        'workload: {kind: Deployment, namespace: payroll, name: reports,',
        'workload: {kind: Deployment, namespace: kube-system, name: reports,',
      ),
    );
    expect((await scopeOf(root, dir)).reason).toBe('check reports-running is in namespace kube-system, not one of its own');

    ({ root, dir } = scratch());
    const y2 = join(dir, 'lesson.yaml');
    writeFileSync(
      y2,
      readFileSync(y2, 'utf8').replace(
        'checks:\n',
        'checks:\n  - id: flag\n    title: f\n    objective: no-plaintext\n    controlPlaneFlag: {component: kube-apiserver, flag: --x, equals: y}\n',
      ),
    );
    expect((await scopeOf(root, dir)).reason).toBe('check flag (controlPlaneFlag) needs the control plane or a node');
  });

  it('what a shared cluster does not run does not count: a fix only for kind may touch a node', async () => {
    const { root, dir } = scratch();
    mkdirSync(join(dir, 'shortcuts', 'kind-only'));
    writeFileSync(join(dir, 'shortcuts', 'kind-only', 'steps.yaml'), 'engines: [kind]\nsteps:\n  - build: {path: payroll-app}\n');
    expect((await scopeOf(root, dir)).namespaced).toBe(true);
    // …and the same step for every engine takes the lesson out.
    writeFileSync(join(dir, 'shortcuts', 'kind-only', 'steps.yaml'), 'steps:\n  - build: {path: payroll-app}\n');
    expect((await scopeOf(root, dir)).reason).toMatch(/shortcut kind-only: builds the app it hands out/);
  });
});

describe('the guard of a learner in a shared cluster', () => {
  const guard = () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    // The kubeconfig file does not exist: a write that got past the target check would fail on that instead.
    return new Guard(kc, '/nonexistent/kubeconfig', '/nonexistent/kubeconfig', 'id', {
      marker: 'alice-kube-seclab',
      namespaces: ['alice-payroll', 'alice-payments'],
    });
  };
  it("refuses, before any request, a write in another learner's namespace, a foreign Namespace and anything cluster-scoped", async () => {
    const g = guard();
    await expect(g.ensureWrite({ kind: 'ConfigMap', metadata: { name: 'x', namespace: 'bob-payroll' } })).rejects.toThrow(
      /refusing to write ConfigMap bob-payroll\/x: namespace bob-payroll is not one of this learner's/,
    );
    await expect(g.ensureWrite({ kind: 'Namespace', metadata: { name: 'bob-payroll' } })).rejects.toThrow(/refusing to write Namespace bob-payroll/);
    await expect(g.ensureWrite({ kind: 'ClusterRoleBinding', metadata: { name: 'x' } })).rejects.toThrow(/cluster-scoped/);
    await expect(g.ensureWrite({ kind: 'ConfigMap', metadata: { name: 'x', namespace: 'kube-system' } })).rejects.toBeInstanceOf(GuardError);
    // Its own namespace gets past the target check, to the kubeconfig check.
    await expect(g.ensureWrite({ kind: 'ConfigMap', metadata: { name: 'x', namespace: 'alice-payroll' } })).rejects.toThrow(/no lab kubeconfig/);
  });
  it('up refuses without --context or --namespace-prefix, naming what is missing; prefixes are DNS labels', () => {
    expect(missingSharedOptions({})).toBe('--engine existing needs --context and --namespace-prefix (missing)');
    expect(missingSharedOptions({ context: 'c' })).toBe('--engine existing needs --namespace-prefix (missing)');
    expect(missingSharedOptions({ prefix: 'p' })).toBe('--engine existing needs --context (missing)');
    expect(missingSharedOptions({ context: 'c', prefix: 'p' })).toBeUndefined();
    expect(validatePrefix('alice')).toBe('alice');
    expect(() => validatePrefix('Alice')).toThrow(/--namespace-prefix/);
    expect(() => validatePrefix('a'.repeat(21))).toThrow(/--namespace-prefix/);
  });
});
