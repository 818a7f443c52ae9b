import { stringify } from 'yaml';
import { execa } from 'execa';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LabCluster } from '../kube/client.js';
import { UserError } from '../errors.js';
import type { AuditFinding } from './types.js';
import { KUBE_SCORE_OPTIONAL_ENABLED } from './catalogue.js';

/**
 * kube-score, run on what the live API server holds in a lesson's namespaces: every kind kube-score
 * scores or relates to another (a Service to its pods, a NetworkPolicy to its pods, a PDB to its
 * Deployment), dumped as YAML with the server-side bookkeeping stripped.
 */

/** [apiVersion, kind] kube-score reads. Pods, ReplicaSets and Jobs only when nothing owns them (their owner is scored instead). */
export const SCORED_KINDS: readonly (readonly [string, string])[] = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['apps/v1', 'ReplicaSet'],
  ['batch/v1', 'Job'],
  ['batch/v1', 'CronJob'],
  ['v1', 'Pod'],
  ['v1', 'Service'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
];
const OWNED_SKIPPED = new Set(['Pod', 'ReplicaSet', 'Job']);

/**
 * kube-score's flags: the lab's Kubernetes minor; the optional seccomp check on (a Pod Security
 * "restricted" requirement the lessons teach); annotations on the objects cannot switch checks off
 * or on (an auditor the audited objects can silence is no auditor).
 */
export const KUBE_SCORE_ARGS = [
  'score',
  '-o',
  'json',
  '--output-version',
  'v2',
  '--color',
  'never',
  '--kubernetes-version',
  'v1.36',
  ...KUBE_SCORE_OPTIONAL_ENABLED.flatMap((t) => ['--enable-optional-test', t]),
  '--disable-ignore-checks-annotations',
  '--disable-optional-checks-annotations',
  '-',
];

/** An object as kube-score should see it: what the API server stores, minus its bookkeeping. */
export function stripServerFields(o: KubernetesObject): KubernetesObject {
  const { status: _s, ...rest } = o as KubernetesObject & { status?: unknown };
  const m = { ...(o.metadata ?? {}) };
  for (const k of [
    'managedFields',
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'selfLink',
    'ownerReferences',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
  ] as const)
    delete (m as Record<string, unknown>)[k];
  if (m.annotations) {
    const a = { ...m.annotations };
    delete a['kubectl.kubernetes.io/last-applied-configuration'];
    delete a['deployment.kubernetes.io/revision'];
    m.annotations = Object.keys(a).length ? a : undefined;
    if (!m.annotations) delete m.annotations;
  }
  return { ...rest, metadata: m };
}

/** Every scored object of these namespaces, as one multi-document YAML stream. */
export async function dumpNamespaces(cluster: LabCluster, namespaces: string[]): Promise<{ yaml: string; objects: number }> {
  const docs: KubernetesObject[] = [];
  for (const ns of namespaces) {
    for (const [apiVersion, kind] of SCORED_KINDS) {
      const items = await cluster.list(apiVersion, kind, ns);
      for (const o of items) {
        if (OWNED_SKIPPED.has(kind) && o.metadata?.ownerReferences?.length) continue;
        docs.push(stripServerFields(o));
      }
    }
  }
  docs.sort((a, b) => `${a.kind}/${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.namespace}/${b.metadata?.name}`));
  return { yaml: docs.map((d) => stringify(d)).join('---\n'), objects: docs.length };
}

interface ScoreCheck {
  check: { id: string; name: string; optional?: boolean };
  grade: number;
  skipped: boolean;
  comments: { path?: string; summary?: string; description?: string }[] | null;
}
interface ScoredObject {
  object_name: string;
  type_meta: { kind: string; apiVersion: string };
  object_meta: { name: string; namespace?: string };
  checks: ScoreCheck[];
}

/** kube-score's grades (scorecard.Grade): 1 critical, 5 warning, 7 almost OK, 10 OK. */
function severity(grade: number): AuditFinding['status'] {
  return grade <= 1 ? 'CRITICAL' : 'WARNING';
}

/** `kube-score score -o json` (v2) → one finding per check and object it was not skipped on (raised: graded below OK). */
export function parseKubeScore(json: string): AuditFinding[] {
  let objs: ScoredObject[];
  try {
    objs = JSON.parse(json) as ScoredObject[];
  } catch (e) {
    throw new UserError(`kube-score printed no JSON (${(e as Error).message})`, 'run it by hand: `kube-score score -o json FILE`');
  }
  if (!Array.isArray(objs))
    throw new UserError('kube-score printed JSON of an unknown shape (expected a list of objects)', `check its version (${'kube-score version'})`);
  const out: AuditFinding[] = [];
  for (const o of objs) {
    const object = `${o.type_meta.kind} ${o.object_meta.namespace ? `${o.object_meta.namespace}/` : ''}${o.object_meta.name}`;
    for (const c of o.checks ?? []) {
      if (c.skipped) continue;
      if (c.grade >= 10) {
        out.push({ tool: 'kube-score', id: c.check.id, object, status: 'OK', raised: false, detail: c.check.name });
        continue;
      }
      const comments = (c.comments ?? []).map((x) => `${x.path ? `(${x.path}) ` : ''}${x.summary ?? ''}`.trim()).filter(Boolean);
      out.push({ tool: 'kube-score', id: c.check.id, object, status: severity(c.grade), raised: true, detail: comments.join('; ') || c.check.name });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id) || (a.object ?? '').localeCompare(b.object ?? ''));
}

/** Run kube-score on a YAML stream; kube-score exits 1 when it found something, which is not an error here. */
export async function runKubeScore(binary: string, yaml: string): Promise<AuditFinding[]> {
  if (!yaml.trim()) return [];
  const r = await execa(binary, KUBE_SCORE_ARGS, { input: yaml, reject: false, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.exitCode !== 0 && r.exitCode !== 1) {
    throw new UserError(
      `kube-score failed (exit ${r.exitCode ?? r.signal}): ${String(r.stderr || r.stdout)
        .trim()
        .split('\n')
        .pop()}`,
      `run it by hand: \`${binary} ${KUBE_SCORE_ARGS.join(' ')} < objects.yaml\``,
    );
  }
  return parseKubeScore(String(r.stdout));
}
