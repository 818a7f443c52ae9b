import { Watch } from '@kubernetes/client-node';
import type { Lesson } from '../lessons/loader.js';
import type { WatchTarget } from './types.js';
import type { LabCluster } from '../kube/client.js';
import { IDENTITY, type NamespaceRenamer } from '../scope/rename.js';

const PLURALS: Record<string, string> = {
  NetworkPolicy: 'networkpolicies',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
  PriorityClass: 'priorityclasses',
  RuntimeClass: 'runtimeclasses',
  Ingress: 'ingresses',
};
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'RuntimeClass',
  'PriorityClass',
]);

/**
 * The label on objects a check makes for itself and removes again (probe pods, a probe Secret, the
 * namespaces Pod Security is asked in): not the learner's doing, so watch mode does not re-check
 * on them — or every check would wake the next one up.
 */
export const CHECK_OBJECT_LABEL = 'kube-seclab.dev/check';

/**
 * The pods this process's checks are running right now (probe pods, by namespace/name — random names,
 * deleted when the probe ends). A probe may carry a workload's labels to be judged by its policies;
 * checks that judge a workload's running pods leave these out. A label alone would not do: anyone
 * can put a label on a pod to hide it from the checks; nobody else can add to this set.
 */
const runningCheckPods = new Set<string>();
export function checkPodStarted(namespace: string, name: string): void {
  runningCheckPods.add(`${namespace}/${name}`);
}
export function checkPodEnded(namespace: string, name: string): void {
  runningCheckPods.delete(`${namespace}/${name}`);
}
/** Not one of the pods this process's checks are running (see runningCheckPods). */
export function notACheckPod(pod: { metadata?: { namespace?: string; name?: string } }): boolean {
  return !runningCheckPods.has(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
}

/** Made by one of the lab's checks (see CHECK_OBJECT_LABEL)? */
export function isCheckObject(o: unknown): boolean {
  return !!(o as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels?.[CHECK_OBJECT_LABEL];
}

export function watchPath(t: WatchTarget): string {
  const plural = PLURALS[t.kind] ?? `${t.kind.toLowerCase()}s`;
  const prefix = t.apiVersion.includes('/') ? `/apis/${t.apiVersion}` : `/api/${t.apiVersion}`;
  return t.namespace && !CLUSTER_SCOPED.has(t.kind) ? `${prefix}/namespaces/${t.namespace}/${plural}` : `${prefix}/${plural}`;
}

/** The API paths a lesson's checks depend on (deduplicated; a namespaced watch is dropped when a cluster-wide one covers it). */
export function lessonWatchPaths(lesson: Lesson, rename: NamespaceRenamer = IDENTITY): string[] {
  let targets: WatchTarget[] = [];
  for (const c of lesson.checks) targets.push(...(c.primitive.watches?.(rename.value(c.params) as never) ?? []));
  // A learner confined to namespaces in a shared cluster can watch only in them: a cluster-wide
  // watch of a namespaced kind becomes one per learner namespace, cluster-scoped kinds are not watched.
  if (rename.active) {
    targets = targets.flatMap((t) => (CLUSTER_SCOPED.has(t.kind) ? [] : t.namespace ? [t] : rename.namespaces.map((namespace) => ({ ...t, namespace }))));
  }
  const clusterWide = new Set(targets.filter((t) => !t.namespace || CLUSTER_SCOPED.has(t.kind)).map((t) => `${t.apiVersion}/${t.kind}`));
  return [...new Set(targets.filter((t) => !t.namespace || CLUSTER_SCOPED.has(t.kind) || !clusterWide.has(`${t.apiVersion}/${t.kind}`)).map(watchPath))];
}

/**
 * API watches on everything a lesson's checks read. `onChange` fires (debounced) on any event but
 * those of the checks' own objects, and after a watch reconnects — so an API server restart (a
 * control-plane lesson) triggers a re-check.
 */
export function watchLesson(cluster: LabCluster, lesson: Lesson, onChange: (reason: string) => void, signal: AbortSignal, debounceMs = 120): void {
  const w = new Watch(cluster.kc);
  let timer: NodeJS.Timeout | undefined;
  const fire = (reason: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!signal.aborted) onChange(reason);
    }, debounceMs);
  };
  const controllers: AbortController[] = [];
  const start = (path: string, attempt: number) => {
    if (signal.aborted) return;
    let gotEvent = false;
    w.watch(
      path,
      { allowWatchBookmarks: false },
      (phase, obj) => {
        // The initial ADDED burst after (re)connecting is the current state: one re-check covers it.
        gotEvent = true;
        if (isCheckObject(obj)) return;
        fire(`${phase} ${path}`);
      },
      () => {
        if (signal.aborted) return;
        const delay = Math.min(250 * 2 ** attempt, 4000);
        setTimeout(() => start(path, gotEvent ? 0 : attempt + 1), delay);
        if (attempt === 0) fire(`watch of ${path} ended`);
      },
    ).then(
      (c) => {
        controllers.push(c);
        if (signal.aborted) c.abort();
      },
      () => {
        if (signal.aborted) return;
        setTimeout(() => start(path, attempt + 1), Math.min(250 * 2 ** attempt, 4000));
      },
    );
  };
  for (const p of lessonWatchPaths(lesson, cluster.rename)) start(p, 0);
  signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      for (const c of controllers) c.abort();
    },
    { once: true },
  );
}
