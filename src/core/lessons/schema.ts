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
export const component = z.enum(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
/** A path inside the lab's workspace folder: relative, no `..`. */
export const workspacePath = z.string().regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/, 'a relative path inside the workspace, without ..');
export const objRef = z.object({ apiVersion: z.string(), kind: z.string(), namespace: z.string().optional(), name: z.string() }).strict();

/**
 * A steps file (a scenario's set-up, a reference solution, a shortcut): each step is exactly one
 * `<kind>: {params}`, validated by its kind in the step registry (src/core/steps).
 */
export const stepsFileSchema = z.object({
  /** The engines this fix means something on (a shortcut about local-only flags, say); default: every engine. */
  engines: z.array(z.enum(ENGINE_NAMES)).min(1).optional(),
  description: z.string().optional(),
  steps: z.array(z.record(z.string(), z.unknown())).default([]),
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
