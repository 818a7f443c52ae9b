import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KubeConfig, CoreV1Api, KubernetesObjectApi, AuthorizationV1Api, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import {
  missingSharedOptions,
  silentReporter,
  validatePrefix,
  type Engine,
  type EngineStatus,
  type ExistingOptions,
  type Requirement,
  type SharedScope,
  type TaskReporter,
} from '../../core/engine/index.js';
import type { LabPaths } from '../../core/paths.js';
import type { SharedPlan } from '../../core/scope/lesson-scope.js';
import { NamespaceRenamer } from '../../core/scope/rename.js';
import { LAB_ID_ANNOTATION, LEARNER_LABEL, NAMESPACES_ANNOTATION, type GuardScope } from '../../core/guard/guard.js';
import { FIELD_MANAGER, LEARNER_BINDING, LEARNER_DEBUG_BINDING, MANAGED_LABEL, typed } from '../../core/kube/client.js';

const INSTRUCTOR_FIELD_MANAGER = `${FIELD_MANAGER}-instructor`;
import { UserError, ClusterUnreachableError } from '../../core/errors.js';
import { apiError, isNotFound } from '../../core/kube/errors.js';
import { sleep, writeFileAtomic } from '../../core/fsutil.js';

interface ExistingState {
  version: 1;
  labId: string;
  context: string;
  /** The instructor's kubeconfig file (absent: the default, $KUBECONFIG or ~/.kube/config). */
  kubeconfig?: string;
  prefix: string;
  server: string;
  /** The learner's namespaces (prefixed): the only ones the lab writes in. */
  namespaces: string[];
  /** Other namespaces whose Namespace object the learner may read (kube-system, for DNS checks). */
  labelsOf: string[];
  tokenExpires?: string;
  createdAt: string;
}

const TOKEN_SECONDS = 24 * 3600;
const SA_NAME = 'learner';

export const markerNamespace = (prefix: string) => `${prefix}-kube-seclab`;
const clusterRoleName = (prefix: string) => `kube-seclab:learner:${prefix}`;
/** pods/ephemeralcontainers, bound per namespace (LEARNER_DEBUG_BINDING), never cluster-wide. */
const debugRoleName = (prefix: string) => `kube-seclab:learner:${prefix}:debug`;

/**
 * The shared-cluster engine: no cluster of its own. With the instructor's credentials (a context
 * of their kubeconfig) `up` makes, for one learner P, the namespaces P-N of the namespace-scoped
 * lessons, a marker namespace P-kube-seclab, a ServiceAccount, a RoleBinding to `admin` in each
 * P-N and a ClusterRole for the few cluster-level things checks need; the lab's own kubeconfig then
 * holds that ServiceAccount's token, so the learner's kubectl and every write of the lab are
 * confined by the cluster's own RBAC. `down` deletes exactly those objects and nothing else.
 */
export class ExistingEngine implements Engine, SharedScope {
  readonly name = 'existing' as const;
  readonly kubeconfigPath: string;
  /** No control plane, no node: only the learner's namespaces of someone else's cluster. */
  readonly shared: SharedScope = this;
  private readonly dir: string;
  private readonly stateFile: string;

  constructor(
    private readonly paths: LabPaths,
    private readonly env: NodeJS.ProcessEnv,
    private readonly opts: ExistingOptions & { plan?: SharedPlan } = {},
  ) {
    this.kubeconfigPath = paths.kubeconfig;
    this.dir = paths.engineDir('existing');
    this.stateFile = `${this.dir}/state.json`;
  }

  private state(): ExistingState | undefined {
    try {
      return JSON.parse(readFileSync(this.stateFile, 'utf8')) as ExistingState;
    } catch {
      return undefined;
    }
  }

  /** The learner's prefix: the one this lab was brought up with, else the one it is given. */
  get namespacePrefix(): string | undefined {
    return this.state()?.prefix ?? this.opts.prefix;
  }

  /** Renaming and guarding for the lab's cluster handle, once `up` has run. */
  scope(): { rename: NamespaceRenamer; guard: GuardScope } | undefined {
    const st = this.state();
    if (!st) return undefined;
    return {
      rename: new NamespaceRenamer(st.prefix, this.opts.plan?.namespaces ?? st.namespaces.map((n) => n.slice(st.prefix.length + 1))),
      guard: { marker: markerNamespace(st.prefix), namespaces: st.namespaces },
    };
  }

  supports(req: Requirement): boolean {
    return req === 'api';
  }

  async labId(): Promise<string | undefined> {
    return this.state()?.labId;
  }

  /** The instructor's credentials: a context of their kubeconfig. */
  private adminConfig(o: { context: string; kubeconfig?: string }): KubeConfig {
    const kc = new KubeConfig();
    const file = o.kubeconfig;
    try {
      if (file) kc.loadFromFile(file);
      else kc.loadFromDefault();
    } catch (e) {
      throw new UserError(
        `cannot read the kubeconfig ${file ?? '($KUBECONFIG or ~/.kube/config)'}: ${(e as Error).message.split('\n')[0]}`,
        "pass the instructor's kubeconfig with --kubeconfig FILE",
      );
    }
    if (file && resolve(file) === resolve(this.kubeconfigPath))
      throw new UserError(`--kubeconfig ${file} is this lab's own kubeconfig`, "give the instructor's kubeconfig for the shared cluster");
    if (!kc.getContextObject(o.context)) {
      throw new UserError(
        `no context "${o.context}" in ${file ?? 'your kubeconfig'} (has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
        '`kubectl config get-contexts` lists them',
      );
    }
    kc.setCurrentContext(o.context);
    return kc;
  }

  async up(r: TaskReporter = silentReporter): Promise<void> {
    const prev = this.state();
    const context = this.opts.context ?? prev?.context;
    const kubeconfig = this.opts.kubeconfig ? resolve(this.opts.kubeconfig) : prev?.kubeconfig;
    const prefix = this.opts.prefix ?? prev?.prefix;
    const missing = missingSharedOptions({ context, prefix });
    if (missing)
      throw new UserError(missing, 'e.g. `kube-seclab up --engine existing --context CLASS-CTX --kubeconfig instructor.conf --namespace-prefix alice`');
    validatePrefix(prefix!);
    if (prev && prev.prefix !== prefix)
      throw new UserError(
        `this lab already runs in a shared cluster as "${prev.prefix}"`,
        '`kube-seclab down` first, or give this learner a lab of their own with --name',
      );
    const plan = this.opts.plan;
    if (!plan || !plan.namespaces.length) throw new UserError('no lesson can run confined to namespaces, so there is nothing to set up in a shared cluster');
    const kc = this.adminConfig({ context: context!, kubeconfig });
    const server = kc.getCurrentCluster()?.server ?? '?';
    const marker = markerNamespace(prefix!);
    const ns = (n: string) => `${prefix}-${n}`;
    const namespaces = [...new Set([...(prev?.namespaces ?? []), ...plan.namespaces.map(ns)])].sort();
    r.info(
      `WARNING: shared cluster — this creates namespaces ${marker}, ${namespaces.join(', ')}, a ServiceAccount, RoleBindings and a ClusterRole (${clusterRoleName(prefix!)}) in the cluster of context "${context}" (${server}), which the lab did not create. \`kube-seclab down\` removes exactly those.`,
    );

    const core = kc.makeApiClient(CoreV1Api);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const labId = prev?.labId ?? randomUUID();
    const owned = (o: { metadata?: { annotations?: Record<string, string> } } | undefined) => o?.metadata?.annotations?.[LAB_ID_ANNOTATION] === labId;
    const read = async (ref: KubernetesObject) => {
      try {
        return await objects.read(ref as never);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        const info = apiError(e);
        if (info.unreachable) throw new ClusterUnreachableError(`${server}: ${info.message}`);
        throw new UserError(
          `cannot read ${ref.kind} ${ref.metadata?.name} with context "${context}": ${info.message}`,
          "the instructor's context needs to create namespaces, RoleBindings and ClusterRoles",
        );
      }
    };

    // Nothing is written before every name is known to be free or already this lab's.
    await r.task(`Check that prefix "${prefix}" is free in ${server}`, async () => {
      const taken: string[] = [];
      for (const name of [marker, ...namespaces]) {
        const cur = await read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
        if (cur && !owned(cur)) taken.push(name);
      }
      for (const crName of [clusterRoleName(prefix!), debugRoleName(prefix!)]) {
        const cr = await read({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: crName } });
        if (cr && !owned(cr)) taken.push(`ClusterRole ${crName}`);
      }
      if (taken.length)
        throw new UserError(
          `prefix "${prefix}" is taken in this cluster: ${taken.join(', ')} ${taken.length > 1 ? 'exist' : 'exists'} and ${taken.length > 1 ? 'are' : 'is'} not this lab's`,
          'pick another --namespace-prefix (or run `kube-seclab down` from the lab that made them)',
        );
    });

    const meta = (name: string, extra: { labels?: Record<string, string>; namespace?: string } = {}) => ({
      name,
      ...(extra.namespace ? { namespace: extra.namespace } : {}),
      labels: { [MANAGED_LABEL]: 'kube-seclab', [LEARNER_LABEL]: prefix!, ...(extra.labels ?? {}) },
      annotations: { [LAB_ID_ANNOTATION]: labId },
    });
    // A field manager of its own: the learner's lab applies the same Namespaces (a lesson's labels) as
    // `kube-seclab`, and server-side apply would otherwise drop the ownership marks set here.
    const apply = (o: KubernetesObject) => objects.patch(typed(o), undefined, undefined, INSTRUCTOR_FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    await r.task(`Create the namespaces and RBAC of learner "${prefix}"`, async () => {
      await apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { ...meta(marker), annotations: { [LAB_ID_ANNOTATION]: labId, [NAMESPACES_ANNOTATION]: namespaces.join(',') } },
      });
      await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(SA_NAME, { namespace: marker }) } as KubernetesObject);
      await apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: meta(debugRoleName(prefix!)),
        rules: [{ apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['get', 'patch', 'update'] }],
      } as KubernetesObject);
      for (const name of namespaces) {
        // The lab's Pod Security namespaces enforce their level (checks dry-run pod templates there).
        const level = /-kube-seclab-pss-(baseline|restricted)$/.exec(name)?.[1];
        const labels: Record<string, string> = level
          ? { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': 'latest' }
          : {};
        await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(name, { labels }) });
        await apply({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: meta(LEARNER_BINDING, { namespace: name }),
          subjects: [{ kind: 'ServiceAccount', name: SA_NAME, namespace: marker }],
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
        } as KubernetesObject);
        await apply({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: meta(LEARNER_DEBUG_BINDING, { namespace: name }),
          subjects: [{ kind: 'ServiceAccount', name: SA_NAME, namespace: marker }],
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: debugRoleName(prefix!) },
        } as KubernetesObject);
      }
      // Cluster-level, and only what checks and resets need: its own Namespace objects (labels are
      // part of lessons), the marker, the labels of a few system namespaces, and access reviews.
      await apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: meta(clusterRoleName(prefix!)),
        rules: [
          { apiGroups: [''], resources: ['namespaces'], resourceNames: namespaces, verbs: ['get', 'update', 'patch'] },
          { apiGroups: [''], resources: ['namespaces'], resourceNames: [marker, ...plan.labelsOf], verbs: ['get'] },
          {
            apiGroups: ['authorization.k8s.io'],
            resources: ['subjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
            verbs: ['create'],
          },
        ],
      } as KubernetesObject);
      await apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: meta(clusterRoleName(prefix!)),
        subjects: [{ kind: 'ServiceAccount', name: SA_NAME, namespace: marker }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName(prefix!) },
      } as KubernetesObject);
    });

    const st: ExistingState = {
      version: 1,
      labId,
      context: context!,
      kubeconfig,
      prefix: prefix!,
      server,
      namespaces,
      labelsOf: plan.labelsOf,
      createdAt: prev?.createdAt ?? new Date().toISOString(),
    };
    await r.task("Write the lab kubeconfig with the learner's ServiceAccount token", async () => {
      const tr = await core.createNamespacedServiceAccountToken({
        name: SA_NAME,
        namespace: marker,
        body: { spec: { expirationSeconds: TOKEN_SECONDS, audiences: [] } },
      });
      const token = tr.status?.token;
      if (!token) throw new UserError(`the cluster issued no token for ServiceAccount ${marker}/${SA_NAME}`);
      st.tokenExpires = tr.status?.expirationTimestamp ? new Date(tr.status.expirationTimestamp).toISOString() : undefined;
      const cl = kc.getCurrentCluster()!;
      const caData = cl.caData ?? (cl.caFile ? readFileSync(cl.caFile).toString('base64') : undefined);
      const out = new KubeConfig();
      const name = `kube-seclab-${prefix}`;
      out.loadFromOptions({
        clusters: [{ name, server: cl.server, caData, skipTLSVerify: cl.skipTLSVerify, tlsServerName: cl.tlsServerName }],
        users: [{ name, token }],
        contexts: [{ name, cluster: name, user: name }],
        currentContext: name,
      });
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(this.kubeconfigPath, out.exportConfig(), 0o600);
      await writeFileAtomic(this.stateFile, JSON.stringify(st, null, 2));
    });

    // RBAC takes a moment to reach the API server's authorizer: ask as the learner until it does.
    await r.task("Wait until the learner's permissions are in force", async () => {
      const learner = new KubeConfig();
      learner.loadFromFile(this.kubeconfigPath);
      const authz = learner.makeApiClient(AuthorizationV1Api);
      const end = Date.now() + 30_000;
      for (;;) {
        const res = await authz
          .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb: 'create', resource: 'configmaps', namespace: namespaces[0] } } } })
          .catch(() => undefined);
        if (res?.status?.allowed) return;
        if (Date.now() > end)
          throw new UserError(
            `the learner's ServiceAccount still cannot work in ${namespaces[0]} after 30 s`,
            "check the cluster's RBAC authorizer (`kubectl auth can-i --list --as=system:serviceaccount:" + `${marker}:${SA_NAME} -n ${namespaces[0]}\`)`,
          );
        await sleep(200);
      }
    });
  }

  async down(r: TaskReporter = silentReporter): Promise<void> {
    const st = this.state();
    if (!st) {
      r.info('no shared-cluster lab to remove');
      await rm(this.kubeconfigPath, { force: true });
      return;
    }
    const kc = this.adminConfig({ context: st.context, kubeconfig: st.kubeconfig });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const marker = markerNamespace(st.prefix);
    const skipped: string[] = [];
    const deleted: string[] = [];
    // The learner's own namespaces, as this lab's marker lists them (the learner cannot change the
    // marker, but may relabel their namespaces); anything else of the same name is someone else's.
    const core = kc.makeApiClient(CoreV1Api);
    const markerNs = await core.readNamespace({ name: marker }).catch((e) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    const ours = markerNs?.metadata?.annotations?.[LAB_ID_ANNOTATION] === st.labId;
    const listed = new Set(
      ours ? (markerNs?.metadata?.annotations?.[NAMESPACES_ANNOTATION] ?? '').split(',').filter((n) => n.startsWith(`${st.prefix}-`)) : [],
    );
    const removeOwned = async (ref: KubernetesObject) => {
      let cur: KubernetesObject | undefined;
      try {
        cur = await objects.read(ref as never);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const mine = cur.metadata?.annotations?.[LAB_ID_ANNOTATION] === st.labId || (ref.kind === 'Namespace' && listed.has(ref.metadata!.name!));
      if (!mine) {
        skipped.push(`${ref.kind} ${ref.metadata?.name}`);
        return;
      }
      try {
        await objects.delete(ref);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (ref.kind === 'Namespace') deleted.push(ref.metadata!.name!);
    };
    const nsRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    await r.task(`Delete learner "${st.prefix}"'s namespaces and RBAC`, async () => {
      for (const kind of ['ClusterRoleBinding', 'ClusterRole'])
        await removeOwned({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name: clusterRoleName(st.prefix) } });
      await removeOwned({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: debugRoleName(st.prefix) } });
      // The marker last: while it stands, an interrupted down knows what is the learner's.
      for (const name of new Set([...st.namespaces, ...listed])) await removeOwned(nsRef(name));
      await removeOwned(nsRef(marker));
    });
    await r.task('Wait until the namespaces are gone', async () => {
      const end = Date.now() + 120_000;
      for (const name of deleted) {
        while (
          await core.readNamespace({ name }).then(
            () => true,
            (e) => !isNotFound(e),
          )
        ) {
          if (Date.now() > end)
            throw new UserError(
              `namespace ${name} is still terminating after 120 s`,
              "the cluster's namespace controller finishes it; `kube-seclab down` again checks",
            );
          await sleep(200);
        }
      }
    });
    for (const s of skipped) r.info(`left ${s} alone: it is not this lab's`);
    await rm(this.kubeconfigPath, { force: true });
    await rm(this.dir, { recursive: true, force: true });
  }

  async status(): Promise<EngineStatus> {
    const st = this.state();
    const base: EngineStatus = {
      engine: 'existing',
      exists: !!st,
      running: false,
      healthy: false,
      kubeconfig: this.kubeconfigPath,
      endpoints: {},
      components: [],
      problems: [],
    };
    if (!st) {
      base.problems.push('no shared-cluster lab: run `kube-seclab up --engine existing --context CTX --namespace-prefix P`');
      return base;
    }
    base.endpoints = { apiserver: st.server, namespaces: st.namespaces.join(', ') };
    if (st.tokenExpires && Date.parse(st.tokenExpires) < Date.now()) {
      base.problems.push(`the learner's token expired at ${st.tokenExpires}: run \`kube-seclab up\` again for a new one`);
      return base;
    }
    if (!existsSync(this.kubeconfigPath)) {
      base.problems.push('the lab kubeconfig is missing: run `kube-seclab up` again');
      return base;
    }
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    try {
      const ns = await kc.makeApiClient(CoreV1Api).readNamespace({ name: markerNamespace(st.prefix) });
      base.running = true;
      base.healthy = ns.metadata?.annotations?.[LAB_ID_ANNOTATION] === st.labId;
      if (!base.healthy) base.problems.push(`the marker ${markerNamespace(st.prefix)} belongs to another lab now`);
    } catch (e) {
      const info = apiError(e);
      base.running = !info.unreachable;
      base.problems.push(
        info.unreachable
          ? `the shared cluster does not answer: ${info.message}`
          : `cannot read the marker ${markerNamespace(st.prefix)} (${info.message}): run \`kube-seclab up\` again`,
      );
    }
    return base;
  }

  nodeAccessHint(): string {
    return 'none: a shared cluster gives no node access';
  }
}
