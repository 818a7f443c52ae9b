import type { KubernetesObject } from '@kubernetes/client-node';
import type { GenericShortcut, ShortcutTemplate, BatteryInput, Undo } from './types.js';
import type { ScenarioContext } from '../scenarios/apply.js';
import { sleep } from '../fsutil.js';
import { COPY_LABEL } from './workloads.js';

/** The namespaces whose every pod a lesson's checks hold to a Pod Security level (podSecurity without a named workload). */
export function judgedNamespaces(input: BatteryInput): string[] {
  const out = new Set<string>();
  for (const c of input.lesson.checks) {
    const p = c.params as { namespace?: string; name?: string };
    if (c.type === 'podSecurity' && !p.name && p.namespace) out.add(p.namespace);
  }
  return [...out];
}

/** An image the namespace's scenario workloads run (present on every engine), else the toolbox. */
function imageIn(input: BatteryInput, ns: string): string {
  for (const o of input.unsolved as any[]) {
    if (o.metadata?.namespace !== ns) continue;
    const img = o.spec?.template?.spec?.containers?.[0]?.image;
    if (img) return img;
  }
  return 'registry.kube-seclab.local/toolbox:1.0';
}

const PSS = 'pod-security.kubernetes.io/';

/**
 * Lift a namespace's Pod Security labels while `fn` runs (what a learner does who labels the
 * namespace only after creating something), then put them back exactly.
 */
async function withoutPodSecurity<T>(ctx: ScenarioContext, ns: string, fn: () => Promise<T>): Promise<T> {
  const live: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const pss = Object.fromEntries(Object.entries(live?.metadata?.labels ?? {}).filter(([k]) => k.startsWith(PSS)));
  const patch = (labels: Record<string, string | null>) =>
    ctx.cluster.mergePatch({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } } as KubernetesObject);
  if (Object.keys(pss).length) await patch(Object.fromEntries(Object.keys(pss).map((k) => [k, null])));
  try {
    return await fn();
  } finally {
    if (Object.keys(pss).length) await patch(pss as Record<string, string>);
  }
}

const podRef = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns } });

async function deletePodAndWait(ctx: ScenarioContext, ns: string, name: string): Promise<void> {
  await ctx.cluster.delete(podRef(ns, name));
  const end = Date.now() + 30_000;
  while (Date.now() < end && (await ctx.cluster.read(podRef(ns, name)))) await sleep(200);
}

/** Wait until every Deployment of the namespace has rolled out again (after one of its pods was deleted). */
async function deploymentsReady(ctx: ScenarioContext, ns: string): Promise<void> {
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    const ds = await ctx.cluster.list<any>('apps/v1', 'Deployment', ns);
    if (ds.every((d) => (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) && (d.status?.replicas ?? 0) <= (d.spec?.replicas ?? 1))) return;
    await sleep(250);
  }
}

/**
 * A privileged, hostPID pod spec made from a live pod of the namespace (so it still asks for what
 * the namespace's other rules require — a runtime class, say — and only Pod Security is broken).
 */
async function privilegedSpec(ctx: ScenarioContext, input: BatteryInput, ns: string): Promise<any> {
  const pods = (await ctx.cluster.list<any>('v1', 'Pod', ctx.cluster.rename.ns(ns))).filter(
    (p) => !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.length,
  );
  const spec: any = pods[0] ? structuredClone(pods[0].spec) : { containers: [{ name: 'shell', image: imageIn(input, ns) }] };
  for (const k of ['nodeName', 'ephemeralContainers', 'serviceAccount', 'priority', 'preemptionPolicy']) delete spec[k];
  const token = new Set((spec.volumes ?? []).filter((v: any) => /^kube-api-access-/.test(v.name)).map((v: any) => v.name));
  spec.volumes = (spec.volumes ?? []).filter((v: any) => !token.has(v.name));
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) c.volumeMounts = (c.volumeMounts ?? []).filter((m: any) => !token.has(m.name));
  spec.hostPID = true;
  spec.containers[0].securityContext = { ...spec.containers[0].securityContext, privileged: true, allowPrivilegeEscalation: true };
  delete spec.containers[0].securityContext.capabilities;
  return spec;
}

export const privilegedPod: ShortcutTemplate = {
  id: 'privileged-pod',
  description: 'the fix, and a privileged bare pod (no controller) created before the namespace was labelled — labels do not evict it',
  instances: (input) =>
    judgedNamespaces(input).map((ns): GenericShortcut => ({
      template: 'privileged-pod',
      name: `privileged-pod ${ns}`,
      description: `a privileged, hostPID pod created directly in ${ns} while it had no Pod Security labels, still running after they are back`,
      async apply(ctx): Promise<Undo> {
        const name = 'battery-privileged';
        const n = ctx.cluster.rename.ns(ns);
        await withoutPodSecurity(ctx, n, async () => {
          const spec = await privilegedSpec(ctx, input, ns);
          await ctx.cluster.create({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: n, labels: { [COPY_LABEL]: name } },
            spec,
          } as KubernetesObject);
        });
        return () => deletePodAndWait(ctx, n, name);
      },
    })),
};

export const insecureCronJob: ShortcutTemplate = {
  id: 'insecure-cronjob',
  description: 'the fix, and a CronJob whose pod template is privileged (Pod Security only warns about workload objects)',
  instances: (input) =>
    judgedNamespaces(input).map((ns): GenericShortcut => ({
      template: 'insecure-cronjob',
      name: `insecure-cronjob ${ns}`,
      description: `a CronJob in ${ns} whose pods would run privileged in the node's process namespace`,
      async apply(ctx): Promise<Undo> {
        const n = ctx.cluster.rename.ns(ns);
        const { restartPolicy: _r, ...spec } = await privilegedSpec(ctx, input, ns);
        const cj = {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: { name: 'battery-cronjob', namespace: n },
          spec: {
            schedule: '0 0 1 1 *',
            jobTemplate: { spec: { template: { metadata: { labels: { [COPY_LABEL]: 'battery-cronjob' } }, spec: { ...spec, restartPolicy: 'Never' } } } },
          },
        };
        await ctx.cluster.create(cj as KubernetesObject);
        return async () => {
          await ctx.cluster.delete({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'battery-cronjob', namespace: n } });
        };
      },
    })),
};

export const privilegedEphemeral: ShortcutTemplate = {
  id: 'privileged-ephemeral',
  description: 'the fix, and a privileged ephemeral container (kubectl debug --profile=sysadmin) added to a running pod while the labels were lifted',
  instances: (input) =>
    judgedNamespaces(input).map((ns): GenericShortcut => ({
      template: 'privileged-ephemeral',
      name: `privileged-ephemeral ${ns}`,
      description: `a privileged ephemeral container added to a running pod of ${ns}`,
      async apply(ctx): Promise<Undo> {
        const n = ctx.cluster.rename.ns(ns);
        const pods = (await ctx.cluster.list<any>('v1', 'Pod', n)).filter(
          (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.length,
        );
        const pod = pods[0];
        if (!pod) throw new Error(`no running pod with a controller in ${n} to debug`);
        await withoutPodSecurity(ctx, n, async () => {
          const live = await ctx.cluster.core.readNamespacedPod({ name: pod.metadata.name, namespace: n });
          live.spec!.ephemeralContainers = [
            ...(live.spec!.ephemeralContainers ?? []),
            { name: 'battery-debug', image: imageIn(input, ns), securityContext: { privileged: true } } as any,
          ];
          await ctx.cluster.guard.ensureWrite({ kind: 'Pod', metadata: { name: pod.metadata.name, namespace: n } });
          await ctx.cluster.core.replaceNamespacedPodEphemeralcontainers({ name: pod.metadata.name, namespace: n, body: live });
        });
        // An ephemeral container cannot be removed: the pod goes, and its controller makes a new one.
        return async () => {
          await deletePodAndWait(ctx, n, pod.metadata.name);
          await deploymentsReady(ctx, n);
        };
      },
    })),
};
