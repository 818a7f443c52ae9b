import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseDocument, LineCounter, isMap } from 'yaml';
import type { z } from 'zod';
import { attackFileSchema, attackStepBaseSchema } from './schema.js';
import { ATTACK_STEPS } from './registry.js';
import type { AttackStepKind } from './types.js';
import type { Requirement } from '../engine/index.js';
import { lineOf, fieldPath, type LoadProblem } from '../lessons/yaml-lines.js';

export interface AttackStepSpec {
  id: string;
  try: string;
  needs: string[];
  next?: string;
  blocked?: string;
  /** The engines it runs on (undefined: every engine that supports what it requires). */
  engines?: ('local' | 'kind')[];
  type: string;
  params: unknown;
  kind: AttackStepKind;
  requires: Requirement;
}

/** A lesson's attack (lessons/<…>/attack/attack.yaml), validated. */
export interface Attack {
  dir: string;
  title: string;
  story: string;
  objective?: string;
  goal: string[];
  steps: AttackStepSpec[];
  /** What its goal needs: `kind` when no goal step runs without a real node. */
  requires: Requirement;
  /** The lab engines on which at least one goal step (and every step it builds on) runs. */
  engines: ('local' | 'kind')[];
}

/** Load a lesson's attack, if it has one; problems are returned with file:line, never thrown. */
export async function loadAttack(lessonDir: string, root: string): Promise<{ attack?: Attack; problems: LoadProblem[] }> {
  const dir = join(lessonDir, 'attack');
  const path = join(dir, 'attack.yaml');
  const file = relative(root, path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { problems: [] };
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length)
    return { problems: [{ file, line: doc.errors[0].linePos?.[0]?.line, message: `invalid YAML: ${doc.errors[0].message.split('\n')[0]}` }] };
  if (!isMap(doc.contents)) return { problems: [{ file, message: 'must be a YAML mapping' }] };
  const problems: LoadProblem[] = [];
  const add = (p: PropertyKey[], message: string) =>
    problems.push({ file, line: lineOf(doc, lc, p as (string | number)[]), field: fieldPath(p) || undefined, message });
  const parsed = attackFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    for (const is of parsed.error.issues) add(is.path, is.message);
    return { problems };
  }
  const steps: AttackStepSpec[] = [];
  parsed.data.steps.forEach((entry, i) => {
    const base = attackStepBaseSchema.safeParse(entry);
    if (!base.success) {
      for (const is of base.error.issues) add(['steps', i, ...is.path], is.message);
      return;
    }
    const keys = Object.keys(entry).filter((k) => !(k in attackStepBaseSchema.shape));
    if (keys.length !== 1) {
      add(
        ['steps', i],
        keys.length ? `has several step kinds (${keys.join(', ')}); one per step` : `names no step kind (one of: ${Object.keys(ATTACK_STEPS).join(', ')})`,
      );
      return;
    }
    const kind = ATTACK_STEPS[keys[0]];
    if (!kind) {
      add(['steps', i, keys[0]], `unknown attack step kind (known: ${Object.keys(ATTACK_STEPS).join(', ')})`);
      return;
    }
    const params = (kind.schema as z.ZodType).safeParse(entry[keys[0]]);
    if (!params.success) {
      for (const is of params.error.issues) add(['steps', i, keys[0], ...is.path], is.message);
      return;
    }
    if (steps.some((s) => s.id === base.data.id)) add(['steps', i, 'id'], `duplicate step id ${base.data.id}`);
    for (const n of base.data.needs) if (!steps.some((s) => s.id === n)) add(['steps', i, 'needs'], `needs ${n}, which is not an earlier step`);
    steps.push({ ...base.data, type: keys[0], params: params.data, kind, requires: kind.requires?.(params.data) ?? 'api' });
  });
  const goal = parsed.data.goal ?? (steps.length ? [steps[steps.length - 1].id] : []);
  parsed.data.goal?.forEach((g, i) => {
    if (!steps.some((s) => s.id === g)) add(['goal', i], `names no step (have: ${steps.map((s) => s.id).join(', ')})`);
  });
  if (problems.length) return { problems };
  // A goal step runs without a real node only if everything it needs does too.
  const needsKind = (id: string): boolean => {
    const s = steps.find((x) => x.id === id)!;
    return s.requires === 'kind' || s.needs.some(needsKind);
  };
  const requires: Requirement = goal.every(needsKind) ? 'kind' : 'api';
  // …and on which engine a goal step runs at all: a step marked for some engines, and every step it builds on, only there.
  const runsOn = (id: string, e: 'local' | 'kind'): boolean => {
    const s = steps.find((x) => x.id === id)!;
    return (!s.engines || s.engines.includes(e)) && (s.requires !== 'kind' || e === 'kind') && s.needs.every((n) => runsOn(n, e));
  };
  const engines = (['local', 'kind'] as const).filter((e) => goal.some((g) => runsOn(g, e)));
  if (!engines.length)
    return { problems: [{ file, field: 'goal', message: "no goal step runs on any engine (look at the steps' `engines` and what they need)" }] };
  return {
    attack: { dir, title: parsed.data.title, story: parsed.data.story.trim(), objective: parsed.data.objective, goal, steps, requires, engines },
    problems,
  };
}
