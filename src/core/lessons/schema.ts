import { z } from 'zod';
import { KUBE_SCORE_CHECKS, CIS_CHECKS, KUBE_SCORE_OPTIONAL_ENABLED } from '../audit/catalogue.js';

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
export const stepsFileSchema = z
  .object({
    /** The engines this fix means something on (a shortcut about local-only flags, say); default: every engine. */
    engines: z.array(z.enum(ENGINE_NAMES)).min(1).optional(),
    description: z.string().optional(),
    /**
     * A shortcut's: the lesson's checks it fails on every engine — checks that read only API objects
     * (CAUGHT_ANYWHERE_TYPES in src/core/lessons/loader.ts), so the same manifests give the same verdict
     * wherever they run. `dev verify` proves each listed check fails where it runs; the kind suite
     * leaves such a shortcut to the local engine's run (test/kind/lessons.ts).
     */
    caughtBy: z.array(z.string().min(1)).min(1).optional(),
    steps: z.array(z.record(z.string(), z.unknown())).default([]),
  })
  .strict();

/** The fixed part of a check entry; the rest is exactly one `<type>: {params}`. */
export const checkBaseSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  title: z.string().min(1),
  objective: z.string(),
  requires: z.enum(['api', 'kind']).optional(),
  /** Only on these engines (the same point is checked differently on each); skipped elsewhere. */
  engines: z.array(z.enum(ENGINE_NAMES)).min(1).optional(),
});

const KUBE_SCORE_IDS = new Map(KUBE_SCORE_CHECKS.map(([id, , kind]) => [id, kind]));
const CIS_IDS = new Map(CIS_CHECKS.map(([id, , manual]) => [id, manual]));
const CIS_TARGET = new Map(CIS_CHECKS.map(([id, target]) => [id, target]));
/** `ID` or `ID@NAMESPACE` (only findings on objects of that namespace of the lesson). */
const NS_SCOPE = /^([^@\s]+)(?:@([a-z0-9]([-a-z0-9]*[a-z0-9])?))?$/;
export function splitScope(entry: string): { id: string; namespace?: string } {
  const m = NS_SCOPE.exec(entry);
  return m ? { id: m[1], namespace: m[2] } : { id: entry };
}
const scoped = (what: string) => z.string().regex(NS_SCOPE, `${what}, optionally @NAMESPACE (one of the lesson's)`);
const kubeScoreId = scoped('a kube-score check id').superRefine((entry, ctx) => {
  const { id } = splitScope(entry);
  const kind = KUBE_SCORE_IDS.get(id);
  if (!kind) ctx.addIssue({ code: 'custom', message: `kube-score has no check ${id} (\`kube-score list\` shows them)` });
  else if (kind === 'optional' && !KUBE_SCORE_OPTIONAL_ENABLED.includes(id))
    ctx.addIssue({
      code: 'custom',
      message: `${id} is an optional kube-score check that dev audit does not enable (enabled: ${KUBE_SCORE_OPTIONAL_ENABLED.join(', ')})`,
    });
});
const cisId = scoped('a CIS check id').superRefine((entry, ctx) => {
  const { id, namespace } = splitScope(entry);
  if (namespace && CIS_TARGET.get(id) !== 'policies')
    ctx.addIssue({ code: 'custom', message: `${id} judges the control-plane node, not a namespace's objects: @${namespace} does not apply` });
  const manual = CIS_IDS.get(id);
  if (manual === undefined) ctx.addIssue({ code: 'custom', message: `CIS Kubernetes 1.12 (kube-bench) has no check ${id}` });
  else if (manual)
    ctx.addIssue({ code: 'custom', message: `${id} is a manual CIS check: kube-bench always reports WARN for it, so it proves nothing either way` });
});
const MISSING = (what: string) => ({ error: (iss: { input: unknown }) => (iss.input === undefined ? what : undefined) });
/** A glob over check ids (minimatch), e.g. "container-security-context-*" or "1.2.1[6-9]", optionally @NAMESPACE. */
const topicGlob = scoped('a glob over check ids');
function auditTool(id: z.ZodString | z.ZodType<string>, tool: string) {
  return z
    .object(
      {
        /** Findings the insecure scenario must raise (on the lesson's objects, or the control plane). */
        raise: z.array(id).default([]),
        /** Findings the reference solution must clear (each also in raise); kube-bench must then report the check PASS. */
        clear: z.array(id).default([]),
        /** The lesson's topic beyond `clear`: no finding matching these may remain once it is solved. */
        topic: z.array(topicGlob).default([]),
      },
      MISSING(`required: what ${tool} must raise and clear (\`{}\` with a comment why, when it has nothing to say on the lesson's topic)`),
    )
    .strict()
    .superRefine((t, ctx) => {
      t.clear.forEach((c, i) => {
        if (!t.raise.includes(c))
          ctx.addIssue({ code: 'custom', path: ['clear', i], message: `${c} is not in raise: a finding the scenario does not raise cannot be cleared` });
      });
    });
}
/**
 * What independent auditors (kube-score, kube-bench) must say about the lesson: `kube-seclab dev
 * audit` runs them on the scenario and on the solved state. Both keys are required; an empty one
 * (`{}`) says the auditor has nothing to say on the lesson's topic (write why in a YAML comment).
 */
export const auditSchema = z
  .object(
    {
      kubeScore: auditTool(kubeScoreId, 'kube-score'),
      kubeBench: auditTool(cisId, 'kube-bench'),
    },
    MISSING(
      'required: what kube-score and kube-bench must raise on the scenario and the solution must clear, at the end of lesson.yaml (`audit: {kubeScore: {}, kubeBench: {}}` with a comment why, when they have nothing to say)',
    ),
  )
  .strict();
export type AuditDeclaration = z.infer<typeof auditSchema>;

export const lessonSchema = z
  .object({
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
    reset: z
      .object({
        controlPlane: z.array(component).default([]),
        nodeFiles: z.array(z.string().startsWith('/')).default([]),
        workspaceFiles: z.array(workspacePath).default([]),
        /** Put the kubelet's config back as the node was created (and restart it). */
        kubelet: z.boolean().default(false),
        objects: z.array(objRef).default([]),
      })
      .strict()
      .default({ controlPlane: [], nodeFiles: [], workspaceFiles: [], kubelet: false, objects: [] }),
    /**
     * The generic shortcut battery (src/core/battery): templates `dev verify` applies on top of the
     * solution, besides the lesson's own shortcuts. `add`: opt-in templates this lesson can be judged
     * by; `skip`: automatic ones that mean nothing here, each with the reason.
     */
    battery: z
      .object({
        add: z.array(z.string()).default([]),
        skip: z.record(z.string(), z.string().min(10, 'say why this template does not apply')).default({}),
      })
      .strict()
      .default({ add: [], skip: {} }),
    links: z.array(z.object({ title: z.string(), url: z.string().url() }).strict()).default([]),
    audit: auditSchema,
  })
  .strict();
export type LessonMeta = z.infer<typeof lessonSchema>;
