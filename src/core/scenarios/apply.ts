import { readdir, readFile, mkdir, rm, cp } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { workspaceFile } from '../workspace.js';
import { parseAllDocuments, parse, parseDocument } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LabCluster } from '../kube/client.js';
import { LESSON_LABEL, MANAGED_LABEL } from '../kube/client.js';
import { LAB_ID_ANNOTATION, LEARNER_LABEL } from '../guard/guard.js';
import type { Engine, EngineName } from '../../engines/types.js';
import type { Lesson, Fix } from '../lessons/loader.js';
import { stepsFileSchema, type Step } from '../lessons/schema.js';
import { editManifest } from './manifest-edit.js';
import { restoreComponent } from './control-plane.js';
import { UserError } from '../errors.js';
import { apiError } from '../kube/errors.js';
import { sleep, writeFileAtomic } from '../fsutil.js';
import { x as tarExtract } from 'tar';
import { appFolder, buildApp } from '../builds.js';
import { buildOfSources, generateSbom, SBOM_DIGEST_ANNOTATION, SBOM_KEY } from '../scan.js';
import { signImage } from '../signing.js';

export interface ScenarioContext {
  cluster: LabCluster;
  engine: Engine;
  /** The lab's workspace folder: files handed to the learner on their own machine. */
  workspace: string;
}

 /** The kubelet's config file on a kubeadm (kind) node. */
export const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';

const STEPS_FILE = /^steps(\.[a-z]+)?\.ya?ml$/;

const KIND_ORDER = ['Namespace', 'CustomResourceDefinition', 'PriorityClass', 'RuntimeClass', 'ServiceAccount', 'Secret', 'ConfigMap',
  'ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
  'NetworkPolicy', 'Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Pod'];
const rank = (k?: string) => { const i = KIND_ORDER.indexOf(k ?? ''); return i < 0 ? KIND_ORDER.length : i; };

/** Cluster-scoped kinds a reset sweeps by the lesson label. */
const CLUSTER_KINDS: [string, string][] = [
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'], ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding'], ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy'],
  ['node.k8s.io/v1', 'RuntimeClass'], ['scheduling.k8s.io/v1', 'PriorityClass'],
];

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

function labelled<T extends KubernetesObject>(o: T, lessonId: string): T {
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
      if (i < 40 && ((/serviceaccount.*not found|namespace .* is being terminated|not found/i.test(info.message) && o.kind !== 'Namespace') || /ValidatingAdmissionPolicy/.test(info.message))) { await sleep(100); continue; }
      const what = `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
      if (info.unreachable) throw e;
      throw new UserError(`could not apply ${what}: ${info.message}`);
    }
  }
}

export async function applyObjects(ctx: ScenarioContext, objs: KubernetesObject[], lessonId: string): Promise<void> {
  for (const o of objs) await applyWithRetry(ctx, labelled(o, lessonId));
}

/** The steps of a folder for this engine: steps.<engine>.yaml where the engines differ, else steps.yaml. */
async function readSteps(dir: string, engine: EngineName): Promise<Step[]> {
  let text: string | undefined;
  let file = '';
  for (const f of [`steps.${engine}.yaml`, 'steps.yaml']) {
    file = join(dir, f);
    text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) break;
  }
  if (text === undefined) return [];
  const parsed = stepsFileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const is = parsed.error.issues[0];
    throw new UserError(`${file}: ${is.path.join('.')}: ${is.message}`);
  }
  if (parsed.data.engines && !parsed.data.engines.includes(engine)) {
    throw new UserError(`${file} applies to the ${parsed.data.engines.join('/')} engine, not ${engine}`);
  }
  return parsed.data.steps;
}

/** A folder's manifests as this cluster names their namespaces (P-N in a shared cluster). */
async function lessonManifests(ctx: ScenarioContext, dir: string): Promise<KubernetesObject[]> {
  return (await loadManifests(dir)).map((o) => ctx.cluster.rename.value(o));
}

/** Run set-up / solution / shortcut steps from a folder. */
export async function runSteps(ctx: ScenarioContext, dir: string, steps: Step[], lessonId: string): Promise<void> {
  for (const raw of steps) {
    const s = ctx.cluster.rename.value(raw);
    if ('apply' in s) {
      await applyObjects(ctx, (await loadManifests(join(dir, s.apply)).catch(async () => {
        const docs = parseAllDocuments(await readFile(join(dir, s.apply), 'utf8')).map((d) => d.toJS()).filter(Boolean);
        return docs;
      })).map((o) => ctx.cluster.rename.value(o)), lessonId);
    } else if ('delete' in s) {
      const r = s.delete;
      await ctx.cluster.delete({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } });
    } else if ('patch' in s) {
      const { merge, ...r } = s.patch;
      await ctx.cluster.mergePatch({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace }, ...merge } as KubernetesObject);
    } else if ('nodeFile' in s) {
      const content = s.nodeFile.content ?? await readFile(join(dir, s.nodeFile.file ?? ''), 'utf8');
      await ctx.engine.writeNodeFile(s.nodeFile.path, content);
    } else if ('removeNodeFile' in s) {
      await ctx.engine.removeNodeFile(s.removeNodeFile);
    } else if ('kubeletConfig' in s) {
      if (!ctx.engine.restartKubelet) throw new UserError(`the ${ctx.engine.name} engine has no kubelet to configure`, 'use `--engine kind`');
      const cur = parseDocument((await ctx.engine.readNodeFile(KUBELET_CONFIG)) ?? '{}');
      for (const [path, value] of Object.entries(s.kubeletConfig.set)) {
        if (value === null) cur.deleteIn(path.split('.'));
        else cur.setIn(path.split('.'), value);
      }
      await ctx.engine.writeNodeFile(KUBELET_CONFIG, cur.toString());
      if (s.kubeletConfig.restart) await ctx.engine.restartKubelet();
    } else if ('pinImageDigest' in s) {
      await pinImageDigest(ctx, s.pinImageDigest.namespace, s.pinImageDigest.name);
    } else if ('workspaceFile' in s) {
      const content = s.workspaceFile.content ?? await readFile(join(dir, s.workspaceFile.file ?? ''), 'utf8');
      const target = workspaceFile(ctx, s.workspaceFile.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFileAtomic(target, content);
    } else if ('workspaceDir' in s) {
      const target = workspaceFile(ctx, s.workspaceDir.path);
      await rm(target, { recursive: true, force: true });
      await mkdir(dirname(target), { recursive: true });
      await cp(join(dir, s.workspaceDir.from), target, { recursive: true });
    } else if ('unpack' in s) {
      const tarball = workspaceFile(ctx, s.unpack.tarball);
      if (!existsSync(tarball)) throw new UserError(`the workspace has no ${s.unpack.tarball}`, 'a lesson reset hands it out again');
      const target = workspaceFile(ctx, s.unpack.into);
      await rm(target, { recursive: true, force: true });
      await mkdir(target, { recursive: true });
      // npm's tarballs hold the package under package/
      await tarExtract({ file: tarball, cwd: target, strip: 1, strict: true });
    } else if ('build' in s) {
      const rec = await buildApp({ engine: ctx.engine, workspace: ctx.workspace, path: s.build.path });
      if (s.build.deploy) await deployImage(ctx, s.build.deploy, rec.image);
    } else if ('sbom' in s) {
      await publishSbom(ctx, s.sbom.path, s.sbom.publish, lessonId);
    } else if ('sign' in s) {
      await signDeploymentImage(ctx, s.sign);
    } else if ('manifest' in s) {
      const { component, wait, ...edit } = s.manifest;
      const cur = await ctx.engine.readManifest(component);
      await ctx.engine.writeManifest(component, editManifest(cur, edit), { wait });
      if (wait === false) await sleep(3000); // let the component restart into its broken state before anything is judged
    } else if ('generateSecret' in s) {
      const value = randomBytes(s.generateSecret.bytes).toString('base64');
      for (const t of s.generateSecret.targets) {
        const cur = await ctx.cluster.read<KubernetesObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', metadata: { name: t.name, namespace: t.namespace } });
        const data = { ...(cur?.data ?? {}), [t.key]: Buffer.from(value).toString('base64') };
        if (cur) await ctx.cluster.replace({ ...cur, data } as KubernetesObject);
        else await applyObjects(ctx, [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: t.name, namespace: t.namespace }, type: 'Opaque', data } as KubernetesObject], lessonId);
      }
    } else if ('moveSecret' in s) {
      const { from, to, keep } = s.moveSecret;
      const cur = await ctx.cluster.read<KubernetesObject & { data?: Record<string, string>; type?: string }>({ apiVersion: 'v1', kind: 'Secret', metadata: { name: from.name, namespace: from.namespace } });
      if (!cur) throw new UserError(`Secret ${from.namespace}/${from.name} is not there to move`);
      await applyObjects(ctx, [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: from.name, namespace: to.namespace }, type: cur.type, data: cur.data } as KubernetesObject], lessonId);
      if (!keep) await ctx.cluster.delete({ apiVersion: 'v1', kind: 'Secret', metadata: { name: from.name, namespace: from.namespace } });
    } else if ('rewrite' in s) {
      const items = await ctx.cluster.list(s.rewrite.apiVersion, s.rewrite.kind, s.rewrite.namespace);
      for (const o of items) await ctx.cluster.replace(o);
    } else if ('wait' in s) {
      await waitDeployment(ctx, s.wait.namespace, s.wait.name, s.wait.timeoutSeconds * 1000);
    }
  }
}

/** The `sbom` step: a CycloneDX SBOM of a workspace app, published as a ConfigMap annotated with the digest of its build. */
async function publishSbom(ctx: ScenarioContext, path: string, to: { namespace: string; name: string }, lessonId: string): Promise<void> {
  const { dir } = await appFolder(ctx.workspace, path);
  const build = await buildOfSources(ctx.workspace, dir, ctx.engine.name);
  if (!build) throw new UserError(`the sources in ${dir} were never built on this engine, so an SBOM of them describes no image`, 'add a `build` step before the `sbom` step');
  const doc = await generateSbom(dir, { image: build.image });
  await applyObjects(ctx, [{
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: to.name, namespace: to.namespace, annotations: { [SBOM_DIGEST_ANNOTATION]: build.digest } },
    data: { [SBOM_KEY]: JSON.stringify(doc, null, 2) },
  } as KubernetesObject], lessonId);
}

/** Point a Deployment's container (the named one, else its only one) at an image. */
export async function deployImage(ctx: ScenarioContext, to: { namespace: string; name: string; container?: string }, image: string): Promise<string> {
  // Read, change, replace — again when the deployment controller updated it in between (409 Conflict).
  for (let attempt = 1; ; attempt++) {
    const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: to.name, namespace: to.namespace } });
    if (!d) throw new UserError(`Deployment ${to.namespace}/${to.name} not found`, '`kubectl get deploy -A` lists them; a lesson reset puts its scenario back');
    const cs: { name: string; image: string }[] = d.spec.template.spec.containers;
    const c = to.container ? cs.find((x) => x.name === to.container) : cs.length === 1 ? cs[0] : undefined;
    if (!c) throw new UserError(to.container ? `Deployment ${to.namespace}/${to.name} has no container ${to.container}` : `Deployment ${to.namespace}/${to.name} has ${cs.length} containers: say which`, `containers: ${cs.map((x) => x.name).join(', ')}`);
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
async function signDeploymentImage(ctx: ScenarioContext, t: { namespace: string; name: string; container?: string; key?: string }): Promise<void> {
  const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: t.name, namespace: t.namespace } });
  if (!d) throw new UserError(`Deployment ${t.namespace}/${t.name} not found, nothing to sign`);
  const cs: { name: string; image: string }[] = d.spec.template.spec.containers;
  const c = t.container ? cs.find((x) => x.name === t.container) : cs[0];
  if (!c) throw new UserError(`Deployment ${t.namespace}/${t.name} has no container ${t.container}`);
  await signImage({ cluster: ctx.cluster, workspace: ctx.workspace, image: c.image, keyFile: t.key ? workspaceFile(ctx, t.key) : undefined });
}

/** The digest a Deployment's pods run each image at (status.containerStatuses[].imageID), or a stable made-up one. */
async function pinImageDigest(ctx: ScenarioContext, namespace: string, name: string): Promise<void> {
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
  const sel = Object.entries(d.spec.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = (await ctx.cluster.core.listNamespacedPod({ namespace, labelSelector: sel })).items;
  const seen = new Map<string, string>();
  for (const p of pods) for (const c of p.status?.containerStatuses ?? []) {
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
    if (d && (d.status?.readyReplicas ?? 0) >= want && (d.status?.updatedReplicas ?? 0) >= want && (d.status?.replicas ?? 0) <= want && (d.status?.observedGeneration ?? 0) >= d.metadata.generation) return true;
    await sleep(100);
  }
  return false;
}

/**
 * The lab images a lesson names anywhere (scenario, checks, solution, shortcuts):
 * `registry.kube-seclab.local/<name>` — except the apps it hands out, which `kube-seclab build` makes.
 */
export async function lessonImageNames(lesson: Lesson): Promise<string[]> {
  const names = new Set<string>();
  const handedOut = new Set(lesson.reset.workspaceFiles.map((f) => f.replace(/\/+$/, '').split('/').pop()!));
  for (const dir of [lesson.dir, lesson.scenarioDir]) {
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
      if (!e.isFile() || !/\.ya?ml$/.test(e.name)) continue;
      const text = await readFile(join(e.parentPath, e.name), 'utf8');
      for (const m of text.matchAll(/registry\.kube-seclab\.local\/([a-z0-9][a-z0-9-]*)/g)) if (!handedOut.has(m[1])) names.add(m[1]);
    }
  }
  return [...names].sort();
}

/** Apply a fix folder: its manifests, then its steps.yaml. */
export async function applyFix(ctx: ScenarioContext, fix: Fix, lessonId: string): Promise<void> {
  await applyObjects(ctx, await lessonManifests(ctx, fix.dir), lessonId);
  await runSteps(ctx, fix.dir, await readSteps(fix.dir, ctx.engine.name), lessonId);
}

/** The namespaces a lesson owns: those its scenario creates (as this cluster names them). */
export async function lessonNamespaces(lesson: Lesson, ctx?: ScenarioContext): Promise<string[]> {
  const names = (await loadManifests(lesson.scenarioDir)).filter((o) => o.kind === 'Namespace').map((o) => o.metadata!.name!);
  return ctx ? names.map((n) => ctx.cluster.rename.ns(n)) : names;
}

async function waitNamespacesGone(ctx: ScenarioContext, names: string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (const name of names) {
    while (await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })) {
      if (Date.now() > end) throw new UserError(`namespace ${name} is still terminating after ${timeoutMs / 1000}s`, 'run `kube-seclab status`; the controller-manager may be down');
      await sleep(50);
    }
  }
}

async function removeClusterObjects(ctx: ScenarioContext, lesson: Lesson): Promise<void> {
  for (const c of lesson.reset.controlPlane) await restoreComponent(ctx, c);
  for (const f of lesson.reset.nodeFiles) await ctx.engine.removeNodeFile(f);
  for (const f of lesson.reset.workspaceFiles) await rm(workspaceFile(ctx, f), { force: true, recursive: true });
  if (lesson.reset.kubelet) await ctx.engine.restoreKubeletConfig?.();
  for (const r of lesson.reset.objects.map((x) => ctx.cluster.rename.value(x))) await ctx.cluster.delete({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } });
  // A shared cluster's lessons write no cluster-scoped object (and the learner may not list them).
  if (ctx.cluster.rename.active) return;
  const sel = `${LESSON_LABEL}=${lesson.id}`;
  await Promise.all(CLUSTER_KINDS.map(async ([apiVersion, kind]) => {
    for (const o of await ctx.cluster.list(apiVersion, kind, undefined, sel)) await ctx.cluster.delete({ apiVersion, kind, metadata: { name: o.metadata!.name! } });
  }));
  await removeWebhooksInto(ctx, await lessonNamespaces(lesson, ctx));
}

/**
 * Admission webhooks whose backend is a Service in the lesson's namespaces, whatever the learner
 * named them: a reset empties those namespaces, and a webhook left calling into them (with
 * failurePolicy Fail) would refuse the next set-up's pods — or every pod in the cluster.
 */
async function removeWebhooksInto(ctx: ScenarioContext, namespaces: string[]): Promise<void> {
  if (!namespaces.length) return;
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    let hooks: (KubernetesObject & { webhooks?: { clientConfig?: { service?: { namespace?: string } } }[] })[];
    try {
      hooks = await ctx.cluster.list('admissionregistration.k8s.io/v1', kind);
    } catch (e) {
      if (apiError(e).code === 403) continue; // credentials confined to the learner's namespaces cannot have made one either
      throw e;
    }
    for (const w of hooks) {
      if (w.webhooks?.some((h) => namespaces.includes(h.clientConfig?.service?.namespace ?? ''))) {
        await ctx.cluster.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name: w.metadata!.name! } });
      }
    }
  }
}

/** Remove everything of a lesson: its namespaces, labelled cluster objects, node files, control-plane edits. */
export async function removeLesson(ctx: ScenarioContext, lesson: Lesson): Promise<void> {
  await removeClusterObjects(ctx, lesson);
  const namespaces = await lessonNamespaces(lesson, ctx);
  // A shared cluster's namespaces are made by the instructor's `up` and stay until `down` (a learner
  // may not create namespaces): they are emptied and their labels put back instead.
  if (ctx.cluster.rename.active) {
    await Promise.all(namespaces.map((name) => restoreNamespace(ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined)));
    return;
  }
  await Promise.all(namespaces.map((name) => ctx.cluster.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
}

/**
 * Bring a lesson namespace back to exactly the scenario's: emptied in place, and its labels and
 * annotations replaced by the scenario's (a learner's `pod-security…` label goes too).
 */
async function restoreNamespace(ctx: ScenarioContext, ns: KubernetesObject, lessonId: string | undefined): Promise<void> {
  const name = ns.metadata!.name!;
  let cur = await ctx.cluster.read<KubernetesObject & { status?: { phase?: string } }>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (cur?.metadata?.deletionTimestamp) {
    await waitNamespacesGone(ctx, [name], 60_000);
    cur = undefined;
  }
  if (!cur) return;
  await ctx.cluster.sweepNamespace(name);
  const want = lessonId ? labelled(ns, lessonId) : ns;
  // A shared cluster's ownership marks on the learner's namespace stay.
  const keepLabels = Object.fromEntries(Object.entries(cur.metadata?.labels ?? {}).filter(([k]) => k === LEARNER_LABEL));
  const keepAnnotations = Object.fromEntries(Object.entries(cur.metadata?.annotations ?? {}).filter(([k]) => k === LAB_ID_ANNOTATION));
  cur.metadata!.labels = { 'kubernetes.io/metadata.name': name, ...keepLabels, ...(want.metadata?.labels ?? {}) };
  cur.metadata!.annotations = { ...keepAnnotations, ...(want.metadata?.annotations ?? {}) };
  await ctx.cluster.replace(cur);
}

/** Put a lesson's insecure scenario in place (from scratch): remove, apply manifests, run set-up steps, wait for workloads. */
export async function resetLesson(ctx: ScenarioContext, lesson: Lesson): Promise<void> {
  if (ctx.engine.prepareImages) await ctx.engine.prepareImages(await lessonImageNames(lesson));
  const objs = await lessonManifests(ctx, lesson.scenarioDir);
  const namespaces = () => Promise.all(objs.filter((o) => o.kind === 'Namespace').map((ns) => restoreNamespace(ctx, ns, lesson.id)));
  // Empty the lesson's namespaces first while the API server works — then whatever the lesson encrypted
  // there is gone before the control plane is put back; a broken API server is repaired first instead.
  if ((await ctx.engine.status()).healthy) {
    await namespaces();
    await removeClusterObjects(ctx, lesson);
  } else {
    await removeClusterObjects(ctx, lesson);
    await namespaces();
  }
  await applyObjects(ctx, objs, lesson.id);
  await runSteps(ctx, lesson.scenarioDir, await readSteps(lesson.scenarioDir, ctx.engine.name), lesson.id);
  await Promise.all(objs.filter((o) => o.kind === 'Deployment').map((d) => waitDeployment(ctx, d.metadata!.namespace!, d.metadata!.name!, 30_000)));
}
