import type { BaselineStore } from './baseline.js';
import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LabCluster } from '../kube/client.js';
import { LESSON_LABEL, MANAGED_LABEL } from '../kube/client.js';
import type { Engine } from '../engine/index.js';
import { workspaceFile } from '../workspace.js';
import { UserError } from '../errors.js';
import { apiError } from '../kube/errors.js';
import { sleep } from '../fsutil.js';
import { appFolder } from '../builds.js';
import { buildOfSources, generateSbom, SBOM_DIGEST_ANNOTATION, SBOM_KEY } from '../scan.js';
import { signImage } from '../signing.js';
import { STEPS_FILE } from '../steps/files.js';

/** What scenario set-up, fixes and steps act through. */
export interface ScenarioContext {
  cluster: LabCluster;
  engine: Engine;
  /** The lab's workspace folder: files handed to the learner on their own machine. */
  workspace: string;
  /**
   * Where the cluster-wide state before any lesson is kept (scenarios/baseline.ts) — only on a cluster
   * the lab made; a shared cluster's lessons write nothing cluster-wide.
   */
  baseline?: BaselineStore;
}

/** The kubelet's config file on a kubeadm (kind) node. */
export const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';

const KIND_ORDER = [
  'Namespace',
  'CustomResourceDefinition',
  'PriorityClass',
  'RuntimeClass',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'NetworkPolicy',
  'Service',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'Pod',
];
const rank = (k?: string) => {
  const i = KIND_ORDER.indexOf(k ?? '');
  return i < 0 ? KIND_ORDER.length : i;
};

/** Every object in the *.yaml files of a folder (steps.yaml excepted), in apply order. */
export async function loadManifests(dir: string): Promise<KubernetesObject[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f) && !STEPS_FILE.test(f)).sort();
  const out: KubernetesObject[] = [];
  for (const f of files) {
    const docs = parseAllDocuments(await readFile(join(dir, f), 'utf8'));
    for (const d of docs) {
      if (d.errors.length) throw new UserError(`${join(dir, f)}: invalid YAML: ${d.errors[0].message.split('\n')[0]}`);
      const o = d.toJS();
      if (o && typeof o === 'object') out.push(o);
    }
  }
  return out.sort((a, b) => rank(a.kind) - rank(b.kind));
}

export function labelled<T extends KubernetesObject>(o: T, lessonId: string): T {
  const c = structuredClone(o);
  c.metadata = { ...c.metadata, labels: { ...(c.metadata?.labels ?? {}), [MANAGED_LABEL]: 'kube-seclab', [LESSON_LABEL]: lessonId } };
  return c;
}

async function applyWithRetry(ctx: ScenarioContext, o: KubernetesObject): Promise<void> {
  // A brand-new namespace gets its default ServiceAccount a moment later; pods wait for it.
  for (let i = 0; ; i++) {
    try {
      await ctx.cluster.apply(o);
      return;
    } catch (e) {
      const info = apiError(e);
      // a new namespace's default ServiceAccount comes a moment later; a just-deleted admission policy still applies for a moment
      if (
        i < 40 &&
        ((/serviceaccount.*not found|namespace .* is being terminated|not found/i.test(info.message) && o.kind !== 'Namespace') ||
          /ValidatingAdmissionPolicy/.test(info.message))
      ) {
        await sleep(100);
        continue;
      }
      const what = `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
      if (info.unreachable) throw e;
      throw new UserError(`could not apply ${what}: ${info.message}`);
    }
  }
}

export async function applyObjects(ctx: ScenarioContext, objs: KubernetesObject[], lessonId: string): Promise<void> {
  for (const o of objs) await applyWithRetry(ctx, labelled(o, lessonId));
}

/** The `sbom` step: a CycloneDX SBOM of a workspace app, published as a ConfigMap annotated with the digest of its build. */
export async function publishSbom(
  ctx: ScenarioContext,
  path: string,
  to: { namespace: string; name: string },
  lessonId: string,
  o: { file?: string; key?: string } = {},
): Promise<void> {
  const { dir } = await appFolder(ctx.workspace, path);
  const build = await buildOfSources(ctx.workspace, dir, ctx.engine.name);
  if (!build)
    throw new UserError(
      `the sources in ${dir} were never built on this engine, so an SBOM of them describes no image`,
      'add a `build` step before the `sbom` step',
    );
  const text = o.file ? await readFile(o.file, 'utf8') : JSON.stringify(await generateSbom(dir, { image: build.image }), null, 2);
  await applyObjects(
    ctx,
    [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: to.name, namespace: to.namespace, annotations: { [SBOM_DIGEST_ANNOTATION]: build.digest } },
        data: { [o.key ?? SBOM_KEY]: text },
      } as KubernetesObject,
    ],
    lessonId,
  );
}

/** Point a Deployment's container (the named one, else its only one) at an image. */
export async function deployImage(ctx: ScenarioContext, to: { namespace: string; name: string; container?: string }, image: string): Promise<string> {
  // Read, change, replace — again when the deployment controller updated it in between (409 Conflict).
  for (let attempt = 1; ; attempt++) {
    const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: to.name, namespace: to.namespace } });
    if (!d) throw new UserError(`Deployment ${to.namespace}/${to.name} not found`, '`kubectl get deploy -A` lists them; a lesson reset puts its scenario back');
    const cs: { name: string; image: string }[] = d.spec.template.spec.containers;
    const c = to.container ? cs.find((x) => x.name === to.container) : cs.length === 1 ? cs[0] : undefined;
    if (!c)
      throw new UserError(
        to.container
          ? `Deployment ${to.namespace}/${to.name} has no container ${to.container}`
          : `Deployment ${to.namespace}/${to.name} has ${cs.length} containers: say which`,
        `containers: ${cs.map((x) => x.name).join(', ')}`,
      );
    c.image = image;
    try {
      await ctx.cluster.replace(d);
      return c.name;
    } catch (e) {
      if (apiError(e).code !== 409 || attempt >= 10) throw e;
      await sleep(100 * attempt);
    }
  }
}

/** The `sign` step: sign the image a Deployment's container runs (as `kube-seclab sign` does). */
export async function signDeploymentImage(ctx: ScenarioContext, t: { namespace: string; name: string; container?: string; key?: string }): Promise<void> {
  const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: t.name, namespace: t.namespace } });
  if (!d) throw new UserError(`Deployment ${t.namespace}/${t.name} not found, nothing to sign`);
  const cs: { name: string; image: string }[] = d.spec.template.spec.containers;
  const c = t.container ? cs.find((x) => x.name === t.container) : cs[0];
  if (!c) throw new UserError(`Deployment ${t.namespace}/${t.name} has no container ${t.container}`);
  await signImage({ cluster: ctx.cluster, workspace: ctx.workspace, image: c.image, keyFile: t.key ? workspaceFile(ctx, t.key) : undefined });
}

/** The digest a Deployment's pods run each image at (status.containerStatuses[].imageID), or a stable made-up one. */
export async function pinImageDigest(ctx: ScenarioContext, namespace: string, name: string): Promise<void> {
  // The Deployment controller writes to a Deployment just changed (its revision annotation): on a conflict, read it again.
  for (let attempt = 0; ; attempt++) {
    try {
      await pinImageDigestOnce(ctx, namespace, name);
      return;
    } catch (e) {
      if (apiError(e).code !== 409 || attempt >= 5) throw e;
      await sleep(200);
    }
  }
}

async function pinImageDigestOnce(ctx: ScenarioContext, namespace: string, name: string): Promise<void> {
  const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace } });
  if (!d) throw new UserError(`Deployment ${namespace}/${name} not found, nothing to pin`);
  const sel = Object.entries(d.spec.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (await ctx.cluster.core.listNamespacedPod({ namespace, labelSelector: sel })).items;
  const seen = new Map<string, string>();
  for (const p of pods)
    for (const c of p.status?.containerStatuses ?? []) {
      const digest = /@(sha256:[0-9a-f]{64})$/.exec(c.imageID ?? '')?.[1];
      if (digest) seen.set(c.image.replace(/^docker\.io\//, ''), digest);
    }
  for (const c of d.spec.template.spec.containers as { image: string }[]) {
    if (c.image.includes('@')) continue;
    const digest = seen.get(c.image) ?? `sha256:${createHash('sha256').update(c.image).digest('hex')}`;
    c.image = `${c.image.replace(/:[^:/]+$/, '')}@${digest}`;
  }
  await ctx.cluster.replace(d);
}

export async function waitDeployment(ctx: ScenarioContext, namespace: string, name: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace } });
    const want = d?.spec?.replicas ?? 1;
    // Rolled out: the current template's pods ready, and no pod of an older one left.
    if (
      d &&
      (d.status?.readyReplicas ?? 0) >= want &&
      (d.status?.updatedReplicas ?? 0) >= want &&
      (d.status?.replicas ?? 0) <= want &&
      (d.status?.observedGeneration ?? 0) >= d.metadata.generation
    )
      return true;
    await sleep(100);
  }
  return false;
}
