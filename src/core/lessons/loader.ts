import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseDocument, LineCounter, isMap } from 'yaml';
import type { z } from 'zod';
import { lessonSchema, checkBaseSchema, LAYERS, type LessonMeta, type Layer } from './schema.js';
import { PRIMITIVES } from '../checks/registry.js';
import type { CheckPrimitive } from '../checks/types.js';
import { templateIds } from '../battery/registry.js';
import { lineOf, fieldPath, formatProblem, type LoadProblem } from './yaml-lines.js';
import { stepsFiles, stepsVariant } from '../steps/files.js';
import { loadStepsFile } from '../steps/load.js';
import type { ResetNeed } from '../steps/types.js';
import { loadAttack, type Attack } from '../attacks/loader.js';
import { placeholderProblems, stripTextFields, usesNode, renderText, type LabNames } from './placeholders.js';

export { lineOf, fieldPath, formatProblem, type LoadProblem };

/** The check every lesson with an attack gets: the attack no longer works. */
export const ATTACK_CHECK_ID = 'attack-fails';
import type { EngineName, Requirement } from '../engine/index.js';

export interface CheckSpec {
  id: string;
  title: string;
  objective: string;
  requires: Requirement;
  /** Only on these engines (skipped elsewhere). */
  engines?: EngineName[];
  type: string;
  params: unknown;
  primitive: CheckPrimitive;
}

/** A fix folder (the solution, a shortcut): manifests and steps.yaml, or steps.<engine>.yaml where the engines differ. */
export interface Fix {
  name: string;
  dir: string;
  description?: string;
  engines?: EngineName[];
  /** A shortcut's checks that fail on every engine (its steps.yaml `caughtBy`). */
  caughtBy?: string[];
  /** The control-plane flags its `manifest` steps set or remove ("kube-apiserver --audit-log-maxage"). */
  writesFlags?: string[];
}

export interface Lesson extends Omit<LessonMeta, 'checks'> {
  dir: string;
  /** Where each `audit:` entry is written ("kubeBench.clear.0" → its line in lesson.yaml), for dev audit's messages. */
  auditLines: Record<string, number>;
  scenarioDir: string;
  markdown: string;
  debrief: string;
  checks: CheckSpec[];
  solution: Fix;
  /** Wrong fixes that must not pass (lessons/<…>/shortcuts/<name>/). */
  shortcuts: Fix[];
  /** Correct fixes unlike the reference that must pass (lessons/<…>/alternatives/<name>/). */
  alternatives: Fix[];
  /** The attack the learner can run (lessons/<…>/attack/attack.yaml); an `attack` check proves it fails. */
  attack?: Attack;
  /** The learner works on the control-plane node (its checks, its reset or its text say so): `start` says how to reach it. */
  nodeAccess: boolean;
}

export class Catalogue {
  constructor(
    readonly lessons: Lesson[],
    readonly problems: LoadProblem[],
    readonly root: string,
  ) {}
  get(id: string): Lesson | undefined {
    return this.lessons.find((l) => l.id === id);
  }
  byLayer(layer: Layer): Lesson[] {
    return this.lessons.filter((l) => l.layer === layer);
  }
  next(id: string): Lesson | undefined {
    const i = this.lessons.findIndex((l) => l.id === id);
    return i >= 0 ? this.lessons[i + 1] : undefined;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The fix folders under a lesson's shortcuts/ or alternatives/, sorted. */
async function fixFolders(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/**
 * A fix folder's description (its steps.yaml's, else the first variant's) and the engines it means
 * something on. Its steps files' problems are reported by checkSteps.
 */
async function readFix(dir: string, name: string, root: string): Promise<Fix> {
  let description: string | undefined;
  let caughtBy: string[] | undefined;
  const writes = new Set<string>();
  const engines = new Set<EngineName>();
  let everywhere = false;
  const files = await stepsFiles(dir);
  if (!files.length) everywhere = true;
  for (const f of files) {
    const r = await loadStepsFile(join(dir, f), relative(root, join(dir, f)));
    if (!r.steps) continue;
    description ??= r.steps.description;
    caughtBy ??= r.steps.caughtBy;
    for (const step of r.steps.steps) {
      if (step.type !== 'manifest') continue;
      const m = step.params as { component: string; setFlags?: Record<string, string>; removeFlags?: string[] };
      for (const f of [...Object.keys(m?.setFlags ?? {}), ...(m?.removeFlags ?? [])]) writes.add(`${m.component} ${f}`);
    }
    const variant = stepsVariant(f) as EngineName | undefined;
    if (variant) engines.add(variant);
    else if (r.steps.engines) for (const e of r.steps.engines as EngineName[]) engines.add(e);
    else everywhere = true;
  }
  return {
    name,
    dir,
    description,
    engines: everywhere ? undefined : [...engines],
    ...(caughtBy ? { caughtBy } : {}),
    ...(writes.size ? { writesFlags: [...writes] } : {}),
  };
}

/**
 * Check types whose verdict is a function of API objects alone — the same manifests give the same
 * verdict on every engine — and so may be a shortcut's `caughtBy` (what lets the kind suite leave
 * that shortcut to the local engine's run). Not workload (pods' readiness: a real kubelet's or the
 * local engine's), probes, exec, image layers, node files or flags, the attack.
 */
export const CAUGHT_ANYWHERE_TYPES: readonly string[] = [
  'admission',
  'admissionVariants',
  // A flag in a static-pod manifest, parsed by core (manifestFlags) the same on every engine: a
  // shortcut that writes the flag itself gets the same verdict from it wherever it runs.
  'controlPlaneFlag',
  // NetworkPolicy models: the policies, namespaces' labels and pods' and templates' labels and named ports.
  'networkConnection',
  'networkIsolation',
  'networkReach',
  'object',
  'objects',
  'permissions',
  'podHardening',
  'podSecurity',
  'podTokens',
  'rbac',
  'secretValues',
  'plaintextSecrets',
];

/** Why a check may not be a shortcut's `caughtBy` (undefined: it may). */
export function caughtAnywhereProblem(c: { type: string; requires: string; engines?: string[]; params: unknown }): string | undefined {
  if (!CAUGHT_ANYWHERE_TYPES.includes(c.type))
    return `is a ${c.type} check, whose verdict can differ between engines (caughtBy takes ${CAUGHT_ANYWHERE_TYPES.join(', ')})`;
  if (c.requires !== 'api' || c.engines) return `does not run on every engine (${c.engines ? `engines: ${c.engines.join(', ')}` : `requires ${c.requires}`})`;
  // An object check on status (a pod's readiness, an EndpointSlice's ready endpoints) reads what the runtime did.
  const text = JSON.stringify(c.params);
  if (/"status[.[]|"status"|conditions|EndpointSlice|"Endpoints"|"kind":"Pod"/.test(text))
    return 'reads status the runtime writes (readiness, endpoints), which can differ between engines';
  return undefined;
}

/** Whether a lesson's `reset:` puts back what a step changes. */
function resetCovers(reset: LessonMeta['reset'], need: ResetNeed): boolean {
  if ('controlPlane' in need) return reset.controlPlane.includes(need.controlPlane as never);
  if ('kubelet' in need) return reset.kubelet;
  // a listed folder is removed with everything in it
  const clean = (p: string) => p.replace(/\/+$/, '');
  const within = (path: string, listed: string[]) => listed.some((w) => clean(path) === clean(w) || clean(path).startsWith(`${clean(w)}/`));
  if ('nodeFile' in need) return within(need.nodeFile, reset.nodeFiles);
  return within(need.workspace, reset.workspaceFiles);
}

function describeNeed(need: ResetNeed): string {
  if ('controlPlane' in need) return `reset.controlPlane must list ${need.controlPlane}`;
  if ('nodeFile' in need) return `reset.nodeFiles must cover ${need.nodeFile}`;
  if ('kubelet' in need) return 'reset.kubelet must be true';
  return `reset.workspaceFiles must cover ${need.workspace}`;
}

/** Every steps file of a folder, validated; and each step's effect undone by the lesson's reset. */
async function checkSteps(dir: string, root: string, reset: LessonMeta['reset']): Promise<LoadProblem[]> {
  const problems: LoadProblem[] = [];
  for (const f of await stepsFiles(dir)) {
    const r = await loadStepsFile(join(dir, f), relative(root, join(dir, f)));
    problems.push(...r.problems);
    for (const s of r.steps?.steps ?? []) {
      for (const need of s.kind.undo?.(s.params) ?? []) {
        if (!resetCovers(reset, need))
          problems.push({ file: s.file, line: s.line, field: s.type, message: `a reset would not undo this step: ${describeNeed(need)} (lesson.yaml)` });
      }
    }
  }
  return problems;
}

/**
 * The reference solution is shown with its placeholders filled but applied as written: a
 * placeholder there must sit in a comment (after `#` or `//` on its line). Returns whether one
 * sends the learner to the node; problems are added.
 */
async function solutionPlaceholderProblems(dir: string, root: string, problems: LoadProblem[]): Promise<boolean> {
  let node = false;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries.filter((x) => x.isFile())) {
    const path = join(e.parentPath, e.name);
    const buf = await readFile(path).catch(() => undefined);
    if (!buf || buf.includes(0)) continue; // not text
    const text = buf.toString('utf8');
    if (!text.includes('{{')) continue;
    const file = relative(root, path);
    for (const p of placeholderProblems(text)) problems.push({ file, line: p.line, field: p.placeholder, message: p.message });
    text.split('\n').forEach((line, i) => {
      const at = line.indexOf('{{');
      if (at < 0) return;
      const comment = Math.min(
        ...['#', '//'].map((c) => {
          const k = line.indexOf(c);
          return k < 0 ? Infinity : k;
        }),
      );
      if (!(comment < at))
        problems.push({ file, line: i + 1, message: 'a placeholder in a solution file must sit in a comment: the file is applied as written' });
    });
    node ||= usesNode(text);
  }
  return node;
}

/** The lesson with every text the learner reads filled with this lab's names (placeholders.ts). */
export function renderLesson(l: Lesson, names: LabNames): Lesson {
  const r = (t: string) => renderText(t, names);
  const fix = (f: Fix): Fix => (f.description ? { ...f, description: r(f.description) } : f);
  return {
    ...l,
    title: r(l.title),
    guide: r(l.guide),
    markdown: r(l.markdown),
    debrief: r(l.debrief),
    objectives: l.objectives.map((o) => ({ ...o, text: r(o.text) })),
    hints: l.hints.map(r),
    links: l.links.map((k) => ({ ...k, title: r(k.title) })),
    checks: l.checks.map((c) => ({ ...c, title: r(c.title) })),
    solution: fix(l.solution),
    shortcuts: l.shortcuts.map(fix),
    alternatives: l.alternatives.map(fix),
  };
}

/** The path of the first string holding `{{` in lesson data, if any. */
function firstPlaceholder(v: unknown, path: (string | number)[]): (string | number)[] | undefined {
  if (typeof v === 'string') return v.includes('{{') ? path : undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = firstPlaceholder(v[i], [...path, i]);
      if (p) return p;
    }
    return undefined;
  }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = firstPlaceholder(x, [...path, k]);
      if (p) return p;
    }
  }
  return undefined;
}

/** Load and validate one lesson folder; problems are returned, never thrown. */
export async function loadLesson(dir: string, root: string, expectedLayer?: string): Promise<{ lesson?: Lesson; problems: LoadProblem[] }> {
  const file = relative(root, join(dir, 'lesson.yaml'));
  const problems: LoadProblem[] = [];
  let text: string;
  try {
    text = await readFile(join(dir, 'lesson.yaml'), 'utf8');
  } catch {
    return { problems: [{ file, message: 'missing lesson.yaml' }] };
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    return { problems: [{ file, line: e.linePos?.[0]?.line, message: `invalid YAML: ${e.message.split('\n')[0]}` }] };
  }
  if (!isMap(doc.contents)) return { problems: [{ file, message: 'must be a YAML mapping' }] };
  const raw = doc.toJS();
  const add = (path: PropertyKey[], message: string) =>
    problems.push({ file, line: lineOf(doc, lc, path as (string | number)[]), field: fieldPath(path) || undefined, message });
  const parsed = lessonSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) add(issue.path, issue.message);
    return { problems };
  }
  const meta = parsed.data;
  for (const p of placeholderProblems(text)) problems.push({ file, line: p.line, field: p.placeholder, message: p.message });
  const dataPlaceholder = firstPlaceholder(stripTextFields(raw), []);
  if (dataPlaceholder)
    add(
      dataPlaceholder,
      'placeholders ({{…}}) are filled only in text (title, guide, objectives, hints, check titles, link titles); this field is used as written',
    );
  if (expectedLayer && meta.layer !== expectedLayer) add(['layer'], `is ${meta.layer} but the lesson lives under lessons/${expectedLayer}/`);

  const objectiveIds = new Set(meta.objectives.map((o) => o.id));
  const checks: CheckSpec[] = [];
  const seen = new Set<string>();
  meta.checks.forEach((entry, i) => {
    const base = checkBaseSchema.safeParse(entry);
    if (!base.success) {
      for (const is of base.error.issues) add(['checks', i, ...is.path], is.message);
      return;
    }
    const typeKeys = Object.keys(entry).filter((k) => !(k in checkBaseSchema.shape));
    if (typeKeys.length !== 1) {
      add(
        ['checks', i],
        typeKeys.length
          ? `has several check types (${typeKeys.join(', ')}); one per check`
          : `names no check type (one of: ${Object.keys(PRIMITIVES).join(', ')})`,
      );
      return;
    }
    const type = typeKeys[0];
    const primitive = PRIMITIVES[type];
    if (!primitive) {
      add(['checks', i, type], `unknown check type (known: ${Object.keys(PRIMITIVES).join(', ')})`);
      return;
    }
    const params = (primitive.schema as z.ZodType).safeParse(entry[type]);
    if (!params.success) {
      for (const is of params.error.issues) add(['checks', i, type, ...is.path], is.message);
      return;
    }
    if (!objectiveIds.has(base.data.objective)) add(['checks', i, 'objective'], `names no objective (have: ${[...objectiveIds].join(', ')})`);
    if (seen.has(base.data.id)) add(['checks', i, 'id'], `duplicate check id ${base.data.id}`);
    seen.add(base.data.id);
    const needs: Requirement = base.data.requires ?? primitive.requires?.(params.data) ?? 'api';
    checks.push({
      id: base.data.id,
      title: base.data.title,
      objective: base.data.objective,
      requires: needs,
      engines: base.data.engines,
      type,
      params: params.data,
      primitive,
    });
  });
  const templates = templateIds();
  meta.battery.add.forEach((t, i) => {
    if (!templates.includes(t)) add(['battery', 'add', i], `unknown shortcut template ${t} (known: ${templates.join(', ')})`);
  });
  for (const t of Object.keys(meta.battery.skip))
    if (!templates.includes(t)) add(['battery', 'skip', t], `unknown shortcut template ${t} (known: ${templates.join(', ')})`);
  for (const o of meta.objectives)
    if (!checks.some((c) => c.objective === o.id) && problems.length === 0) add(['objectives'], `objective ${o.id} has no check`);

  // The attack: its own file, and the check that proves it fails (added here, requiring what its goal needs).
  const attackLoad = await loadAttack(dir, root);
  problems.push(...attackLoad.problems);
  const explicit = checks.findIndex((c) => c.type === 'attack');
  if (explicit >= 0)
    add(['checks', meta.checks.findIndex((e) => e.id === checks[explicit].id)], 'the attack check is added from attack/attack.yaml; remove this entry');
  if (attackLoad.attack) {
    const a = attackLoad.attack;
    if (a.objective && !objectiveIds.has(a.objective))
      problems.push({
        file: relative(root, join(a.dir, 'attack.yaml')),
        field: 'objective',
        message: `names no objective of the lesson (have: ${[...objectiveIds].join(', ')})`,
      });
    if (checks.some((c) => c.id === ATTACK_CHECK_ID)) add(['checks'], `check id ${ATTACK_CHECK_ID} is the attack's`);
    checks.push({
      // A shared cluster lends the learner no identity to attack with (tokens, impersonation): the lab's own clusters only.
      id: ATTACK_CHECK_ID,
      title: `The attack fails: ${a.title}`,
      objective: a.objective ?? meta.objectives[0].id,
      requires: a.requires,
      engines: a.engines,
      type: 'attack',
      params: {},
      primitive: PRIMITIVES.attack,
    });
  }

  const scenarioDir = join(root, 'scenarios', meta.scenario ?? meta.id);
  if (!(await exists(scenarioDir))) problems.push({ file: relative(root, scenarioDir), message: 'scenario folder is missing' });
  const markdown = await readFile(join(dir, 'lesson.md'), 'utf8').catch(() => {
    problems.push({ file: relative(root, join(dir, 'lesson.md')), message: 'missing lesson.md' });
    return '';
  });
  const debrief = await readFile(join(dir, 'debrief.md'), 'utf8').catch(() => {
    problems.push({ file: relative(root, join(dir, 'debrief.md')), message: 'missing debrief.md' });
    return '';
  });
  for (const [name, body] of [
    ['lesson.md', markdown],
    ['debrief.md', debrief],
  ] as const) {
    for (const p of placeholderProblems(body)) problems.push({ file: relative(root, join(dir, name)), line: p.line, field: p.placeholder, message: p.message });
  }
  const solutionUsesNode = await solutionPlaceholderProblems(join(dir, 'solution'), root, problems);
  if (!(await exists(join(dir, 'solution')))) problems.push({ file: relative(root, join(dir, 'solution')), message: 'missing the reference solution folder' });
  const shortcutNames = await fixFolders(join(dir, 'shortcuts'));
  const alternativeNames = await fixFolders(join(dir, 'alternatives'));
  if (shortcutNames.length === 0)
    problems.push({ file: relative(root, join(dir, 'shortcuts')), message: 'needs at least one shortcut (a wrong fix that must not pass)' });
  if (problems.length) return { problems };
  // Every steps file (scenario, solution, shortcuts, alternatives; every engine's): known step kinds,
  // valid parameters, at file:line — and nothing a reset would not undo.
  const fixDirs = [join(dir, 'solution'), ...shortcutNames.map((n) => join(dir, 'shortcuts', n)), ...alternativeNames.map((n) => join(dir, 'alternatives', n))];
  for (const d of [scenarioDir, ...fixDirs]) problems.push(...(await checkSteps(d, root, meta.reset)));
  const solution = await readFix(join(dir, 'solution'), 'solution', root);
  const shortcuts = await Promise.all(shortcutNames.map((n) => readFix(join(dir, 'shortcuts', n), n, root)));
  const alternatives = await Promise.all(alternativeNames.map((n) => readFix(join(dir, 'alternatives', n), n, root)));
  for (const f of [solution, ...alternatives].filter((x) => x.caughtBy))
    problems.push({
      file: relative(root, join(f.dir, 'steps.yaml')),
      field: 'caughtBy',
      message: 'only a shortcut is caught (the solution and the alternatives must pass)',
    });
  for (const s of shortcuts) {
    for (const cid of s.caughtBy ?? []) {
      const c = checks.find((x) => x.id === cid);
      let why = !c ? `is not a check of this lesson (${checks.map((x) => x.id).join(', ')})` : caughtAnywhereProblem(c);
      // A flag's verdict is the same everywhere only for a value the shortcut writes itself; any other
      // comes from the engine's own manifest (kubeadm's on kind, the lab's on the local engine).
      const flag = c?.type === 'controlPlaneFlag' ? (c.params as { component: string; flag: string }) : undefined;
      if (!why && flag && !s.writesFlags?.includes(`${flag.component} ${flag.flag}`))
        why = `reads ${flag.component} ${flag.flag}, which this shortcut's manifest steps do not set or remove — its value there comes from each engine's own manifest`;
      if (why) problems.push({ file: relative(root, join(s.dir, 'steps.yaml')), field: 'caughtBy', message: `${cid} ${why}` });
    }
  }
  if (problems.length) return { problems };
  const { checks: _raw, ...rest } = meta;
  const auditLines: Record<string, number> = {};
  for (const tool of ['kubeScore', 'kubeBench'] as const) {
    for (const kind of ['raise', 'clear', 'topic'] as const) {
      meta.audit[tool][kind].forEach((_, i) => {
        const line = lineOf(doc, lc, ['audit', tool, kind, i]);
        if (line) auditLines[`${tool}.${kind}.${i}`] = line;
      });
    }
  }
  return {
    lesson: {
      ...rest,
      dir,
      scenarioDir,
      markdown,
      debrief,
      checks,
      auditLines,
      attack: attackLoad.attack,
      nodeAccess:
        checks.some((c) => c.primitive.controlPlane) ||
        meta.reset.controlPlane.length > 0 ||
        meta.reset.nodeFiles.length > 0 ||
        meta.reset.kubelet ||
        solutionUsesNode ||
        usesNode(
          [markdown, meta.title, meta.guide, ...meta.objectives.map((o) => o.text), ...meta.hints, ...meta.checks.map((c) => String(c.title ?? ''))].join('\n'),
        ),
      solution,
      shortcuts,
      alternatives,
    },
    problems,
  };
}

/** Every lesson under <root>/lessons/<layer>/<nn-id>/, in layer order then folder order. */
export async function loadCatalogue(root: string): Promise<Catalogue> {
  const lessons: Lesson[] = [];
  const problems: LoadProblem[] = [];
  for (const layer of LAYERS) {
    const layerDir = join(root, 'lessons', layer);
    const dirs = (await readdir(layerDir, { withFileTypes: true }).catch(() => []))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const d of dirs) {
      const r = await loadLesson(join(layerDir, d), root, layer);
      problems.push(...r.problems);
      if (r.lesson) {
        if (lessons.some((l) => l.id === r.lesson!.id))
          problems.push({ file: relative(root, join(layerDir, d, 'lesson.yaml')), field: 'id', message: `duplicate lesson id ${r.lesson.id}` });
        else lessons.push(r.lesson);
      }
    }
  }
  return new Catalogue(lessons, problems, root);
}
