import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { ClusterUnreachableError } from '../../core/errors.js';
import { sleep } from '../../core/fsutil.js';
import { LAB_ID_ANNOTATION, MARKER_NAMESPACE } from '../../core/guard/guard.js';
import { samePodManifest } from '../../core/engine/index.js';

// What the engines that make a cluster of their own (local, kind) do alike on the way up and back.

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-seclab' };

/** The core API as the lab's admin (the lab kubeconfig of a cluster the lab made). */
export function adminCore(kubeconfigPath: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

/** Create an object, taking "already exists" (409) as done: bootstrap steps are idempotent. */
export async function createIfAbsent(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
  }
}

/** Mark a cluster the lab just made as the lab's: the marker namespace, annotated with the lab id. */
export async function markAsLab(core: CoreV1Api, labId: string): Promise<void> {
  const ns = { metadata: { name: MARKER_NAMESPACE, labels: { ...MANAGED_BY }, annotations: { [LAB_ID_ANNOTATION]: labId } } };
  await createIfAbsent(() => core.createNamespace({ body: ns }));
}

/**
 * Poll the API server's readiness until it answers ready, backing off from `firstDelayMs` to
 * `maxDelayMs`. `whileDown` may name a better reason than the probe's (a component in a crash
 * loop) or throw when waiting is pointless. Not ready in time: a ClusterUnreachableError with the last reason.
 */
export async function waitApiReady(
  probe: () => Promise<{ ok: boolean; detail: string }>,
  o: { timeoutMs: number; signal?: AbortSignal; firstDelayMs: number; maxDelayMs: number; whileDown?: (detail: string) => Promise<string> },
): Promise<void> {
  const end = Date.now() + o.timeoutMs;
  let last = '';
  let delay = o.firstDelayMs;
  while (Date.now() < end) {
    o.signal?.throwIfAborted();
    const r = await probe();
    if (r.ok) return;
    last = o.whileDown ? await o.whileDown(r.detail) : r.detail;
    await sleep(delay);
    delay = Math.min(o.maxDelayMs, Math.round(delay * 1.25));
  }
  throw new ClusterUnreachableError(`the API server did not become ready in ${o.timeoutMs / 1000}s: ${last}`);
}

/**
 * Put back what the cluster was created with (a manifest, the kubelet config) when it differs from
 * what is there now; whether anything changed.
 */
export async function restoreBaseline(
  baseline: string,
  current: string,
  write: (text: string) => Promise<void>,
  unlessSameAfter?: (text: string) => string,
): Promise<boolean> {
  if (current === baseline) return false;
  if (unlessSameAfter) {
    try {
      if (samePodManifest(unlessSameAfter(current), unlessSameAfter(baseline))) return false;
    } catch {
      // the current manifest cannot take the edit (not a pod with a command list): restore it
    }
  }
  await write(baseline);
  return true;
}
