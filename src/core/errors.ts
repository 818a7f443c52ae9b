/**
 * Errors the learner can act on: a one-line message plus the next step. Anything else that
 * escapes is a bug and is reported as such (with a stack only under KUBE_SECLAB_DEBUG=1).
 */
export class UserError extends Error {
  constructor(
    message: string,
    public readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** The cluster could not be reached (connection refused, TLS failure, timeout, 5xx). */
export class ClusterUnreachableError extends UserError {
  constructor(detail: string) {
    super(`cluster unreachable: ${detail}`, 'check it with `kube-seclab status`; `kube-seclab up` starts or repairs it');
    this.name = 'ClusterUnreachableError';
  }
}

/** The guard refused to touch a cluster or kubeconfig that is not the lab's own. */
export class GuardError extends UserError {
  constructor(message: string, hint = 'kube-seclab only talks to the cluster it created; run `kube-seclab up` to create it') {
    super(message, hint);
    this.name = 'GuardError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
