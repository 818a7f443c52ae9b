import type { KubernetesObject } from '@kubernetes/client-node';
import type { Lesson, Fix, Catalogue } from '../lessons/loader.js';
import { loadManifests } from '../scenarios/objects.js';
import { stepsFor as resolveSteps } from '../steps/run.js';
import { resolveStepsFile } from '../steps/files.js';
import type { StepSpec } from '../steps/types.js';
import { pssNamespace } from '../checks/podSecurity.js';

/** Namespaces the lab itself uses for checks (where pod templates are dry-run at a Pod Security level). */
const LAB_NAMESPACES = [pssNamespace('baseline'), pssNamespace('restricted')];

/** The engine name whose steps/fix variants a shared cluster uses (steps.existing.yaml, else steps.yaml). */
const ENGINE = 'existing' as const;

/** Kinds with no namespace: a lesson that writes one cannot run confined to namespaces. */
export const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'APIService',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'RuntimeClass',
  'PriorityClass',
  'StorageClass',
  'CSIDriver',
  'CSINode',
  'IngressClass',
  'CertificateSigningRequest',
  'VolumeAttachment',
  'FlowSchema',
  'PriorityLevelConfiguration',
]);

/** What a lesson needs, for a shared cluster. */
export interface LessonScope {
  /** It touches only namespaced objects in its own namespaces (and reads a few Namespace objects' labels). */
  namespaced: boolean;
  /** Why not, in a few words (for `list` and `start`). */
  reason?: string;
  /** The namespaces it owns (its scenario's), plus the lab's own namespaces its checks use. */
  namespaces: string[];
  /** Other namespaces whose Namespace object (its labels) its checks read (kube-system for DNS, say). */
  labelsOf: string[];
}

/** The lab's namespaces, across every namespace-scoped lesson: what `up` creates for a learner, and what is renamed. */
export interface SharedPlan {
  lessons: Map<string, LessonScope>;
  namespaces: string[];
  labelsOf: string[];
}

class OutOfScope extends Error {}

/** The steps of a folder as the existing engine would run them, or undefined when they are not for it. */
async function stepsFor(dir: string): Promise<StepSpec[] | undefined> {
  let r: Awaited<ReturnType<typeof resolveSteps>>;
  try {
    r = await resolveSteps(dir, ENGINE);
  } catch {
    throw new OutOfScope(`${await resolveStepsFile(dir, ENGINE)} does not parse`);
  }
  return r.applies ? r.steps.steps : undefined;
}

/**
 * Compute, from the lesson's own files, whether it can run confined to its namespaces: its
 * scenario, solution and shortcuts (manifests and steps) write only namespaced objects in the
 * namespaces its scenario creates (and those Namespace objects), change no control-plane file,
 * node or kubelet, and every check that runs on a shared cluster declares a namespace scope.
 */
export async function lessonScope(lesson: Lesson): Promise<LessonScope> {
  const namespaces = new Set<string>();
  const labelsOf = new Set<string>();
  const out = (reason: string): LessonScope => ({ namespaced: false, reason, namespaces: [...namespaces].sort(), labelsOf: [...labelsOf].sort() });
  if (lesson.requires !== 'api') return out('needs the kind engine (a real node)');
  const r = lesson.reset;
  if (r.controlPlane.length || r.nodeFiles.length || r.kubelet) return out('changes the control plane or a node');
  let scenario: KubernetesObject[];
  try {
    scenario = await loadManifests(lesson.scenarioDir);
  } catch {
    return out('its scenario does not load');
  }
  for (const o of scenario) if (o.kind === 'Namespace' && o.metadata?.name) namespaces.add(o.metadata.name);
  if (!namespaces.size) return out('its scenario creates no namespace of its own');

  const own = (ns: string | undefined, what: string) => {
    if (!ns || !namespaces.has(ns)) throw new OutOfScope(`${what} ${ns ? `is in namespace ${ns}, not one of its own` : 'has no namespace'}`);
  };
  const object = (o: KubernetesObject, where: string) => {
    const what = `${where}: ${o.kind} ${o.metadata?.name ?? ''}`.trim();
    if (o.kind === 'Namespace') {
      own(o.metadata?.name, what);
      return;
    }
    if (CLUSTER_SCOPED_KINDS.has(o.kind ?? '')) throw new OutOfScope(`${what} is cluster-scoped`);
    own(o.metadata?.namespace, what);
  };
  const ref = (x: { kind: string; name: string; namespace?: string }, where: string) =>
    object({ kind: x.kind, metadata: { name: x.name, namespace: x.namespace } }, where);
  const steps = async (dir: string, where: string) => {
    const list = await stepsFor(dir);
    if (!list) return; // not run on a shared cluster
    for (const s of list) {
      const sc = await s.kind.scope?.(s.params as never, dir);
      if (sc === undefined) throw new OutOfScope(`${where}: a ${s.type} step changes a node or the control plane`);
      if (typeof sc === 'string') throw new OutOfScope(`${where}: ${sc}`);
      for (const o of sc.objects ?? []) object(o as KubernetesObject, where);
      for (const ns of sc.namespaces ?? []) own(ns, `${where}: ${s.type}`);
    }
  };
  const fix = async (f: Fix, where: string) => {
    if (f.engines && !f.engines.includes(ENGINE)) return;
    for (const o of await loadManifests(f.dir)) object(o, where);
    await steps(f.dir, where);
  };

  try {
    for (const o of scenario) object(o, 'scenario');
    await steps(lesson.scenarioDir, 'scenario');
    await fix(lesson.solution, 'solution');
    for (const s of lesson.shortcuts) await fix(s, `shortcut ${s.name}`);
    for (const o of r.objects) ref(o, 'reset');
    for (const c of lesson.checks) {
      if (c.requires !== 'api' || (c.engines && !c.engines.includes(ENGINE))) continue; // skipped on a shared cluster
      const sc = c.primitive.scope?.(c.params as never);
      if (sc === undefined) throw new OutOfScope(`check ${c.id} (${c.type}) needs the control plane or a node`);
      if (typeof sc === 'string') throw new OutOfScope(`check ${c.id} ${sc}`);
      for (const ns of sc.namespaces) {
        // The lab's own namespaces (a Pod Security level's) come with it; any other must be the lesson's.
        if (LAB_NAMESPACES.includes(ns)) namespaces.add(ns);
        else own(ns, `check ${c.id}`);
      }
      for (const ns of sc.labelsOf ?? []) if (!namespaces.has(ns)) labelsOf.add(ns);
    }
  } catch (e) {
    if (e instanceof OutOfScope) return out(e.message);
    throw e;
  }
  return { namespaced: true, namespaces: [...namespaces].sort(), labelsOf: [...labelsOf].sort() };
}

/** Every lesson's scope, and the namespaces a learner gets: those of the namespace-scoped lessons. */
export async function sharedPlan(catalogue: Catalogue): Promise<SharedPlan> {
  const lessons = new Map<string, LessonScope>();
  const namespaces = new Set<string>();
  const labelsOf = new Set<string>();
  for (const l of catalogue.lessons) {
    const s = await lessonScope(l);
    lessons.set(l.id, s);
    if (!s.namespaced) continue;
    for (const n of s.namespaces) namespaces.add(n);
    for (const n of s.labelsOf) labelsOf.add(n);
  }
  for (const n of namespaces) labelsOf.delete(n);
  return { lessons, namespaces: [...namespaces].sort(), labelsOf: [...labelsOf].sort() };
}
