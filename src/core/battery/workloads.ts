import type { KubernetesObject } from '@kubernetes/client-node';
import type { GenericShortcut, ShortcutTemplate, BatteryInput, Undo } from './types.js';
import type { ScenarioContext } from '../scenarios/apply.js';
import { applyObjects } from '../scenarios/apply.js';
import { UserError } from '../errors.js';
import { sleep } from '../fsutil.js';

/** Label that keeps a generic shortcut's extra workload apart from the one it copies (selector and pods). */
export const COPY_LABEL = 'kube-seclab.dev/battery-copy';

interface WorkloadRef {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
}

/** The workloads a lesson's `workload` checks keep alive (what "deleting it is never a fix" is about). */
export function checkedWorkloads(input: BatteryInput): WorkloadRef[] {
  const seen = new Map<string, WorkloadRef>();
  for (const c of input.lesson.checks) {
    if (c.type !== 'workload') continue;
    const p = c.params as { kind?: string; namespace: string; name: string };
    const kind = p.kind ?? 'Deployment';
    if (kind !== 'Deployment' && kind !== 'StatefulSet') continue;
    seen.set(`${kind}/${p.namespace}/${p.name}`, { kind, namespace: p.namespace, name: p.name });
  }
  return [...seen.values()];
}

const ref = (w: WorkloadRef, name = w.name) => ({ apiVersion: 'apps/v1', kind: w.kind, metadata: { name, namespace: w.namespace } });

/** A live object as it could be created again: no server-set fields, no status. */
export function recreatable<T extends KubernetesObject>(o: T): T {
  const c: any = structuredClone(o);
  delete c.status;
  for (const k of [
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'managedFields',
    'selfLink',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'ownerReferences',
  ])
    delete c.metadata?.[k];
  if (c.metadata?.annotations) {
    delete c.metadata.annotations['deployment.kubernetes.io/revision'];
    delete c.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
  return c;
}

async function readLive(ctx: ScenarioContext, w: WorkloadRef, name = w.name): Promise<KubernetesObject> {
  const o = await ctx.cluster.read(ref(w, name));
  if (!o) throw new UserError(`${w.kind} ${w.namespace}/${name} is not there to take a shortcut with`);
  return o;
}

/** Delete a workload and its pods at once (no grace period: the next step judges what is left). */
export async function deleteNow(ctx: ScenarioContext, w: WorkloadRef, name = w.name): Promise<void> {
  const live: any = await ctx.cluster.read(ref(w, name));
  if (!live) return;
  await ctx.cluster.delete(ref(w, name), 'Background');
  const match: Record<string, string> = live.spec?.selector?.matchLabels ?? {};
  if (!Object.keys(match).length) return;
  // Its pods only: a copy's pods carry its own label; the original's pods do not.
  const sel = [...Object.entries(match).map(([k, v]) => `${k}=${v}`), ...(COPY_LABEL in match ? [] : [`!${COPY_LABEL}`])].join(',');
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    const left = await ctx.cluster.list<any>('v1', 'Pod', w.namespace, sel);
    if (!left.length) return;
    await Promise.all(left.map((p) => ctx.cluster.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata.name, namespace: w.namespace } })));
    await sleep(200);
  }
}

/**
 * Wait until a workload runs its current template — or until it cannot: admission refusing its pods
 * (a ReplicaFailure condition, a StatefulSet's FailedCreate) is a settled state too.
 */
async function waitRolledOut(ctx: ScenarioContext, w: WorkloadRef, name = w.name): Promise<void> {
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    const o: any = await ctx.cluster.read(ref(w, name));
    if (!o) return;
    const want = o.spec?.replicas ?? 1;
    const st = o.status ?? {};
    const current = (st.observedGeneration ?? 0) >= (o.metadata?.generation ?? 0);
    if (current && (st.readyReplicas ?? 0) >= want && (w.kind !== 'Deployment' || ((st.updatedReplicas ?? 0) >= want && (st.replicas ?? 0) <= want))) return;
    if ((st.conditions ?? []).some((c: any) => c.type === 'ReplicaFailure' && c.status === 'True')) return;
    if (w.kind === 'StatefulSet' && (await refusedPods(ctx, w.namespace, o.metadata?.uid))) return;
    await sleep(200);
  }
}

/** Whether the controller of these pods reported that it could not create them (an admission refusal). */
async function refusedPods(ctx: ScenarioContext, namespace: string, uid?: string): Promise<boolean> {
  if (!uid) return false;
  const events = await ctx.cluster.list<any>('v1', 'Event', namespace);
  return events.some((e) => e.involvedObject?.uid === uid && e.reason === 'FailedCreate');
}

/** Re-create a workload from a snapshot and wait until it runs. */
async function restore(ctx: ScenarioContext, w: WorkloadRef, snapshot: KubernetesObject, lessonId: string): Promise<void> {
  const cur = await ctx.cluster.read(ref(w, snapshot.metadata!.name!));
  if (cur)
    await ctx.cluster.replace({ ...recreatable(snapshot), metadata: { ...recreatable(snapshot).metadata, resourceVersion: cur.metadata!.resourceVersion } });
  else await applyObjects(ctx, [recreatable(snapshot)], lessonId);
  await waitRolledOut(ctx, w, snapshot.metadata!.name!);
}

/** A copy of a workload under another name, with a label of its own in its selector and pods. */
export function renamedCopy(o: KubernetesObject, name: string): KubernetesObject {
  const c: any = recreatable(o);
  c.metadata.name = name;
  c.metadata.labels = { ...(c.metadata.labels ?? {}), [COPY_LABEL]: name };
  if (c.spec?.selector?.matchLabels) c.spec.selector.matchLabels = { ...c.spec.selector.matchLabels, [COPY_LABEL]: name };
  if (c.spec?.template?.metadata) c.spec.template.metadata.labels = { ...(c.spec.template.metadata.labels ?? {}), [COPY_LABEL]: name };
  return c;
}

/** The unsolved version of a workload: the live object right after the scenario was set up. */
function unsolvedOf(input: BatteryInput, w: WorkloadRef): KubernetesObject | undefined {
  return input.unsolved.find((o) => o.kind === w.kind && o.metadata?.namespace === w.namespace && o.metadata?.name === w.name);
}

const label = (w: WorkloadRef) => `${w.namespace}/${w.name}`;

/** The workload where it lives on this cluster (a shared cluster prefixes the lesson's namespaces). */
const live = (ctx: ScenarioContext, w: WorkloadRef): WorkloadRef => ({ ...w, namespace: ctx.cluster.rename.ns(w.namespace) });

export const scaleToZero: ShortcutTemplate = {
  id: 'scale-to-zero',
  description: 'the fix, then the workload scaled to zero replicas (nothing runs, so nothing is exposed)',
  instances: (input) =>
    checkedWorkloads(input).map((w0): GenericShortcut => ({
      template: 'scale-to-zero',
      name: `scale-to-zero ${label(w0)}`,
      description: `${w0.kind} ${label(w0)} scaled to 0 after the fix`,
      async apply(ctx): Promise<Undo> {
        const w = live(ctx, w0);
        const live0: any = await readLive(ctx, w);
        const replicas = live0.spec?.replicas ?? 1;
        await ctx.cluster.mergePatch({ ...ref(w), spec: { replicas: 0 } } as KubernetesObject);
        return async () => {
          await ctx.cluster.mergePatch({ ...ref(w), spec: { replicas } } as KubernetesObject);
          await waitRolledOut(ctx, w);
        };
      },
    })),
};

export const deleteWorkload: ShortcutTemplate = {
  id: 'delete-workload',
  description: 'the fix, then the workload deleted',
  instances: (input) =>
    checkedWorkloads(input).map((w0): GenericShortcut => ({
      template: 'delete-workload',
      name: `delete ${label(w0)}`,
      description: `${w0.kind} ${label(w0)} deleted after the fix`,
      async apply(ctx): Promise<Undo> {
        const w = live(ctx, w0);
        const snapshot = await readLive(ctx, w);
        await deleteNow(ctx, w);
        return () => restore(ctx, w, snapshot, input.lesson.id);
      },
    })),
};

export const recreateUnfixed: ShortcutTemplate = {
  id: 'recreate-unfixed',
  description: 'the fixed workload deleted and its insecure original re-created under another name',
  instances: (input) =>
    checkedWorkloads(input)
      .filter((w) => unsolvedOf(input, w))
      .map((w0): GenericShortcut => ({
        template: 'recreate-unfixed',
        name: `recreate-unfixed ${label(w0)}`,
        description: `${w0.kind} ${label(w0)} deleted, the scenario's insecure version re-created as ${w0.name}-v2`,
        async apply(ctx): Promise<Undo> {
          const w = live(ctx, w0);
          const snapshot = await readLive(ctx, w);
          const copy = renamedCopy(ctx.cluster.rename.value(unsolvedOf(input, w0)!), `${w.name}-v2`);
          await deleteNow(ctx, w);
          await applyObjects(ctx, [copy], input.lesson.id);
          await waitRolledOut(ctx, w, copy.metadata!.name!);
          return async () => {
            await deleteNow(ctx, w, copy.metadata!.name!);
            await restore(ctx, w, snapshot, input.lesson.id);
          };
        },
      })),
};

export const insecureSibling: ShortcutTemplate = {
  id: 'insecure-sibling',
  optIn: true,
  description: 'the fix kept, and the insecure original added next to it under another name',
  instances: (input) =>
    checkedWorkloads(input)
      .filter((w) => unsolvedOf(input, w))
      .map((w0): GenericShortcut => ({
        template: 'insecure-sibling',
        name: `insecure-sibling ${label(w0)}`,
        description: `the fixed ${w0.kind} ${label(w0)} kept, the scenario's insecure version added as ${w0.name}-sibling`,
        async apply(ctx): Promise<Undo> {
          const w = live(ctx, w0);
          const copy = renamedCopy(ctx.cluster.rename.value(unsolvedOf(input, w0)!), `${w.name}-sibling`);
          await applyObjects(ctx, [copy], input.lesson.id);
          await waitRolledOut(ctx, w, copy.metadata!.name!);
          return () => deleteNow(ctx, w, copy.metadata!.name!);
        },
      })),
};
