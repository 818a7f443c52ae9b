import { Agent, type AgentOptions } from 'node:https';
import {
  KubeConfig,
  KubernetesObjectApi,
  CoreV1Api,
  AppsV1Api,
  RbacAuthorizationV1Api,
  AuthorizationV1Api,
  NetworkingV1Api,
  BatchV1Api,
  PolicyV1Api,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
// client-node's generic object API serializes through its typed models, whose field names differ
// from the API's where the API's are JS keywords (NetworkPolicy `from` is `_from`, JSONSchema
// `default` is `_default`…). The lab's objects are plain API JSON (lesson files, kubectl's shape),
// so they are converted on the way out and back. (Not in the package index; pinned to 1.4.)
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import { Guard, type GuardScope } from '../guard/guard.js';
import { IDENTITY, type NamespaceRenamer } from '../scope/rename.js';
import { UserError } from '../errors.js';
import { apiError, isNotFound } from './errors.js';

export const FIELD_MANAGER = 'kube-seclab';
export const LESSON_LABEL = 'kube-seclab.dev/lesson';
export const MANAGED_LABEL = 'app.kubernetes.io/managed-by';
/** In a shared cluster: the RoleBinding in each of a learner's namespaces that gives the learner's ServiceAccount that namespace. */
export const LEARNER_BINDING = 'kube-seclab-learner';
/**
 * Beside it: `kubectl debug` in those namespaces (pods/ephemeralcontainers, which the built-in
 * `admin` role lacks) — checks dry-run debug containers against the learner's admission fixes.
 */
export const LEARNER_DEBUG_BINDING = 'kube-seclab-learner-debug';

/**
 * client-node 1.x makes a new https.Agent for every request, so every call pays a fresh TCP and
 * TLS handshake. The lab talks to one cluster with one identity: one keep-alive agent serves all.
 */
export class LabKubeConfig extends KubeConfig {
  private shared?: Agent;
  private keepAlive(agent: unknown): unknown {
    if (!(agent instanceof Agent)) return agent; // a proxy agent: leave it alone
    this.shared ??= new Agent({ ...(agent as Agent & { options: AgentOptions }).options, keepAlive: true });
    return this.shared;
  }
  override async applySecurityAuthentication(context: Parameters<KubeConfig['applySecurityAuthentication']>[0]): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setAgent(this.keepAlive(context.getAgent()) as Agent);
  }
  override async applyToFetchOptions(opts: Parameters<KubeConfig['applyToFetchOptions']>[0]): ReturnType<KubeConfig['applyToFetchOptions']> {
    const out = await super.applyToFetchOptions(opts);
    out.agent = this.keepAlive(out.agent) as Agent;
    return out;
  }
}

/**
 * A request whose connection dropped under it — a kept-alive socket the API server closed just as it
 * was reused ("socket hang up", ECONNRESET; seen under load on kind, and on the local engine at load
 * 40-60, three times within half a second) — is sent again, four times at most, over about 7 s.
 * Only for requests that are safe to repeat: reads, dry runs, server-side apply, delete.
 */
const DROPPED = /socket hang up|ECONNRESET|EPIPE/i;
export async function againIfDropped<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err = e as { message?: string; code?: unknown; cause?: { code?: string; message?: string } };
      const text = `${err?.message ?? ''} ${typeof err?.code === 'string' ? err.code : ''} ${err?.cause?.code ?? ''} ${err?.cause?.message ?? ''}`;
      if (attempt >= 4 || typeof err?.code === 'number' || !DROPPED.test(text)) throw e;
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}

/** Plain API JSON → client-node's typed model, for writes. */
export function typed<T extends KubernetesObject>(o: T): T {
  return ObjectSerializer.deserialize(o, getSerializationType(o.apiVersion, o.kind)) as T;
}
/** client-node's typed model → plain API JSON, for reads: checks see the API's own field names. */
export function wire<T extends KubernetesObject>(o: T): T {
  return ObjectSerializer.serialize(o, getSerializationType(o.apiVersion, o.kind)) as T;
}

export interface DryRunResult {
  allowed: boolean;
  message: string;
  code?: number;
  warnings: string[];
}

/**
 * The lab's handle on its cluster. Reads go straight to the API; every write (apply, delete,
 * patch, create — dry runs included) first passes the Guard.
 */
export class LabCluster {
  readonly kc: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly authz: AuthorizationV1Api;
  readonly net: NetworkingV1Api;
  readonly guard: Guard;
  /** How the lab's namespaces are named in this cluster (P-N in a shared cluster; unchanged elsewhere). */
  readonly rename: NamespaceRenamer;

  constructor(
    readonly kubeconfigPath: string,
    labKubeconfigPath: string,
    labId: string | undefined,
    shared?: { rename: NamespaceRenamer; guard: GuardScope },
  ) {
    this.rename = shared?.rename ?? IDENTITY;
    this.kc = new LabKubeConfig();
    try {
      this.kc.loadFromFile(kubeconfigPath);
    } catch (e) {
      throw new UserError(
        `cannot read the lab kubeconfig ${kubeconfigPath}: ${(e as Error).message.split('\n')[0]}`,
        'run `kube-seclab up` to (re)create the cluster',
      );
    }
    this.objects = KubernetesObjectApi.makeApiClient(this.kc);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.rbac = this.kc.makeApiClient(RbacAuthorizationV1Api);
    this.authz = this.kc.makeApiClient(AuthorizationV1Api);
    this.net = this.kc.makeApiClient(NetworkingV1Api);
    this.guard = new Guard(this.kc, kubeconfigPath, labKubeconfigPath, labId, shared?.guard);
  }

  /** Server-side apply, owned by the lab's field manager. */
  async apply<T extends KubernetesObject>(obj: T): Promise<T> {
    await this.guard.ensureWrite(obj);
    return againIfDropped(() => this.objects.patch(typed(obj), undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
  }

  async create<T extends KubernetesObject>(obj: T): Promise<T> {
    await this.guard.ensureWrite(obj);
    return this.objects.create(typed(obj), undefined, undefined, FIELD_MANAGER);
  }

  async replace<T extends KubernetesObject>(obj: T): Promise<T> {
    await this.guard.ensureWrite(obj);
    return this.objects.replace(typed(obj), undefined, undefined, FIELD_MANAGER);
  }

  async mergePatch<T extends KubernetesObject>(obj: T): Promise<T> {
    await this.guard.ensureWrite(obj);
    return this.objects.patch(typed(obj), undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
  }

  /** Delete; absent is fine. Returns whether something was deleted. */
  async delete(obj: KubernetesObject, propagation: 'Background' | 'Foreground' = 'Background'): Promise<boolean> {
    await this.guard.ensureWrite(obj);
    try {
      await againIfDropped(() => this.objects.delete(obj, undefined, undefined, 0, undefined, propagation));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * Empty a namespace in place, fast: every kind a lesson or a learner is likely to create, pods
   * with no grace period. (Deleting the namespace itself costs the namespace controller several
   * seconds; a reset must take less.) The default ServiceAccount and root CA ConfigMap stay.
   */
  async sweepNamespace(namespace: string): Promise<void> {
    await this.guard.ensureWrite({ kind: 'Namespace', metadata: { name: namespace } });
    const batch = this.kc.makeApiClient(BatchV1Api);
    const policy = this.kc.makeApiClient(PolicyV1Api);
    const opts = { namespace, gracePeriodSeconds: 0, propagationPolicy: 'Background' };
    // Not found: nothing to delete. Forbidden (a learner's confined identity in a shared cluster, for
    // ResourceQuotas and LimitRanges): what the lab may not delete, it could not have created either.
    const quiet = (p: Promise<unknown>) =>
      p.catch((e) => {
        const c = apiError(e).code;
        if (c !== 404 && c !== 403) throw e;
      });
    await Promise.all(
      [
        this.apps.deleteCollectionNamespacedDeployment(opts),
        this.apps.deleteCollectionNamespacedStatefulSet(opts),
        this.apps.deleteCollectionNamespacedDaemonSet(opts),
        this.apps.deleteCollectionNamespacedReplicaSet(opts),
        batch.deleteCollectionNamespacedJob(opts),
        batch.deleteCollectionNamespacedCronJob(opts),
      ].map(quiet),
    );
    await Promise.all(
      [
        this.core.deleteCollectionNamespacedPod(opts),
        this.core.deleteCollectionNamespacedService(opts),
        this.core.deleteCollectionNamespacedSecret(opts),
        this.core.deleteCollectionNamespacedConfigMap({ ...opts, fieldSelector: 'metadata.name!=kube-root-ca.crt' }),
        this.core.deleteCollectionNamespacedServiceAccount({ ...opts, fieldSelector: 'metadata.name!=default' }),
        this.core.deleteCollectionNamespacedPersistentVolumeClaim(opts),
        this.core.deleteCollectionNamespacedResourceQuota(opts),
        this.core.deleteCollectionNamespacedLimitRange(opts),
        this.rbac.deleteCollectionNamespacedRole(opts),
        // A shared cluster's binding that gives the learner the namespace stays.
        this.rbac.deleteCollectionNamespacedRoleBinding({
          ...opts,
          fieldSelector: `metadata.name!=${LEARNER_BINDING},metadata.name!=${LEARNER_DEBUG_BINDING}`,
        }),
        this.net.deleteCollectionNamespacedNetworkPolicy(opts),
        this.net.deleteCollectionNamespacedIngress(opts),
        policy.deleteCollectionNamespacedPodDisruptionBudget(opts),
      ].map(quiet),
    );
  }

  async read<T extends KubernetesObject>(ref: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<T | undefined> {
    try {
      return wire(await againIfDropped(() => this.objects.read(ref as any))) as T;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T extends KubernetesObject>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<T[]> {
    const res = await againIfDropped(() => this.objects.list<T>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector));
    // list items come without apiVersion/kind; put them back so items can be replaced or deleted as they are
    return res.items.map((o) => wire({ ...o, apiVersion: o.apiVersion ?? apiVersion, kind: o.kind ?? kind }));
  }

  /** Server-side dry-run create: runs authentication, authorization and every admission plugin. */
  async dryRunCreate(obj: KubernetesObject): Promise<DryRunResult> {
    await this.guard.ensureWrite(obj);
    try {
      await againIfDropped(() => this.objects.create(typed(obj), undefined, 'All', FIELD_MANAGER));
      return { allowed: true, message: 'admitted', warnings: [] };
    } catch (e) {
      const info = apiError(e);
      if (info.unreachable) throw e;
      if (info.code === 404 && /namespaces? .* not found/.test(info.message)) throw e;
      return { allowed: false, message: info.message, code: info.code, warnings: [] };
    }
  }

  /** Server-side dry-run replace (an UPDATE through every admission plugin) of an object as changed. */
  async dryRunReplace(obj: KubernetesObject): Promise<DryRunResult> {
    await this.guard.ensureWrite(obj);
    try {
      await againIfDropped(() => this.objects.replace(typed(obj), undefined, 'All', FIELD_MANAGER));
      return { allowed: true, message: 'admitted', warnings: [] };
    } catch (e) {
      const info = apiError(e);
      if (info.unreachable) throw e;
      return { allowed: false, message: info.message, code: info.code, warnings: [] };
    }
  }

  /**
   * Server-side dry run of what `kubectl debug` does: an ephemeral container added to a pod (an
   * UPDATE of its pods/ephemeralcontainers subresource, judged by every admission plugin).
   */
  async dryRunEphemeral(pod: { metadata: { name: string; namespace: string } }, container: Record<string, unknown>): Promise<DryRunResult> {
    await this.guard.ensureWrite({ kind: 'Pod', metadata: pod.metadata });
    try {
      const live = await this.core.readNamespacedPod({ name: pod.metadata.name, namespace: pod.metadata.namespace });
      live.spec!.ephemeralContainers = [...(live.spec!.ephemeralContainers ?? []), container as any];
      await this.core.replaceNamespacedPodEphemeralcontainers({
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        body: live,
        dryRun: 'All',
        fieldManager: FIELD_MANAGER,
      });
      return { allowed: true, message: 'admitted', warnings: [] };
    } catch (e) {
      const info = apiError(e);
      if (info.unreachable) throw e;
      return { allowed: false, message: info.message, code: info.code, warnings: [] };
    }
  }
}
