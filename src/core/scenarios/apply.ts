import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { workspaceFile } from '../workspace.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { LESSON_LABEL } from '../kube/client.js';
import { LAB_ID_ANNOTATION, LEARNER_LABEL } from '../guard/guard.js';
import type { Lesson, Fix } from '../lessons/loader.js';
import { restoreComponent } from './control-plane.js';
import { UserError } from '../errors.js';
import { apiError } from '../kube/errors.js';
import { sleep } from '../fsutil.js';
import { applyObjects, labelled, loadManifests, waitDeployment, type ScenarioContext } from './objects.js';
import { runStepsOf, stepsFor } from '../steps/run.js';
import { editManifest, type ManifestEdit } from './manifest-edit.js';
import type { Component } from '../engine/index.js';
import { restoreBaseline, takeBaseline } from './baseline.js';
import { controlPlaneOf } from '../engine/index.js';

export { applyObjects, deployImage, loadManifests, waitDeployment, KUBELET_CONFIG, type ScenarioContext } from './objects.js';

/** Cluster-scoped kinds a reset sweeps by the lesson label. */
const CLUSTER_KINDS: [string, string][] = [
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding'],
  ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy'],
  ['node.k8s.io/v1', 'RuntimeClass'],
  ['scheduling.k8s.io/v1', 'PriorityClass'],
];

/** A folder's manifests as this cluster names their namespaces (P-N in a shared cluster). */
async function lessonManifests(ctx: ScenarioContext, dir: string): Promise<KubernetesObject[]> {
  return (await loadManifests(dir)).map((o) => ctx.cluster.rename.value(o));
}

/**
 * The lab images a lesson names anywhere (scenario, checks, solution, shortcuts):
 * `registry.kube-seclab.local/<name>` — except the apps it hands out, which `kube-seclab build` makes.
 */
export async function lessonImageNames(lesson: Lesson): Promise<string[]> {
  const names = new Set<string>();
  const handedOut = new Set(lesson.reset.workspaceFiles.map((f) => f.replace(/\/+$/, '').split('/').pop()!));
  for (const dir of [lesson.dir, lesson.scenarioDir]) {
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
      if (!e.isFile() || !/\.ya?ml$/.test(e.name)) continue;
      const text = await readFile(join(e.parentPath, e.name), 'utf8');
      for (const m of text.matchAll(/registry\.kube-seclab\.local\/([a-z0-9][a-z0-9-]*)/g)) if (!handedOut.has(m[1])) names.add(m[1]);
    }
  }
  return [...names].sort();
}

/** Apply a fix folder: its manifests, then the steps that apply on this engine. */
export async function applyFix(ctx: ScenarioContext, fix: Fix, lessonId: string): Promise<void> {
  await applyObjects(ctx, await lessonManifests(ctx, fix.dir), lessonId);
  await runStepsOf(ctx, fix.dir, lessonId);
}

/** The namespaces a lesson owns: those its scenario creates (as this cluster names them). */
export async function lessonNamespaces(lesson: Lesson, ctx?: ScenarioContext): Promise<string[]> {
  const names = (await loadManifests(lesson.scenarioDir)).filter((o) => o.kind === 'Namespace').map((o) => o.metadata!.name!);
  return ctx ? names.map((n) => ctx.cluster.rename.ns(n)) : names;
}

type NamespaceStatus = KubernetesObject & { status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] } };

/** How long a reset waits for a lesson namespace to finish terminating. */
const NAMESPACE_GONE_MS = 180_000;
/** How often, while it waits, it touches the namespace so the namespace controller looks again. */
const NAMESPACE_NUDGE_MS = 10_000;

/**
 * Wait until the namespaces are gone. The namespace controller retries a failed clean-up with
 * exponential back-off (up to a minute) — after an API server restart a lesson namespace can sit
 * terminating long after its content is gone. An update of a terminating namespace requeues it
 * within seconds, so the wait touches it every few seconds. Past the deadline it says what the
 * controller reports as left.
 */
export async function waitNamespacesGone(ctx: ScenarioContext, names: string[], timeoutMs = NAMESPACE_GONE_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (const name of names) {
    let nudge = Date.now() + NAMESPACE_NUDGE_MS;
    for (;;) {
      const ns = await ctx.cluster.read<NamespaceStatus>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      if (!ns) break;
      if (Date.now() > end) {
        const why = (ns.status?.conditions ?? [])
          .filter((c) => c.status === 'True' && c.message)
          .map((c) => c.message!.replace(/\s+/g, ' '))
          .join('; ');
        throw new UserError(
          `namespace ${name} is still terminating after ${Math.round(timeoutMs / 1000)} s${why ? ` (${why})` : ''}`,
          'run `kube-seclab status`; the controller-manager may be down',
        );
      }
      if (Date.now() > nudge) {
        nudge = Date.now() + NAMESPACE_NUDGE_MS;
        await ctx.cluster
          .mergePatch({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations: { 'kube-seclab.io/deletion-nudge': new Date().toISOString() } } })
          .catch(() => {});
      }
      await sleep(100);
    }
  }
}

/**
 * What the lesson's scenario steps do to each control-plane manifest (its `manifest` steps, in
 * order), as one edit per component.
 */
async function scenarioManifestEdits(ctx: ScenarioContext, lesson: Lesson): Promise<Map<Component, (manifest: string) => string>> {
  const edits = new Map<Component, ManifestEdit[]>();
  const { applies, steps } = await stepsFor(lesson.scenarioDir, ctx.engine.name);
  if (applies) {
    for (const step of steps.steps) {
      if (step.type !== 'manifest') continue;
      const { component, wait: _wait, ...edit } = step.params as ManifestEdit & { component: Component; wait?: boolean };
      edits.set(component, [...(edits.get(component) ?? []), edit]);
    }
  }
  return new Map([...edits].map(([c, list]) => [c, (m: string) => list.reduce((t, e) => editManifest(t, e), m)]));
}

async function removeClusterObjects(ctx: ScenarioContext, lesson: Lesson, scenarioEdits?: Map<Component, (manifest: string) => string>): Promise<void> {
  // Before a scenario that edits a component anyway, a manifest the edit turns into the scenario's
  // pod is left for the edit: one restart instead of two (etcd takes a minute on kind).
  for (const c of lesson.reset.controlPlane) await restoreComponent(ctx, c, scenarioEdits?.get(c));
  for (const f of lesson.reset.nodeFiles) await controlPlaneOf(ctx.engine).removeNodeFile(f);
  for (const f of lesson.reset.workspaceFiles) await rm(workspaceFile(ctx, f), { force: true, recursive: true });
  if (lesson.reset.kubelet) await ctx.engine.node?.restoreKubeletConfig();
  for (const r of lesson.reset.objects.map((x) => ctx.cluster.rename.value(x)))
    await ctx.cluster.delete({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } });
  // A shared cluster's lessons write no cluster-scoped object (and the learner may not list them).
  if (ctx.cluster.rename.active) return;
  const sel = `${LESSON_LABEL}=${lesson.id}`;
  await Promise.all(
    CLUSTER_KINDS.map(async ([apiVersion, kind]) => {
      for (const o of await ctx.cluster.list(apiVersion, kind, undefined, sel))
        await ctx.cluster.delete({ apiVersion, kind, metadata: { name: o.metadata!.name! } });
    }),
  );
  await removeWebhooksInto(ctx, await lessonNamespaces(lesson, ctx));
  // Whatever else the learner created, changed or deleted cluster-wide, under any name.
  const base = await baselineOf(ctx);
  if (base) await restoreBaseline(ctx.cluster, base);
}

/** The lab's record of the cluster-wide state before any lesson, if it has one for this very cluster. */
async function baselineOf(ctx: ScenarioContext) {
  if (!ctx.baseline || ctx.cluster.rename.active) return undefined;
  const base = await ctx.baseline.load();
  return base && base.clusterId === (await ctx.engine.labId()) ? base : undefined;
}

/**
 * Record the cluster-wide state once per cluster, before the first scenario is set up on it (lesson
 * objects the lab labels are not part of it). Taken again only on a new cluster.
 */
async function ensureBaseline(ctx: ScenarioContext): Promise<void> {
  if (!ctx.baseline || ctx.cluster.rename.active || (await baselineOf(ctx))) return;
  const clusterId = await ctx.engine.labId();
  if (!clusterId) return;
  await ctx.baseline.save(await takeBaseline(ctx.cluster, clusterId));
}

/**
 * Admission webhooks whose backend is a Service in the lesson's namespaces, whatever the learner
 * named them: a reset empties those namespaces, and a webhook left calling into them (with
 * failurePolicy Fail) would refuse the next set-up's pods — or every pod in the cluster.
 */
async function removeWebhooksInto(ctx: ScenarioContext, namespaces: string[]): Promise<void> {
  if (!namespaces.length) return;
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    let hooks: (KubernetesObject & { webhooks?: { clientConfig?: { service?: { namespace?: string } } }[] })[];
    try {
      hooks = await ctx.cluster.list('admissionregistration.k8s.io/v1', kind);
    } catch (e) {
      if (apiError(e).code === 403) continue; // credentials confined to the learner's namespaces cannot have made one either
      throw e;
    }
    for (const w of hooks) {
      if (w.webhooks?.some((h) => namespaces.includes(h.clientConfig?.service?.namespace ?? ''))) {
        await ctx.cluster.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name: w.metadata!.name! } });
      }
    }
  }
}

/** Remove everything of a lesson: its namespaces, labelled cluster objects, node files, control-plane edits. */
export async function removeLesson(ctx: ScenarioContext, lesson: Lesson): Promise<void> {
  await removeClusterObjects(ctx, lesson);
  const namespaces = await lessonNamespaces(lesson, ctx);
  // A shared cluster's namespaces are made by the instructor's `up` and stay until `down` (a learner
  // may not create namespaces): they are emptied and their labels put back instead.
  if (ctx.cluster.rename.active) {
    await Promise.all(namespaces.map((name) => restoreNamespace(ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined)));
    return;
  }
  // Emptied first, pods without a grace period: the namespace controller then finds nothing left
  // to wait for — it would come back for terminating pods only after their grace period (30 s).
  await Promise.all(
    namespaces.map(async (name) => {
      if (!(await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))) return; // one read, not a sweep's twenty calls
      await ctx.cluster.sweepNamespace(name);
      await ctx.cluster.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }),
  );
}

/**
 * Bring a lesson namespace back to exactly the scenario's: emptied in place, and its labels and
 * annotations replaced by the scenario's (a learner's `pod-security…` label goes too).
 */
async function restoreNamespace(ctx: ScenarioContext, ns: KubernetesObject, lessonId: string | undefined): Promise<void> {
  const name = ns.metadata!.name!;
  let cur = await ctx.cluster.read<KubernetesObject & { status?: { phase?: string } }>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (cur?.metadata?.deletionTimestamp) {
    await waitNamespacesGone(ctx, [name]);
    cur = undefined;
  }
  if (!cur) return;
  await ctx.cluster.sweepNamespace(name);
  const want = lessonId ? labelled(ns, lessonId) : ns;
  // A shared cluster's ownership marks on the learner's namespace stay.
  const keepLabels = Object.fromEntries(Object.entries(cur.metadata?.labels ?? {}).filter(([k]) => k === LEARNER_LABEL));
  const keepAnnotations = Object.fromEntries(Object.entries(cur.metadata?.annotations ?? {}).filter(([k]) => k === LAB_ID_ANNOTATION));
  cur.metadata!.labels = { 'kubernetes.io/metadata.name': name, ...keepLabels, ...(want.metadata?.labels ?? {}) };
  cur.metadata!.annotations = { ...keepAnnotations, ...(want.metadata?.annotations ?? {}) };
  await ctx.cluster.replace(cur);
}

/** Put a lesson's insecure scenario in place (from scratch): remove, apply manifests, run set-up steps, wait for workloads. */
export async function resetLesson(ctx: ScenarioContext, lesson: Lesson): Promise<void> {
  if (ctx.engine.node) await ctx.engine.node.prepareImages(await lessonImageNames(lesson));
  const objs = await lessonManifests(ctx, lesson.scenarioDir);
  const namespaces = () => Promise.all(objs.filter((o) => o.kind === 'Namespace').map((ns) => restoreNamespace(ctx, ns, lesson.id)));
  // Empty the lesson's namespaces first while the API server works — then whatever the lesson encrypted
  // there is gone before the control plane is put back; a broken API server is repaired first instead.
  if ((await ctx.engine.status()).healthy) {
    await ensureBaseline(ctx);
    await namespaces();
    await removeClusterObjects(ctx, lesson, ctx.engine.controlPlane ? await scenarioManifestEdits(ctx, lesson) : undefined);
  } else {
    await removeClusterObjects(ctx, lesson);
    await ensureBaseline(ctx);
    await namespaces();
  }
  await applyObjects(ctx, objs, lesson.id);
  await runStepsOf(ctx, lesson.scenarioDir, lesson.id);
  await Promise.all(objs.filter((o) => o.kind === 'Deployment').map((d) => waitDeployment(ctx, d.metadata!.namespace!, d.metadata!.name!, 30_000)));
}
