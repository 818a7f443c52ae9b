import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { GuardError, ClusterUnreachableError } from '../errors.js';
import { apiError } from '../kube/errors.js';

export const MARKER_NAMESPACE = 'kube-seclab-system';
export const LAB_ID_ANNOTATION = 'kube-seclab.dev/lab-id';
/** In a shared cluster: the label on every namespace the lab made for a learner (value: the prefix). */
export const LEARNER_LABEL = 'kube-seclab.dev/learner';
/** On a shared cluster's marker namespace: the learner's namespaces, comma-separated. */
export const NAMESPACES_ANNOTATION = 'kube-seclab.dev/namespaces';

/**
 * A learner's lab in a shared cluster (engine existing): its marker namespace (P-kube-seclab) and
 * the only namespaces it may write in.
 */
export interface GuardScope {
  marker: string;
  namespaces: string[];
}

/** What a write is about: its kind, name and namespace. */
export interface WriteTarget {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

/**
 * The one gate every mutating call passes: the lab only writes through its own kubeconfig file,
 * and only to a cluster that carries its ownership marker (namespace kube-seclab-system annotated
 * with this lab's id). Anything else is refused before a byte is written.
 *
 * On a shared cluster the marker is the learner's own (P-kube-seclab, listing the learner's
 * namespaces), and a write is refused — before any request — unless its namespace (or, for a
 * Namespace, its name) is one of the learner's: nothing cluster-scoped, nothing of another learner.
 */
export class Guard {
  private verified?: Promise<void>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly kubeconfigPath: string,
    private readonly labKubeconfigPath: string,
    private readonly expectedLabId: string | undefined,
    private readonly scope?: GuardScope,
  ) {}

  /** Every write: its target checked first (on a shared cluster), then the cluster's marker. */
  async ensureWrite(target: WriteTarget): Promise<void> {
    if (this.scope) this.checkTarget(target);
    await this.ensure();
  }

  private checkTarget(t: WriteTarget): void {
    const mine = this.scope!.namespaces;
    const name = `${t.kind ?? 'object'} ${t.metadata?.namespace ? `${t.metadata.namespace}/` : ''}${t.metadata?.name ?? ''}`.trim();
    const hint = `this lab writes only in its own namespaces (${mine.join(', ')})`;
    if (t.kind === 'Namespace') {
      if (!t.metadata?.name || !mine.includes(t.metadata.name))
        throw new GuardError(`refusing to write ${name}: it is not one of this learner's namespaces`, hint);
      return;
    }
    if (!t.metadata?.namespace) throw new GuardError(`refusing to write ${name}: a cluster-scoped object, in a shared cluster`, hint);
    if (!mine.includes(t.metadata.namespace))
      throw new GuardError(`refusing to write ${name}: namespace ${t.metadata.namespace} is not one of this learner's`, hint);
  }

  ensure(): Promise<void> {
    if (!this.verified) {
      this.verified = this.verify();
      this.verified.catch(() => {
        this.verified = undefined;
      });
    }
    return this.verified;
  }

  private async verify(): Promise<void> {
    if (resolve(this.kubeconfigPath) !== resolve(this.labKubeconfigPath)) {
      throw new GuardError(`refusing to write through ${this.kubeconfigPath}: kube-seclab only uses its own kubeconfig (${this.labKubeconfigPath})`);
    }
    if (!existsSync(this.labKubeconfigPath)) throw new GuardError(`no lab kubeconfig at ${this.labKubeconfigPath}`);
    if (!this.expectedLabId) throw new GuardError('this lab has no cluster of its own yet');
    const marker = this.scope?.marker ?? MARKER_NAMESPACE;
    let ns;
    try {
      ns = await this.kc.makeApiClient(CoreV1Api).readNamespace({ name: marker });
    } catch (e) {
      const info = apiError(e);
      if (info.unreachable) throw new ClusterUnreachableError(info.message);
      if (info.code === 404)
        throw new GuardError(`refusing to touch this cluster: it has no kube-seclab marker (namespace ${marker}), so the lab did not create it`);
      throw new GuardError(`refusing to touch this cluster: cannot read its kube-seclab marker (${info.message})`);
    }
    const id = ns.metadata?.annotations?.[LAB_ID_ANNOTATION];
    if (id !== this.expectedLabId) {
      throw new GuardError(`refusing to touch this cluster: its kube-seclab marker belongs to another lab (${id ?? 'none'}, expected ${this.expectedLabId})`);
    }
    if (this.scope) {
      const listed = (ns.metadata?.annotations?.[NAMESPACES_ANNOTATION] ?? '').split(',').filter(Boolean);
      const missing = this.scope.namespaces.filter((n) => !listed.includes(n));
      if (missing.length)
        throw new GuardError(
          `refusing to write: the marker ${marker} does not list ${missing.join(', ')} as this learner's`,
          'run `kube-seclab up` again with the same --namespace-prefix (it adds the namespaces newer lessons need)',
        );
    }
  }
}
