import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * One way of doing X, for a check that claims "X cannot be admitted": a server-side dry run the
 * API server judges with every admission plugin (Pod Security, ValidatingAdmissionPolicies,
 * webhooks). A battery is every variant of X the lab knows, kept in one place per topic
 * (exposure.ts, images.ts, podSecurity.ts), so every lesson that makes the claim inherits them.
 */
export type VariantTry =
  /** Create this object. */
  | { create: KubernetesObject }
  /** Add this ephemeral container to a pod of the namespace (what `kubectl debug` does). */
  | { ephemeral: Record<string, unknown> }
  /** Change an object that is there (an UPDATE): the first live `kind` that `pick` accepts, as `change` returns it. */
  | { update: { apiVersion: string; kind: string; pick: (o: any) => boolean; change: (o: any) => any; what: string } };

export interface Variant {
  /** Stable id (for tests and messages). */
  id: string;
  /** What it is, in a few words: "a NodePort Service", "an init container from docker.io". */
  describe: string;
  /** X itself (must be rejected), or an ordinary object the rule must still admit. */
  expect: 'rejected' | 'allowed';
  /**
   * Also tried in the namespaces the rule must leave alone, where it must be admitted (a system
   * namespace whose components need it; another team's namespace).
   */
  outside?: boolean;
  try: VariantTry;
  /** Tried as this identity (impersonated) instead of the lab's: one an admission rule makes an exception of. */
  as?: Claimant;
}

/** An identity an admission rule may make an exception of, and who that is to an attacker. */
export interface Claimant {
  subject: { user: string; groups: string[] };
  /** "the ReplicaSet controller (it creates the pods of anyone's Deployment)". */
  who: string;
  /** Only pods are created as it (a controller). */
  podsOnly?: boolean;
}

/** A battery: the variants of X for one namespace (objects are built for it). */
export type Battery<P> = (namespace: string, params: P) => Variant[];
