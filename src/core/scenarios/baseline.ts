/**
 * What exists outside the lessons' namespaces before a lesson is set up — cluster-wide RBAC,
 * admission policies and webhooks, runtime and priority classes, the system namespaces' Roles and
 * bindings — recorded once on a cluster the lab made, and put back by
 * every reset and removal: whatever the learner created goes (whatever its name), whatever they
 * changed or deleted comes back. Only one lesson's scenario is in the cluster at a time (`start`
 * removes the previous one), so everything that differs from the baseline is that lesson's.
 *
 * Objects the lab labels as its own (a lesson's scenario, a check's probe, an attack's pod) are
 * left to the sweeps that know them.
 */
import { readFile, rename, rm } from 'node:fs/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { writeFileAtomic } from '../fsutil.js';
import { apiError } from '../kube/errors.js';
import { UserError } from '../errors.js';
import type { LabCluster } from '../kube/client.js';

interface BaselineKind {
  apiVersion: string;
  kind: string;
  /** Namespaced kinds: only in these namespaces (the lessons' own are emptied by their sweep). */
  namespaces?: string[];
}

const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'default'];
const RBAC = 'rbac.authorization.k8s.io/v1';
const ADMISSION = 'admissionregistration.k8s.io/v1';

/** In the order they are deleted: what grants or enforces before what it refers to. */
export const BASELINE_KINDS: readonly BaselineKind[] = [
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicyBinding' },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicy' },
  { apiVersion: ADMISSION, kind: 'MutatingAdmissionPolicyBinding' },
  { apiVersion: ADMISSION, kind: 'MutatingAdmissionPolicy' },
  { apiVersion: ADMISSION, kind: 'ValidatingWebhookConfiguration' },
  { apiVersion: ADMISSION, kind: 'MutatingWebhookConfiguration' },
  { apiVersion: RBAC, kind: 'ClusterRoleBinding' },
  { apiVersion: RBAC, kind: 'RoleBinding', namespaces: SYSTEM_NAMESPACES },
  { apiVersion: RBAC, kind: 'ClusterRole' },
  { apiVersion: RBAC, kind: 'Role', namespaces: SYSTEM_NAMESPACES },
  { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass' },
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass' },
];

const recordSchema = z.object({
  version: z.literal(1),
  /** The cluster it was taken on (the lab id of its ownership marker): a new cluster gets a new baseline. */
  clusterId: z.string(),
  takenAt: z.string(),
  /** `kind/namespace/name` → the object as it was (metadata trimmed to name, namespace, labels, annotations). */
  objects: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export type BaselineRecord = z.infer<typeof recordSchema>;

/** Where the lab keeps its baseline (a file in the lab's data folder). */
export interface BaselineStore {
  load(): Promise<BaselineRecord | undefined>;
  save(b: BaselineRecord): Promise<void>;
  clear(): Promise<void>;
}

/**
 * A JSON file. One that cannot be read or does not fit the schema (a directory in its place, wrong
 * types) is moved aside as `.corrupt-<time>` and counts as none — a new record is taken, nothing lost.
 */
export function fileBaselineStore(path: string): BaselineStore {
  const aside = async (why: string) => {
    const to = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      await rename(path, to);
    } catch (e) {
      throw new UserError(
        `cannot read or move aside the lab's baseline ${path} (${why}): ${(e as Error).message}`,
        `remove it (\`rm -r ${path}\`) and run the command again`,
      );
    }
  };
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        await aside((e as NodeJS.ErrnoException).code ?? 'unreadable');
        return undefined;
      }
      let parsed: ReturnType<typeof recordSchema.safeParse> | undefined;
      try {
        parsed = recordSchema.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) return parsed.data;
      await aside('not a baseline record');
      return undefined;
    },
    save: (b) => writeFileAtomic(path, JSON.stringify(b)),
    clear: () => rm(path, { force: true }),
  };
}

const key = (o: KubernetesObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

/** Labelled by the lab (a lesson's scenario object, a check's or an attack's, a shared cluster's learner marks). */
function labs(o: KubernetesObject): boolean {
  const labels = o.metadata?.labels ?? {};
  return Object.keys(labels).some((k) => k.startsWith('kube-seclab.dev/')) || labels['app.kubernetes.io/managed-by'] === 'kube-seclab';
}

/** What the baseline keeps of an object: what it grants or enforces, its labels and annotations. */
function trimmed(o: KubernetesObject): Record<string, unknown> {
  const { metadata, status: _status, ...rest } = o as KubernetesObject & { status?: unknown };
  const meta: Record<string, unknown> = { name: metadata?.name };
  if (metadata?.namespace) meta.namespace = metadata.namespace;
  if (metadata?.labels && Object.keys(metadata.labels).length) meta.labels = metadata.labels;
  if (metadata?.annotations && Object.keys(metadata.annotations).length) meta.annotations = metadata.annotations;
  return { ...rest, metadata: meta };
}

/** Stable text of what matters for equality; an aggregated ClusterRole's rules are the controller's. */
function fingerprint(o: Record<string, unknown>): string {
  const body: Record<string, unknown> = { ...o };
  if (body.kind === 'ClusterRole' && body.aggregationRule) delete body.rules;
  return stable(body);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Every object of the baseline's kinds; kinds this API server does not serve are skipped. */
async function current(cluster: LabCluster): Promise<KubernetesObject[]> {
  const lists = await Promise.all(
    BASELINE_KINDS.map(async (k) => {
      const scopes = k.namespaces ?? [undefined];
      const found = await Promise.all(
        scopes.map((ns) =>
          cluster.list(k.apiVersion, k.kind, ns).catch((e) => {
            if (apiError(e).code === 404) return [] as KubernetesObject[];
            throw e;
          }),
        ),
      );
      return found.flat();
    }),
  );
  return lists.flat().filter((o) => !o.metadata?.deletionTimestamp);
}

/** Record the cluster as it is now. */
export async function takeBaseline(cluster: LabCluster, clusterId: string): Promise<BaselineRecord> {
  const objects: BaselineRecord['objects'] = {};
  for (const o of await current(cluster)) if (!labs(o)) objects[key(o)] = trimmed(o);
  return { version: 1, clusterId, takenAt: new Date().toISOString(), objects };
}

/**
 * Put the cluster back to the baseline: delete what is new (bindings and policies before what they
 * refer to), re-create what is gone and put back what changed.
 */
export async function restoreBaseline(cluster: LabCluster, base: BaselineRecord): Promise<void> {
  const now = await current(cluster);
  const seen = new Set<string>();
  const order = (o: { kind?: string }) => BASELINE_KINDS.findIndex((k) => k.kind === o.kind);
  for (const o of [...now].sort((a, b) => order(a) - order(b))) {
    const k = key(o);
    seen.add(k);
    const was = base.objects[k];
    if (!was) {
      if (labs(o)) continue; // left to the sweep of the lesson (or check, or attack) that labels it
      await cluster.delete(o);
    } else if (fingerprint(trimmed(o)) !== fingerprint(was)) {
      const back = {
        ...was,
        metadata: {
          ...o.metadata,
          labels: (was.metadata as KubernetesObject['metadata'])?.labels,
          annotations: (was.metadata as KubernetesObject['metadata'])?.annotations,
        },
      };
      await cluster.replace(back as KubernetesObject);
    }
  }
  // What was there and is gone: created again, referenced objects before what refers to them.
  const gone = Object.entries(base.objects)
    .filter(([k]) => !seen.has(k))
    .map(([, was]) => was)
    .sort((a, b) => order(b) - order(a));
  for (const was of gone) {
    try {
      await cluster.create(was as KubernetesObject);
    } catch (e) {
      // Put back meanwhile by whoever keeps it (the API server's bootstrap roles at its start).
      if (apiError(e).code !== 409) throw e;
    }
  }
}
