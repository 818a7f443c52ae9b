import { z } from 'zod';

export const LAYERS = ['cloud', 'cluster', 'image', 'app'] as const;
export type Layer = (typeof LAYERS)[number];
export const LAYER_TITLES: Record<Layer, string> = {
  cloud: 'Cloud & infrastructure',
  cluster: 'Cluster components',
  image: 'Container images',
  app: 'Application code',
};

export const ENGINE_NAMES = ['local', 'kind', 'existing'] as const;
const component = z.enum(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
/** A path inside the lab's workspace folder: relative, no `..`. */
const workspacePath = z.string().regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/, 'a relative path inside the workspace, without ..');
const objRef = z.object({ apiVersion: z.string(), kind: z.string(), namespace: z.string().optional(), name: z.string() }).strict();

/** One action of a scenario set-up, a reference solution or a shortcut. */
export const stepSchema = z.union([
  z.object({ apply: z.string() }).strict(),
  z.object({ delete: objRef }).strict(),
  z.object({ patch: objRef.extend({ merge: z.record(z.string(), z.unknown()) }) }).strict(),
  z.object({ nodeFile: z.object({ path: z.string().startsWith('/'), content: z.string().optional(), file: z.string().optional() }).strict() }).strict(),
  z.object({ removeNodeFile: z.string().startsWith('/') }).strict(),
  /** Change the kubelet's config file (dotted paths → values, null removes) and restart the kubelet (kind). */
  z.object({ kubeletConfig: z.object({ set: z.record(z.string(), z.unknown()), restart: z.boolean().default(true) }).strict() }).strict(),
  /**
   * Pin a Deployment's images by digest — the digest its running pods report (what the node really
   * runs; digests differ per machine, so no fix file can carry them). On the local engine, where
   * pods are simulated, a stable made-up digest.
   */
  z.object({ pinImageDigest: z.object({ namespace: z.string(), name: z.string() }).strict() }).strict(),
  /** A file handed to the learner on their own machine (the lab's workspace folder), e.g. a cluster config to review. */
  z.object({ workspaceFile: z.object({ path: workspacePath, content: z.string().optional(), file: z.string().optional() }).strict() }).strict(),
  /**
   * An npm package tarball in the workspace (one a scenario handed out, e.g. npm-offline/x-1.2.3.tgz)
   * unpacked over a folder of it — what `npm install --offline <tarball>` does to node_modules/<x>.
   */
  z.object({ unpack: z.object({ tarball: workspacePath, into: workspacePath }).strict() }).strict(),
  /** A folder handed to the learner (an app's sources, say): `from` (in this folder) copied over `path` in the workspace, which it replaces. */
  z.object({ workspaceDir: z.object({ path: workspacePath, from: workspacePath }).strict() }).strict(),
  /**
   * What `kube-seclab build PATH` does: build the app in workspace folder `path` as an image of the
   * lab's registry (on kind: docker build + loaded into the node) — and with `deploy`, point a
   * Deployment's container at it, by digest.
   */
  z.object({
    build: z.object({
      path: workspacePath,
      deploy: z.object({ namespace: z.string(), name: z.string(), container: z.string().optional() }).strict().optional(),
    }).strict(),
  }).strict(),
  /**
   * What `kube-seclab sign` does, for the image a Deployment's container runs (by digest): sign it
   * with a key from the workspace (default signing/signing.key) and store the signature.
   */
  z.object({
    sign: z.object({ namespace: z.string(), name: z.string(), container: z.string().optional(), key: workspacePath.optional() }).strict(),
  }).strict(),
  /**
   * What `kube-seclab sbom PATH` writes (a CycloneDX SBOM of workspace app folder `path`: its
   * package.json and node_modules), published as ConfigMap `publish.name` (key sbom.cdx.json),
   * annotated kube-seclab.dev/image-digest with the lab's build of those very sources — what the
   * learner does with `kubectl create configmap` + `kubectl annotate`. Fails if they were never built.
   */
  z.object({
    sbom: z.object({
      path: workspacePath,
      publish: z.object({ namespace: z.string(), name: z.string() }).strict(),
    }).strict(),
  }).strict(),
  z.object({
    manifest: z.object({
      component,
      setFlags: z.record(z.string().regex(/^--/), z.string()).optional(),
      removeFlags: z.array(z.string().regex(/^--/)).optional(),
      volumes: z.array(z.object({ name: z.string(), hostPath: z.string(), mountPath: z.string(), readOnly: z.boolean().optional(), type: z.string().optional() }).strict()).optional(),
      /** false: do not wait for the component to run healthy (a shortcut that breaks it on purpose). */
      wait: z.boolean().optional(),
    }).strict(),
  }).strict(),
  /**
   * A new random credential (what `openssl rand -base64 24` gives a person), written to every
   * target Secret key — a rotation done without any password in the lesson's files. The Secrets are
   * created when missing, their other keys kept.
   */
  z.object({
    generateSecret: z.object({
      bytes: z.number().int().min(12).max(64).default(24),
      targets: z.array(z.object({ namespace: z.string(), name: z.string(), key: z.string() }).strict()).min(1),
    }).strict(),
  }).strict(),
  /** Move (or copy, `keep: true`) a Secret to another namespace, its data and type as they are — what `kubectl get -o json | … | kubectl apply` does. */
  z.object({
    moveSecret: z.object({
      from: z.object({ namespace: z.string(), name: z.string() }).strict(),
      to: z.object({ namespace: z.string() }).strict(),
      keep: z.boolean().default(false),
    }).strict(),
  }).strict(),
  z.object({ rewrite: z.object({ apiVersion: z.string(), kind: z.string(), namespace: z.string() }).strict() }).strict(),
  z.object({ wait: z.object({ kind: z.enum(['Deployment']).default('Deployment'), namespace: z.string(), name: z.string(), timeoutSeconds: z.number().default(30) }).strict() }).strict(),
]);
export type Step = z.infer<typeof stepSchema>;

export const stepsFileSchema = z.object({
  /** The engines this fix means something on (a shortcut about local-only flags, say); default: every engine. */
  engines: z.array(z.enum(ENGINE_NAMES)).min(1).optional(),
  description: z.string().optional(),
  steps: z.array(stepSchema).default([]),
}).strict();

/** The fixed part of a check entry; the rest is exactly one `<type>: {params}`. */
export const checkBaseSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  title: z.string().min(1),
  objective: z.string(),
  requires: z.enum(['api', 'kind']).optional(),
  /** Only on these engines (the same point is checked differently on each); skipped elsewhere. */
  engines: z.array(z.enum(ENGINE_NAMES)).min(1).optional(),
});

export const lessonSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  title: z.string().min(1),
  layer: z.enum(LAYERS),
  difficulty: z.enum(['beginner', 'intermediate', 'advanced']),
  /** Which point of the security guide this lesson teaches, in the guide's words. */
  guide: z.string().min(1),
  requires: z.enum(['api', 'kind']).default('api'),
  /** The folder under scenarios/ (default: the lesson id). */
  scenario: z.string().optional(),
  minutes: z.number().int().positive().optional(),
  objectives: z.array(z.object({ id: z.string(), text: z.string().min(1) }).strict()).min(1),
  hints: z.array(z.string().min(1)).min(2, 'at least two hints, from gentle to explicit'),
  checks: z.array(z.record(z.string(), z.unknown())).min(1),
  /** What a reset must put back besides the scenario's namespaces and labelled objects. */
  reset: z.object({
    controlPlane: z.array(component).default([]),
    nodeFiles: z.array(z.string().startsWith('/')).default([]),
    workspaceFiles: z.array(workspacePath).default([]),
    /** Put the kubelet's config back as the node was created (and restart it). */
    kubelet: z.boolean().default(false),
    objects: z.array(objRef).default([]),
  }).strict().default({ controlPlane: [], nodeFiles: [], workspaceFiles: [], kubelet: false, objects: [] }),
  /**
   * The generic shortcut battery (src/core/battery): templates `dev verify` applies on top of the
   * solution, besides the lesson's own shortcuts. `add`: opt-in templates this lesson can be judged
   * by; `skip`: automatic ones that mean nothing here, each with the reason.
   */
  battery: z.object({
    add: z.array(z.string()).default([]),
    skip: z.record(z.string(), z.string().min(10, 'say why this template does not apply')).default({}),
  }).strict().default({ add: [], skip: {} }),
  links: z.array(z.object({ title: z.string(), url: z.string().url() }).strict()).default([]),
}).strict();
export type LessonMeta = z.infer<typeof lessonSchema>;
