import { z } from 'zod';
import type { CheckPrimitive } from './types.js';
import { notACheckPod } from './watch.js';

const schema = z
  .object({
    kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'),
    namespace: z.string(),
    name: z.string(),
    /** At least this many ready replicas (default: 1, and all desired replicas). */
    minReady: z.number().int().min(1).optional(),
    /** The image (or a prefix/substring of it) every container must still run. */
    image: z.string().optional(),
  })
  .strict();
type P = z.infer<typeof schema>;

/** The standard anti-shortcut guard: the workload still exists, runs its intended image, and is ready. */
export const workload: CheckPrimitive<P> = {
  type: 'workload',
  schema,
  watches: (p) => [
    { apiVersion: 'apps/v1', kind: p.kind, namespace: p.namespace },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
  ],
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const name = `${p.kind} ${p.namespace}/${p.name}`;
    const obj: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: p.kind, metadata: { name: p.name, namespace: p.namespace } });
    if (!obj) return { passed: false, message: `${name} is gone — deleting the workload is not a fix` };
    const containers: any[] = obj.spec?.template?.spec?.containers ?? [];
    if (p.image) {
      const wrong = containers.find((c) => !String(c.image).includes(p.image!));
      if (wrong) return { passed: false, message: `${name} runs ${wrong.image} in container ${wrong.name}, expected ${p.image}` };
    }
    const st = obj.status ?? {};
    if (p.kind === 'DaemonSet') {
      const ready = st.numberReady ?? 0;
      const want = Math.max(p.minReady ?? 1, st.desiredNumberScheduled ?? 1);
      return ready >= want
        ? { passed: true, message: `${name} is ready (${ready}/${want})` }
        : { passed: false, message: `${name} has ${ready}/${want} pods ready` };
    }
    const desired = obj.spec?.replicas ?? 1;
    const need = Math.max(p.minReady ?? 1, 1);
    if (desired < need)
      return { passed: false, message: `${name} is scaled to ${desired} — it must keep serving (at least ${need} replica${need > 1 ? 's' : ''})` };
    const ready = st.readyReplicas ?? 0;
    const updated = st.updatedReplicas ?? 0;
    const gen = (st.observedGeneration ?? 0) >= (obj.metadata?.generation ?? 0);
    if (ready >= desired && updated >= desired && gen && (st.replicas ?? 0) <= desired) {
      return { passed: true, message: `${name} is ready (${ready}/${desired})` };
    }
    const why = await whyNotReady(ctx, p.namespace, obj);
    return { passed: false, message: `${name} has ${ready}/${desired} ready replicas${why ? `: ${why}` : ''}` };
  },
};

/** The most useful reason a rollout is stuck: a ReplicaSet's FailedCreate (admission!) or a pod's state. */
async function whyNotReady(ctx: Parameters<CheckPrimitive['run']>[0], ns: string, dep: any): Promise<string | undefined> {
  try {
    const rsList: any[] = await ctx.cluster.list('apps/v1', 'ReplicaSet', ns);
    const mine = rsList.filter((rs) => rs.metadata?.ownerReferences?.some((o: any) => o.uid === dep.metadata?.uid));
    for (const rs of mine) {
      const fc = rs.status?.conditions?.find((c: any) => c.type === 'ReplicaFailure' && c.status === 'True');
      if (fc?.message) return fc.message.split('\n')[0].slice(0, 300);
    }
    const stuck = await stuckPod(ctx, ns, dep);
    if (stuck) return stuck;
    const cond = dep.status?.conditions?.find((c: any) => c.type === 'Progressing' && c.status === 'False');
    if (cond?.message) return cond.message;
  } catch {
    /* best effort */
  }
  return 'its rollout is in progress';
}

/** A pod of the workload that is not coming up and why, in the kubelet's words (CrashLoopBackOff and the app's last line, ImagePullBackOff, …). */
export async function stuckPod(ctx: Parameters<CheckPrimitive['run']>[0], ns: string, dep: any): Promise<string | undefined> {
  const sel = Object.entries(dep.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (!sel) return undefined;
  const pods = (await ctx.cluster.core.listNamespacedPod({ namespace: ns, labelSelector: sel })).items.filter(
    (p) => !p.metadata?.deletionTimestamp && notACheckPod(p),
  );
  for (const p of pods) {
    for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
      const waiting = c.state?.waiting ?? (c.state?.terminated && c.restartCount > 0 ? { reason: 'CrashLoopBackOff', message: undefined } : undefined);
      if (!waiting?.reason || ['ContainerCreating', 'PodInitializing'].includes(waiting.reason)) continue;
      let detail = waiting.message?.split('\n')[0];
      if (waiting.reason === 'CrashLoopBackOff') {
        const log = await ctx.cluster.core
          .readNamespacedPodLog({ name: p.metadata!.name!, namespace: ns, container: c.name, previous: !c.state?.terminated, tailLines: 3 })
          .catch(() => '');
        const last = String(log).trim().split('\n').filter(Boolean).pop();
        const code = (c.state?.terminated ?? c.lastState?.terminated)?.exitCode;
        detail = `${code !== undefined ? `exit ${code}` : 'it exits'}${last ? `: ${last.slice(0, 200)}` : ''}`;
      }
      return `pod ${p.metadata?.name}: container ${c.name} is ${waiting.reason}${detail ? ` (${detail.slice(0, 240)})` : ''}`;
    }
  }
  return undefined;
}
