import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { Lab } from '../../src/core/lab.js';
import { verifyLesson } from '../../src/core/verify.js';
import { loadCatalogue } from '../../src/core/lessons/loader.js';
import { sharedPlan } from '../../src/core/scope/lesson-scope.js';
import { packageRoot } from '../../src/core/paths.js';
import { GuardError, UserError } from '../../src/core/errors.js';
import { apiError } from '../../src/core/kube/errors.js';
import { MARKER_NAMESPACE, LAB_ID_ANNOTATION, LEARNER_LABEL } from '../../src/core/guard/guard.js';
import { engines } from '../../src/engines/index.js';

// Lab A: this run's real local cluster (test/integration/setup.ts), used as the "existing" cluster.
// Lab B (alice) and lab C (bob): the shared-cluster engine, each with its own KUBE_SECLAB_DATA,
// up with lab A's admin kubeconfig and context — as an instructor would with a class cluster.
const dataA = inject('labData');
const envA = { ...process.env, KUBE_SECLAB_DATA: dataA };
const adminKubeconfig = join(dataA, 'kubeconfig');
const admin = new KubeConfig();
admin.loadFromFile(adminKubeconfig);
const context = admin.getCurrentContext();
const adminCore = admin.makeApiClient(CoreV1Api);
const adminRbac = admin.makeApiClient(RbacAuthorizationV1Api);

const plan = await sharedPlan(await loadCatalogue(packageRoot));
const namespaced = [...plan.lessons].filter(([, s]) => s.namespaced).map(([id]) => id);

const dirs: string[] = [];
async function openShared(prefix: string | undefined, ctx: string | null = context): Promise<Lab> {
  const data = await mkdtemp(join(tmpdir(), `kube-seclab-shared-${prefix ?? 'none'}-`));
  dirs.push(data);
  return Lab.open({
    engines,
    env: { ...process.env, KUBE_SECLAB_DATA: data },
    engine: 'existing',
    existing: { context: ctx ?? undefined, kubeconfig: adminKubeconfig, prefix },
  });
}
const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e) => apiError(e).code,
  );
const nsExists = (name: string) =>
  adminCore.readNamespace({ name }).then(
    (n) => !n.metadata?.deletionTimestamp,
    () => false,
  );

let alice: Lab;
let bob: Lab;
let labA: Lab;
const infos: string[] = [];

beforeAll(async () => {
  labA = await Lab.open({ engines, env: envA, engine: 'local' });
  alice = await openShared('alice');
  bob = await openShared('bob');
  const rep = {
    task: <T>(_t: string, fn: (u: (d: string) => void) => Promise<T>) => fn(() => {}),
    info: (m: string) => {
      infos.push(m);
    },
  };
  await alice.up(rep);
  await bob.up();
}, 300_000);

afterAll(async () => {
  await bob?.engine.down().catch(() => {});
  await alice?.engine.down().catch(() => {});
  await labA?.remove('secrets-hygiene').catch(() => {});
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}, 300_000);

describe('shared cluster: up', () => {
  it('is refused without --context or --namespace-prefix, naming what is missing, before touching the cluster', async () => {
    const none = await openShared(undefined);
    await expect(none.up()).rejects.toThrow(/^--engine existing needs --namespace-prefix \(missing\)$/);
    await expect(none.up()).rejects.toBeInstanceOf(UserError);
    const noCtx = await openShared('carol', null);
    await expect(noCtx.up()).rejects.toThrow(/^--engine existing needs --context \(missing\)$/);
    expect(await nsExists('carol-kube-seclab')).toBe(false);
    await expect(Lab.open({ engines, env: { ...process.env, KUBE_SECLAB_DATA: dirs[0] }, engine: 'local', existing: { prefix: 'x' } })).rejects.toThrow(
      /--namespace-prefix only go with --engine existing/,
    );
  });

  it("warns that it writes into someone else's cluster, and makes alice's namespaces, marker, ServiceAccount and RBAC", async () => {
    expect(infos.join('\n')).toMatch(
      new RegExp(
        `WARNING: shared cluster — this creates namespaces alice-kube-seclab, .*alice-gallery, .*a ServiceAccount, RoleBindings and a ClusterRole \\(kube-seclab:learner:alice\\) in the cluster of context "${context}" .*which the lab did not create`,
      ),
    );
    for (const n of plan.namespaces) expect(await nsExists(`alice-${n}`), `alice-${n}`).toBe(true);
    const marker = await adminCore.readNamespace({ name: 'alice-kube-seclab' });
    expect(marker.metadata?.annotations?.[LAB_ID_ANNOTATION]).toBe(await alice.engine.labId());
    expect((await adminRbac.readNamespacedRoleBinding({ name: 'kube-seclab-learner', namespace: 'alice-payroll' })).roleRef.name).toBe('admin');
    expect((await alice.engine.status()).healthy).toBe(true);
  });

  it('another lab cannot take a prefix in use', async () => {
    const thief = await openShared('alice');
    await expect(thief.up()).rejects.toThrow(/prefix "alice" is taken in this cluster: alice-kube-seclab/);
  });

  it('lists only the namespace-scoped lessons as available, with a reason for the others, and refuses to start those', async () => {
    const items = await alice.list();
    const available = items
      .filter((l) => l.status !== 'unavailable')
      .map((l) => l.id)
      .sort();
    expect(available).toEqual([...namespaced].sort());
    expect(available).toEqual(expect.arrayContaining(['network-policy', 'pod-security-standards', 'secrets-hygiene', 'least-privilege-container']));
    expect(items.find((l) => l.id === 'rbac-least-privilege')?.reason).toMatch(/ClusterRoleBinding app-admin is cluster-scoped/);
    await expect(alice.start('rbac-least-privilege')).rejects.toThrow(
      /^lesson rbac-least-privilege cannot run in a shared cluster \(scenario: ClusterRoleBinding app-admin is cluster-scoped\)$/,
    );
    expect(alice.namespaceNote(alice.lesson('secrets-hygiene'))).toMatch(/prefixed with "alice-" — payroll is alice-payroll/);
  });
});

// The done-criterion: every namespace-scoped lesson's `dev verify` on the shared cluster, as alice.
describe.each(namespaced)('shared cluster: dev verify %s (alice)', (id) => {
  it("unsolved fails, the solution passes, every shortcut fails — in alice's namespaces", { timeout: 900_000 }, async () => {
    const r = await verifyLesson(alice, id);
    const report = r.steps.map((s) => `${s.ok ? 'ok ' : 'BAD'} ${s.name}: ${s.detail}`).join('\n');
    expect(r.skipped, report).toBeUndefined();
    expect(r.ok, report).toBe(true);
    const names = r.steps.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['unsolved fails', 'solution passes']));
    expect(names.filter((n) => n.startsWith('shortcut')).length).toBeGreaterThanOrEqual(1);
    // It ran in alice's namespaces: the clean-up left them in place (a learner cannot create namespaces),
    // with the ownership marks `up` put there (a reset replaces the labels, server-side apply re-applies them).
    const labId = await alice.engine.labId();
    for (const ns of plan.lessons.get(id)!.namespaces) {
      const o = await adminCore.readNamespace({ name: `alice-${ns}` });
      expect(o.metadata?.deletionTimestamp, o.metadata?.name).toBeUndefined();
      expect(o.metadata?.annotations?.[LAB_ID_ANNOTATION], o.metadata?.name).toBe(labId);
      expect(o.metadata?.labels?.[LEARNER_LABEL], o.metadata?.name).toBe('alice');
    }
  });
});

describe('shared cluster: confinement', () => {
  it("alice's lab refuses, before any request, to write in bob's namespaces or anything cluster-scoped", async () => {
    await bob.start('secrets-hygiene');
    const c = await alice.cluster();
    await expect(c.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-alice', namespace: 'bob-payroll' } })).rejects.toBeInstanceOf(
      GuardError,
    );
    await expect(c.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bob-payroll' } })).rejects.toThrow(
      /refusing to write Namespace bob-payroll/,
    );
    await expect(c.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } })).rejects.toThrow(
      /cluster-scoped/,
    );
    await expect(c.sweepNamespace('bob-payroll')).rejects.toBeInstanceOf(GuardError);
    expect((await adminCore.readNamespacedConfigMap({ name: 'payroll-config', namespace: 'bob-payroll' })).data?.DB_HOST).toBe('payroll-db.bob-payroll.svc');
  });

  it("alice's ServiceAccount (the kubeconfig she and her lab use) really gets 403 outside her namespaces", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(alice.engine.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const cm = (namespace: string) => core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'alice-was-here' } } });
    expect(await status(cm('alice-payroll'))).toBe(200); // the same request, in her namespace, works
    await core.deleteNamespacedConfigMap({ name: 'alice-was-here', namespace: 'alice-payroll' });
    expect(await status(cm('bob-payroll'))).toBe(403);
    expect(await status(cm('default'))).toBe(403);
    expect(await status(cm(MARKER_NAMESPACE))).toBe(403);
    expect(await status(core.listNamespacedSecret({ namespace: 'kube-system' }))).toBe(403);
    expect(await status(core.createNamespace({ body: { metadata: { name: 'alice-extra' } } }))).toBe(403);
    expect(await status(core.deleteNamespace({ name: 'bob-payroll' }))).toBe(403);
    expect(await status(core.readNamespace({ name: 'bob-payroll' }))).toBe(403);
    expect(await status(core.listNamespace())).toBe(403);
    expect(
      await status(
        kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
          body: {
            metadata: { name: 'alice-admin' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'ServiceAccount', name: 'learner', namespace: 'alice-kube-seclab' }],
          },
        }),
      ),
    ).toBe(403);
  });

  it("down for alice removes her namespaces and RBAC and leaves bob's and lab A's own objects untouched", { timeout: 300_000 }, async () => {
    await labA.start('secrets-hygiene'); // lab A's own lesson namespace: payroll
    const bobId = await bob.engine.labId();
    await alice.engine.down();
    for (const n of [...plan.namespaces, 'kube-seclab']) expect(await nsExists(`alice-${n}`), `alice-${n}`).toBe(false);
    expect(await status(adminRbac.readClusterRole({ name: 'kube-seclab:learner:alice' }))).toBe(404);
    expect(await status(adminRbac.readClusterRoleBinding({ name: 'kube-seclab:learner:alice' }))).toBe(404);
    // bob: his namespaces, his lesson's objects, his RBAC, and his lab still works.
    for (const n of plan.namespaces) expect(await nsExists(`bob-${n}`), `bob-${n}`).toBe(true);
    expect((await adminCore.readNamespace({ name: 'bob-kube-seclab' })).metadata?.annotations?.[LAB_ID_ANNOTATION]).toBe(bobId);
    expect(await status(adminCore.readNamespacedConfigMap({ name: 'payroll-config', namespace: 'bob-payroll' }))).toBe(200);
    expect(await status(adminRbac.readClusterRole({ name: 'kube-seclab:learner:bob' }))).toBe(200);
    const r = await bob.check('secrets-hygiene', { record: false });
    expect(r.unreachable).toBe(false);
    expect(r.checks.filter((x) => x.status === 'error')).toEqual([]);
    // lab A: its marker and its own lesson namespace.
    expect(await nsExists(MARKER_NAMESPACE)).toBe(true);
    expect(await status(adminCore.readNamespacedConfigMap({ name: 'payroll-config', namespace: 'payroll' }))).toBe(200);
    expect((await alice.engine.status()).exists).toBe(false);
  });
});
