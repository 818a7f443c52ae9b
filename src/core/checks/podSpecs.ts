import type { CheckContext, WatchTarget } from './types.js';

/**
 * Every pod spec that runs, or could run, in a namespace: its live pods (with or without an owner,
 * admitted whenever — before a namespace label or a policy, too — ephemeral containers included)
 * and the pod templates of every workload kind that makes pods. A property "every pod in the
 * namespace …" is judged over all of these, not over one named Deployment.
 */
export interface PodSpecSource {
  /** `Pod payments/x`, `Deployment payments/ledger (pod template)`, … */
  what: string;
  kind: string;
  name: string;
  /** A live pod (what runs) or a template (what its controller will create next). */
  live: boolean;
  /** The pod's labels and spec (a template's, or the live pod's). */
  labels?: Record<string, string>;
  spec: any;
}

/** Workload kinds with a pod template, and where it is. */
export const TEMPLATE_KINDS: { apiVersion: string; kind: string; template: (o: any) => any }[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', template: (o) => o.spec?.template },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', template: (o) => o.spec?.template },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', template: (o) => o.spec?.template },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', template: (o) => o.spec?.template },
  { apiVersion: 'v1', kind: 'ReplicationController', template: (o) => o.spec?.template },
  { apiVersion: 'batch/v1', kind: 'Job', template: (o) => o.spec?.template },
  { apiVersion: 'batch/v1', kind: 'CronJob', template: (o) => o.spec?.jobTemplate?.spec?.template },
];

/** What a check over every pod spec of a namespace watches. */
export const podSpecWatches = (namespace: string): WatchTarget[] => [
  { apiVersion: 'v1', kind: 'Pod', namespace },
  ...TEMPLATE_KINDS.map((k) => ({ apiVersion: k.apiVersion, kind: k.kind, namespace })),
];

const ownedBy = (o: any, kinds: string[]) => (o.metadata?.ownerReferences ?? []).some((r: any) => r.controller && kinds.includes(r.kind));
const done = (p: any) => ['Succeeded', 'Failed'].includes(p.status?.phase) || !!p.metadata?.deletionTimestamp;

/**
 * The pod specs of a namespace. A ReplicaSet a Deployment owns and a Job a CronJob owns are judged
 * through their owner's template (an old ReplicaSet kept for rollbacks is history, not a template
 * anyone runs: its pods, should any still run, are judged as pods). Finished and terminating pods
 * run nothing any more.
 */
export async function podSpecsIn(ctx: CheckContext, namespace: string, opts: { pods?: boolean; templates?: boolean } = {}): Promise<PodSpecSource[]> {
  const out: PodSpecSource[] = [];
  const wantPods = opts.pods ?? true;
  const wantTemplates = opts.templates ?? true;
  const lists = await Promise.all([
    wantPods ? ctx.cluster.list<any>('v1', 'Pod', namespace) : Promise.resolve([]),
    ...TEMPLATE_KINDS.map((k) => (wantTemplates ? ctx.cluster.list<any>(k.apiVersion, k.kind, namespace) : Promise.resolve([]))),
  ]);
  for (const p of lists[0]) {
    if (done(p)) continue;
    out.push({ what: `Pod ${namespace}/${p.metadata.name}`, kind: 'Pod', name: p.metadata.name, live: true, labels: p.metadata?.labels, spec: p.spec ?? {} });
  }
  TEMPLATE_KINDS.forEach((k, i) => {
    for (const o of lists[i + 1]) {
      if (k.kind === 'ReplicaSet' && ownedBy(o, ['Deployment'])) continue;
      if (k.kind === 'Job' && ownedBy(o, ['CronJob'])) continue;
      const t = k.template(o);
      out.push({
        what: `${k.kind} ${namespace}/${o.metadata.name} (pod template)`,
        kind: k.kind,
        name: o.metadata.name,
        live: false,
        labels: t?.metadata?.labels,
        spec: t?.spec ?? {},
      });
    }
  });
  return out;
}

/** Every container of a spec, with where it is: containers, init containers and ephemeral containers. */
export function containersOf(spec: any): { where: 'container' | 'init container' | 'ephemeral container'; c: any }[] {
  return [
    ...(spec?.initContainers ?? []).map((c: any) => ({ where: 'init container' as const, c })),
    ...(spec?.containers ?? []).map((c: any) => ({ where: 'container' as const, c })),
    ...(spec?.ephemeralContainers ?? []).map((c: any) => ({ where: 'ephemeral container' as const, c })),
  ];
}

/**
 * A pod spec as a Pod that can be dry-run in another namespace: the security-relevant spec only
 * (names that exist only in its own namespace go), ephemeral containers as containers (a pod
 * cannot be created with them; Pod Security judges them like containers).
 */
export function portableSpec(spec: any): any {
  const s = structuredClone(spec ?? {});
  s.serviceAccountName = 'default';
  delete s.serviceAccount;
  delete s.nodeName;
  delete s.priority;
  delete s.priorityClassName;
  delete s.preemptionPolicy;
  delete s.runtimeClassName; // a RuntimeClass adds overhead/scheduling, not privileges
  delete s.overhead;
  delete s.imagePullSecrets;
  s.automountServiceAccountToken = false;
  // The API server's own token volume (kube-api-access-*) mounts a namespace's ServiceAccount token: leave it out.
  const apiAccess = new Set((s.volumes ?? []).filter((v: any) => /^kube-api-access-/.test(v.name) && v.projected).map((v: any) => v.name));
  if (apiAccess.size) {
    s.volumes = s.volumes.filter((v: any) => !apiAccess.has(v.name));
    for (const { c } of containersOf(s)) if (c.volumeMounts) c.volumeMounts = c.volumeMounts.filter((m: any) => !apiAccess.has(m.name));
  }
  const eph = s.ephemeralContainers ?? [];
  delete s.ephemeralContainers;
  if (eph.length) {
    s.containers = [
      ...(s.containers ?? []),
      ...eph.map((e: any) => {
        const c = { ...e };
        delete c.targetContainerName;
        return c;
      }),
    ];
  }
  return s;
}
