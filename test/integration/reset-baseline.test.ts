/**
 * Issue 14 #4: a reset returns to the scenario exactly, whatever names the learner used. The learner
 * creates cluster-wide objects of every kind under names of their own, changes and deletes ones that
 * were there, and fixes nodeport-exposure with a policy of their own name (which used to make the next
 * reset fail half-way); `reset` and `start` of another lesson must leave the cluster-wide state as it
 * was before — read here independently of the lab's own record.
 */
import { describe, it, expect, inject } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Lab } from '../../src/core/lab.js';
import type { LabCluster } from '../../src/core/kube/client.js';
import { engines } from '../../src/engines/index.js';

const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData') };
const RBAC = 'rbac.authorization.k8s.io/v1';
const ADM = 'admissionregistration.k8s.io/v1';
const LESSON_LABEL = 'kube-seclab.dev/lesson';

const KINDS: [string, string, string?][] = [
  [RBAC, 'ClusterRole'],
  [RBAC, 'ClusterRoleBinding'],
  [RBAC, 'Role', 'kube-system'],
  [RBAC, 'RoleBinding', 'kube-system'],
  [ADM, 'ValidatingAdmissionPolicy'],
  [ADM, 'ValidatingAdmissionPolicyBinding'],
  [ADM, 'ValidatingWebhookConfiguration'],
  [ADM, 'MutatingWebhookConfiguration'],
  ['node.k8s.io/v1', 'RuntimeClass'],
  ['scheduling.k8s.io/v1', 'PriorityClass'],
];

/** Every cluster-wide object as name → what it grants or enforces (not uids: a lesson's own objects are made anew). */
async function state(cluster: LabCluster): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [apiVersion, kind, ns] of KINDS) {
    for (const o of await cluster.list<KubernetesObject & Record<string, unknown>>(apiVersion, kind, ns)) {
      if (o.metadata?.deletionTimestamp) continue;
      const { metadata, status: _s, ...rest } = o;
      const body: Record<string, unknown> = { ...rest, labels: metadata?.labels, annotations: metadata?.annotations };
      if (kind === 'ClusterRole' && body.aggregationRule) delete body.rules; // the aggregation controller's
      out.set(`${kind} ${ns ? `${ns}/` : ''}${metadata!.name}`, JSON.stringify(body));
    }
  }
  return out;
}

function differences(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a)
    if (!b.has(k)) out.push(`gone: ${k}`);
    else if (b.get(k) !== v) out.push(`changed: ${k}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`new: ${k}`);
  return out;
}

/** A learner at work: new objects of every kind under their own names; changes and deletions of what was there. */
async function learnerChanges(cluster: LabCluster): Promise<void> {
  const subject = { kind: 'ServiceAccount', name: 'default', namespace: 'ops' };
  await cluster.create({
    apiVersion: RBAC,
    kind: 'ClusterRole',
    metadata: { name: 'my-reader' },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
  } as KubernetesObject);
  await cluster.create({
    apiVersion: RBAC,
    kind: 'ClusterRoleBinding',
    metadata: { name: 'my-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [subject],
  } as KubernetesObject);
  await cluster.create({
    apiVersion: RBAC,
    kind: 'Role',
    metadata: { name: 'my-role', namespace: 'kube-system' },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }],
  } as KubernetesObject);
  await cluster.create({
    apiVersion: RBAC,
    kind: 'RoleBinding',
    metadata: { name: 'my-rb', namespace: 'kube-system' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'my-role' },
    subjects: [subject],
  } as KubernetesObject);
  // nodeport-exposure's guard rail under the learner's own names: it refuses the scenario's NodePort Service.
  await cluster.create({
    apiVersion: ADM,
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'my-node-port-guard' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['services'] }] },
      validations: [{ expression: "!(object.spec.type in ['NodePort', 'LoadBalancer'])" }],
    },
  } as KubernetesObject);
  await cluster.create({
    apiVersion: ADM,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'my-node-port-guard' },
    spec: { policyName: 'my-node-port-guard', validationActions: ['Deny'] },
  } as KubernetesObject);
  await cluster.create({
    apiVersion: ADM,
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'my-hook' },
    webhooks: [
      {
        name: 'my-hook.example.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Ignore',
        clientConfig: { service: { namespace: 'elsewhere', name: 'hook' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'nowhere' } },
      },
    ],
  } as KubernetesObject);
  await cluster.create({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'my-runtime' }, handler: 'runc' } as KubernetesObject);
  await cluster.create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'my-priority' }, value: 1000 } as KubernetesObject);
  // What was there: a bootstrap role given more, a bootstrap binding deleted.
  const viewer = (await cluster.read<KubernetesObject & { rules: unknown[] }>({
    apiVersion: RBAC,
    kind: 'ClusterRole',
    metadata: { name: 'system:public-info-viewer' },
  }))!;
  viewer.rules.push({ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] });
  await cluster.replace(viewer);
  expect(await cluster.delete({ apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: { name: 'system:public-info-viewer' } })).toBe(true);
}

describe('a reset returns the cluster-wide state to what it was before the lesson, whatever names the learner used', () => {
  it('reset and start of another lesson remove what the learner created, and put back what they changed or deleted', async () => {
    const lab = await Lab.open({ engines, env, engine: 'local' });
    await lab.start('nodeport-exposure');
    const cluster = await lab.cluster();
    try {
      const before = await state(cluster);
      await learnerChanges(cluster);
      const during = await state(cluster);
      // The test's own reading sees every change (else it could not fail).
      expect(differences(before, during).sort()).toEqual(
        [
          'new: ClusterRole my-reader',
          'new: ClusterRoleBinding my-admin',
          'new: Role kube-system/my-role',
          'new: RoleBinding kube-system/my-rb',
          'new: ValidatingAdmissionPolicy my-node-port-guard',
          'new: ValidatingAdmissionPolicyBinding my-node-port-guard',
          'new: ValidatingWebhookConfiguration my-hook',
          'new: RuntimeClass my-runtime',
          'new: PriorityClass my-priority',
          'changed: ClusterRole system:public-info-viewer',
          'gone: ClusterRoleBinding system:public-info-viewer',
        ].sort(),
      );

      // The reset used to fail half-way here: the learner's policy refused the scenario's NodePort Service.
      await lab.reset('nodeport-exposure');
      expect(differences(before, await state(cluster))).toEqual([]);
      const svc = await cluster.read<KubernetesObject & { spec: { type: string } }>({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'admin-dashboard', namespace: 'ops' },
      });
      expect(svc?.spec.type).toBe('NodePort');

      // Moving on to another lesson takes the learner's cluster-wide objects away too.
      await learnerChanges(cluster);
      await lab.start('over-broad-groups');
      const after = differences(before, await state(cluster));
      // over-broad-groups' own scenario objects carry its lesson label; nothing else differs.
      const others = await Promise.all(
        after.map(async (d) => {
          const [, kind, ref] = d.match(/^\w+: (\w+) (\S+)$/)!;
          const [ns, name] = ref.includes('/') ? ref.split('/') : [undefined, ref];
          const api = KINDS.find(([, k]) => k === kind)![0];
          const o = await cluster.read<KubernetesObject>({ apiVersion: api, kind, metadata: { name, namespace: ns } });
          return o?.metadata?.labels?.[LESSON_LABEL] === 'over-broad-groups' ? undefined : d;
        }),
      );
      expect(others.filter(Boolean)).toEqual([]);
    } finally {
      await lab.remove('over-broad-groups').catch(() => {});
      await lab.remove('nodeport-exposure').catch(() => {});
    }
  });
});
