import type { KubernetesObject } from '@kubernetes/client-node';
import type { Lab } from '../lab.js';
import type { Lesson } from '../lessons/loader.js';
import { lessonNamespaces } from '../scenarios/apply.js';
import { LESSON_LABEL } from '../kube/client.js';
import { dumpNamespaces, runKubeScore } from './kubeScore.js';
import { runKubeBenchNode, runKubeBenchPolicies } from './kubeBench.js';
import type { AuditorTools } from './tools.js';
import type { AuditFinding } from './types.js';
import { CIS_CHECKS } from './catalogue.js';

const CIS_TARGET = new Map(CIS_CHECKS.map(([id, target]) => [id, target]));
export const cisTarget = (id: string) => CIS_TARGET.get(id);

/** Cluster-scoped kinds a lesson may create (by its label) that kube-bench's policies checks name. */
const CLUSTER_RBAC: [string, string][] = [
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
];

/** What a lesson owns in the cluster right now: its namespaces, and its labelled ClusterRoles/Bindings. */
export interface LessonObjects {
  namespaces: string[];
  clusterObjects: string[];
}

export async function lessonObjects(lab: Lab, lesson: Lesson): Promise<LessonObjects> {
  const cluster = await lab.cluster();
  const namespaces = await lessonNamespaces(lesson, { cluster, engine: lab.engine, workspace: lab.workspace });
  const clusterObjects: string[] = [];
  if (!cluster.rename.active) {
    for (const [apiVersion, kind] of CLUSTER_RBAC) {
      for (const o of await cluster.list<KubernetesObject>(apiVersion, kind, undefined, `${LESSON_LABEL}=${lesson.id}`))
        clusterObjects.push(`${kind} ${o.metadata!.name}`);
    }
  }
  return { namespaces, clusterObjects };
}

/**
 * Whether a finding is about this lesson: kube-score's are (it only saw the lesson's namespaces);
 * a kube-bench check of the whole node or cluster is; a policies finding naming an object is when
 * that object is in the lesson's namespaces or is one of its ClusterRoles/Bindings.
 */
export function belongsTo(f: AuditFinding, own: LessonObjects): boolean {
  if (f.tool === 'kube-score' || !f.object) return true;
  if (/^Cluster(Role|RoleBinding) /.test(f.object)) return own.clusterObjects.includes(f.object);
  const ns = f.object.split('/')[0];
  return own.namespaces.includes(ns);
}

export interface Snapshot {
  /** kube-score on the lesson's namespaces. */
  kubeScore: AuditFinding[];
  /** kube-bench: node targets (where the engine has a node) and policies, filtered to the lesson. */
  kubeBench: AuditFinding[];
  /** Why a part did not run (the existing engine has no node of the lab's). */
  notes: string[];
  objects: number;
  durationMs: number;
}

/**
 * Run both auditors on the cluster as it is now, and keep what concerns the lesson. `benchChecks`:
 * the CIS ids to run (undefined: all of them; empty: kube-bench is not run).
 */
export async function auditSnapshot(lab: Lab, lesson: Lesson, tools: AuditorTools, opts: { benchChecks?: readonly string[] } = {}): Promise<Snapshot> {
  const t0 = performance.now();
  const own = await lessonObjects(lab, lesson);
  const cluster = await lab.cluster();
  const dump = await dumpNamespaces(cluster, own.namespaces);
  const kubeScore = await runKubeScore(tools.kubeScore, dump.yaml);
  const kubeBench: AuditFinding[] = [];
  const notes: string[] = [];
  const want = opts.benchChecks;
  const nodeChecks = want?.filter((id) => cisTarget(id) !== 'policies');
  const policyChecks = want?.filter((id) => cisTarget(id) === 'policies');
  if (!nodeChecks || nodeChecks.length) {
    if (lab.engine.controlPlane) {
      const host = await lab.engine.controlPlane.nodeAuditHost();
      try {
        kubeBench.push(...(await runKubeBenchNode(tools.kubeBench, host, nodeChecks)));
      } finally {
        await host.dispose();
      }
    } else {
      notes.push(`kube-bench's node checks need the lab's own control-plane node (the ${lab.engine.name} engine has none)`);
    }
  }
  if (!policyChecks || policyChecks.length) {
    if (!cluster.rename.active)
      kubeBench.push(...(await runKubeBenchPolicies(tools.kubeBench, lab.paths.kubeconfig, lab.env, policyChecks)).filter((f) => belongsTo(f, own)));
    else notes.push("kube-bench's policies checks read the whole cluster, which a shared cluster's learner may not");
  }
  return { kubeScore, kubeBench, notes, objects: dump.objects, durationMs: Math.round(performance.now() - t0) };
}
