import { z } from 'zod';
import type { CheckContext } from '../checks/types.js';

const workloadShape = {
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Pod']).default('Deployment'),
  namespace: z.string(),
  name: z.string(),
};
/** An attack step's `workload:` — the workload whose running pod the attacker is in or looks at. */
export const workloadRefSchema = z.object(workloadShape).strict();
/** The same, with the `container:` of that pod the attacker has a shell in. */
export const workloadInContainerSchema = z.object({ ...workloadShape, container: z.string().optional() }).strict();

const isRunning = (p: any) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp;
const newestFirst = (a: any, b: any) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? ''));

/**
 * The running pods of a workload (a Deployment's current ReplicaSet first), newest first — what an
 * attacker with a foothold in "the app" is really in. `why` says why there is none.
 */
export async function runningPods(ctx: CheckContext, w: { kind?: string; namespace: string; name: string }): Promise<{ pods: any[]; why?: string }> {
  const kind = w.kind ?? 'Deployment';
  const what = `${kind} ${w.namespace}/${w.name}`;
  if (kind === 'Pod') {
    const pod: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: w.name, namespace: w.namespace } });
    if (!pod) return { pods: [], why: `${what} not found` };
    return isRunning(pod) ? { pods: [pod] } : { pods: [], why: `${what} is not running` };
  }
  const obj: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind, metadata: { name: w.name, namespace: w.namespace } });
  if (!obj) return { pods: [], why: `${what} is gone` };
  let owners = new Set<string>([obj.metadata.uid]);
  if (kind === 'Deployment') {
    const rs = (await ctx.cluster.list<any>('apps/v1', 'ReplicaSet', w.namespace)).filter(
      (r) => r.metadata?.ownerReferences?.some((o: any) => o.uid === obj.metadata.uid) && (r.status?.replicas ?? 0) > 0,
    );
    owners = new Set(rs.map((r) => r.metadata.uid));
  }
  const pods = (await ctx.cluster.list<any>('v1', 'Pod', w.namespace))
    .filter((p) => p.metadata?.ownerReferences?.some((o: any) => owners.has(o.uid)) && isRunning(p))
    .sort(newestFirst);
  return pods.length ? { pods } : { pods: [], why: `${what} has no running pod` };
}
