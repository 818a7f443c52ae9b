import { describe, it, expect, inject, beforeAll } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEngine } from '../../src/engines/local/engine.js';
import { labPaths } from '../../src/core/paths.js';
import { LabCluster } from '../../src/core/kube/client.js';
import { GuardError } from '../../src/core/errors.js';
import { editManifest } from '../../src/core/scenarios/manifest-edit.js';
import { MARKER_NAMESPACE, LAB_ID_ANNOTATION } from '../../src/core/guard/guard.js';
import { sleep } from '../../src/core/fsutil.js';
import { restoreComponent } from '../../src/core/scenarios/control-plane.js';
import { manifestFlags } from '../../src/core/engine/index.js';

const data = inject('labData');
const env = { ...process.env, KUBE_SECLAB_DATA: data };
const paths = labPaths(env);
const engine = new LocalEngine(paths, env);
let cluster: LabCluster;

beforeAll(async () => {
  cluster = new LabCluster(paths.kubeconfig, paths.kubeconfig, await engine.labId());
});

async function ns(name: string, labels: Record<string, string> = {}) {
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  for (let i = 0; i < 50; i++) {
    if (await cluster.read({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } })) return;
    await sleep(100);
  }
}

describe('local engine: a real control plane', () => {
  it('reports every component healthy, on loopback only', async () => {
    const st = await engine.status();
    expect(st.healthy).toBe(true);
    expect(st.components.map((c) => c.name)).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']);
    expect(st.endpoints.apiserver).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // nothing the engine started listens beyond loopback
    const pids = st.components.map((c) => c.pid).filter(Boolean) as number[];
    const inodes = new Set<string>();
    for (const pid of pids) {
      const { readdirSync, readlinkSync } = await import('node:fs');
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m) inodes.add(m[1]);
        } catch {
          /* closed */
        }
      }
    }
    const listening = ['/proc/net/tcp', '/proc/net/tcp6']
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1))
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => c[3] === '0A' && inodes.has(c[9]))
      .map((c) => c[1].split(':')[0]);
    expect(listening.length).toBeGreaterThan(3);
    for (const addr of listening) expect(['0100007F', '00000000000000000000000001000000']).toContain(addr);
  });

  it('rejects a privileged pod in a namespace that enforces restricted (PodSecurity admission)', async () => {
    await ns('it-psa', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'evil', namespace: 'it-psa' },
      spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
    };
    await expect(cluster.create(pod)).rejects.toMatchObject({ code: 403 });
    const res = await cluster.dryRunCreate(pod);
    expect(res.allowed).toBe(false);
    expect(res.message).toMatch(/violates PodSecurity "restricted:latest": privileged/);
  });

  it('answers SubjectAccessReviews per RBAC', async () => {
    await ns('it-rbac');
    await cluster.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: 'it-rbac' } });
    const sar = (verb: string, resource: string) =>
      cluster.authz.createSubjectAccessReview({
        body: {
          spec: {
            user: 'system:serviceaccount:it-rbac:app',
            groups: ['system:serviceaccounts', 'system:authenticated'],
            resourceAttributes: { namespace: 'it-rbac', verb, resource },
          },
        },
      });
    expect((await sar('list', 'configmaps')).status?.allowed).toBe(false);
    await cluster.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'cm', namespace: 'it-rbac' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
    } as any);
    await cluster.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'cm', namespace: 'it-rbac' },
      subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: 'it-rbac' }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm' },
    } as any);
    expect((await sar('list', 'configmaps')).status?.allowed).toBe(true);
    expect((await sar('list', 'secrets')).status?.allowed).toBe(false);
  });

  it('brings a Deployment to its ready replicas (kwok fakes the kubelet)', async () => {
    await ns('it-deploy');
    await cluster.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'it-deploy' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      },
    } as any);
    let ready = 0;
    for (let i = 0; i < 100 && ready < 3; i++) {
      ready = (await cluster.apps.readNamespacedDeployment({ name: 'web', namespace: 'it-deploy' })).status?.readyReplicas ?? 0;
      if (ready < 3) await sleep(200);
    }
    expect(ready).toBe(3);
    const pods = await cluster.core.listNamespacedPod({ namespace: 'it-deploy' });
    expect(pods.items.every((p) => p.status?.phase === 'Running' && p.spec?.nodeName === 'kube-seclab-node')).toBe(true);
  });

  it('restarts kube-apiserver from its edited manifest: --encryption-provider-config encrypts new Secrets in etcd', async () => {
    await ns('it-enc');
    const before = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'before', namespace: 'it-enc' }, stringData: { password: 'hunter2' } };
    await cluster.create(before);
    const rawBefore = await engine.etcdGet('/registry/secrets/it-enc/before');
    expect(rawBefore!.subarray(0, 8).toString()).not.toBe('k8s:enc:');
    expect(rawBefore!.toString('latin1')).toContain('hunter2');

    await engine.writeNodeFile(
      '/etc/kubernetes/enc/config.yaml',
      `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: ${Buffer.alloc(32, 7).toString('base64')}
      - identity: {}
`,
    );
    const original = await engine.readManifest('kube-apiserver');
    try {
      await engine.writeManifest(
        'kube-apiserver',
        editManifest(original, {
          setFlags: { '--encryption-provider-config': '/etc/kubernetes/enc/config.yaml' },
          volumes: [{ name: 'enc', hostPath: '/etc/kubernetes/enc', mountPath: '/etc/kubernetes/enc', readOnly: true }],
        }),
      );
      const fresh = new LabCluster(paths.kubeconfig, paths.kubeconfig, await engine.labId());
      await fresh.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'after', namespace: 'it-enc' }, stringData: { password: 'hunter2' } });
      const raw = await engine.etcdGet('/registry/secrets/it-enc/after');
      expect(raw!.subarray(0, 17).toString()).toBe('k8s:enc:aescbc:v1');
      expect(raw!.toString('latin1')).not.toContain('hunter2');
      const back = await fresh.core.readNamespacedSecret({ name: 'after', namespace: 'it-enc' });
      expect(Buffer.from(back.data!.password, 'base64').toString()).toBe('hunter2');
    } finally {
      await restoreComponent(
        { engine, cluster: new LabCluster(paths.kubeconfig, paths.kubeconfig, await engine.labId()), workspace: join(paths.data, 'workspace') },
        'kube-apiserver',
      );
    }
    expect((await engine.status()).healthy).toBe(true);
    expect(manifestFlags(await engine.readManifest('kube-apiserver')).has('--encryption-provider-config')).toBe(false);
    // the Secret written encrypted was decrypted before the flag went: it still reads back
    const back = await cluster.core.readNamespacedSecret({ name: 'after', namespace: 'it-enc' });
    expect(Buffer.from(back.data!.password, 'base64').toString()).toBe('hunter2');
  });

  it('reports a manifest that fails to start, and recovers when it is restored', async () => {
    const original = await engine.readManifest('kube-apiserver');
    let restored = false;
    try {
      await expect(
        engine.writeManifest('kube-apiserver', editManifest(original, { setFlags: { '--no-such-flag': 'x' } }), { timeoutMs: 60_000 }),
      ).rejects.toThrow(/kube-apiserver does not start from its manifest: .*unknown flag: --no-such-flag/);
      // The supervisor restarts it with a back-off (phase `starting` between crashes): status names the crash
      // at the latest on the next one. A reading between two crashes is not the answer; the next crash is.
      let problems = '';
      for (let i = 0; i < 60 && !/kube-apiserver is crashloop: .*no-such-flag/.test(problems); i++) {
        const st = await engine.status();
        expect(st.healthy).toBe(false);
        problems = st.problems.join('\n');
        await sleep(500);
      }
      expect(problems).toMatch(/kube-apiserver is crashloop: .*no-such-flag/);
      // the last manifest that ran healthy is kept for recovery
      expect(readFileSync(join(engine.L.lastGood, 'kube-apiserver.yaml'), 'utf8')).toBe(original);
      expect(await engine.restoreManifest('kube-apiserver')).toBe(true);
      restored = true;
      // The controller-manager and scheduler may restart while the API server is away; all come back.
      let healthy = false;
      for (let i = 0; i < 60 && !healthy; i++) {
        healthy = (await engine.status()).healthy;
        if (!healthy) await sleep(500);
      }
      expect(healthy).toBe(true);
    } finally {
      // Every later test file shares this cluster: never leave it with an API server that cannot start.
      if (!restored) await engine.restoreManifest('kube-apiserver');
    }
  });

  it("writes and reads objects in the API's own JSON, keyword-named fields included (NetworkPolicy `from`)", async () => {
    await ns('it-wire');
    const np = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'db', namespace: 'it-wire' },
      spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 5432 }] }] },
    };
    await cluster.apply(np);
    const back: any = await cluster.read({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'db', namespace: 'it-wire' } });
    expect(back.spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: { app: 'api' } } }]);
    expect(back.spec.ingress[0]._from).toBeUndefined();
    const listed: any[] = await cluster.list('networking.k8s.io/v1', 'NetworkPolicy', 'it-wire');
    expect(listed[0].spec.ingress[0].from[0].podSelector.matchLabels.app).toBe('api');
    expect(typeof listed[0].metadata.creationTimestamp).toBe('string');
  });

  it('guard: refuses a cluster without the lab marker, and any other kubeconfig, writing nothing', async () => {
    const marker: any = await cluster.core.readNamespace({ name: MARKER_NAMESPACE });
    const realId = marker.metadata.annotations[LAB_ID_ANNOTATION];
    // a lab that expects another id (as if this cluster were someone else's)
    const other = new LabCluster(paths.kubeconfig, paths.kubeconfig, 'not-this-lab');
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'guarded', namespace: 'default' }, data: { a: 'b' } };
    await expect(other.apply(cm)).rejects.toBeInstanceOf(GuardError);
    // a copy of the kubeconfig elsewhere is not the lab's kubeconfig
    const copy = join(mkdtempSync(join(tmpdir(), 'kc-')), 'config');
    copyFileSync(paths.kubeconfig, copy);
    const foreign = new LabCluster(copy, paths.kubeconfig, realId);
    await expect(foreign.apply(cm)).rejects.toThrow(/only uses its own kubeconfig/);
    // remove the marker: even the right lab id is refused
    const stripped = structuredClone(marker);
    delete stripped.metadata.annotations[LAB_ID_ANNOTATION];
    await cluster.core.replaceNamespace({ name: MARKER_NAMESPACE, body: stripped });
    try {
      const unmarked = new LabCluster(paths.kubeconfig, paths.kubeconfig, realId);
      await expect(unmarked.apply(cm)).rejects.toThrow(/marker belongs to another lab \(none/);
    } finally {
      const now: any = await cluster.core.readNamespace({ name: MARKER_NAMESPACE });
      now.metadata.annotations = { ...(now.metadata.annotations ?? {}), [LAB_ID_ANNOTATION]: realId };
      await cluster.core.replaceNamespace({ name: MARKER_NAMESPACE, body: now });
    }
    expect(await cluster.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'guarded', namespace: 'default' } })).toBeUndefined();
    writeFileSync(copy, '');
  });
});
