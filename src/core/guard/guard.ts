import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { GuardError, ClusterUnreachableError } from '../errors.js';
import { apiError } from '../kube/errors.js';

export const MARKER_NAMESPACE = 'kube-seclab-system';
export const LAB_ID_ANNOTATION = 'kube-seclab.dev/lab-id';

/**
 * The one gate every mutating call passes: the lab only writes through its own kubeconfig file,
 * and only to a cluster that carries its ownership marker (namespace kube-seclab-system annotated
 * with this lab's id). Anything else is refused before a byte is written.
 */
export class Guard {
  private verified?: Promise<void>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly kubeconfigPath: string,
    private readonly labKubeconfigPath: string,
    private readonly expectedLabId: string | undefined,
  ) {}

  ensure(): Promise<void> {
    if (!this.verified) {
      this.verified = this.verify();
      this.verified.catch(() => { this.verified = undefined; });
    }
    return this.verified;
  }

  private async verify(): Promise<void> {
    if (resolve(this.kubeconfigPath) !== resolve(this.labKubeconfigPath)) {
      throw new GuardError(`refusing to write through ${this.kubeconfigPath}: kube-seclab only uses its own kubeconfig (${this.labKubeconfigPath})`);
    }
    if (!existsSync(this.labKubeconfigPath)) throw new GuardError(`no lab kubeconfig at ${this.labKubeconfigPath}`);
    if (!this.expectedLabId) throw new GuardError('this lab has no cluster of its own yet');
    let ns;
    try {
      ns = await this.kc.makeApiClient(CoreV1Api).readNamespace({ name: MARKER_NAMESPACE });
    } catch (e) {
      const info = apiError(e);
      if (info.unreachable) throw new ClusterUnreachableError(info.message);
      if (info.code === 404) throw new GuardError(`refusing to touch this cluster: it has no kube-seclab marker (namespace ${MARKER_NAMESPACE}), so the lab did not create it`);
      throw new GuardError(`refusing to touch this cluster: cannot read its kube-seclab marker (${info.message})`);
    }
    const id = ns.metadata?.annotations?.[LAB_ID_ANNOTATION];
    if (id !== this.expectedLabId) {
      throw new GuardError(`refusing to touch this cluster: its kube-seclab marker belongs to another lab (${id ?? 'none'}, expected ${this.expectedLabId})`);
    }
  }
}
