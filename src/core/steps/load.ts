import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseDocument, LineCounter, isMap } from 'yaml';
import type { z } from 'zod';
import { stepsFileSchema } from '../lessons/schema.js';
import { lineOf, fieldPath, type LoadProblem } from '../lessons/yaml-lines.js';
import { STEP_KINDS } from './registry.js';
import { STEP_ENGINES, stepsVariant } from './files.js';
import type { StepSpec, StepsFile } from './types.js';

/**
 * Read and validate a steps file: each step exactly one known kind with valid parameters, the files
 * it reads present beside it. Problems carry the file (as `shown`, default the path) and line;
 * never thrown.
 */
export async function loadStepsFile(path: string, shown = path): Promise<{ steps?: StepsFile; problems: LoadProblem[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return { problems: [{ file: shown, message: `cannot read: ${(e as Error).message}` }] };
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length)
    return { problems: [{ file: shown, line: doc.errors[0].linePos?.[0]?.line, message: `invalid YAML: ${doc.errors[0].message.split('\n')[0]}` }] };
  if (!isMap(doc.contents)) return { problems: [{ file: shown, message: 'must be a YAML mapping (description, engines, steps)' }] };
  const problems: LoadProblem[] = [];
  const lineAt = (p: PropertyKey[]) => lineOf(doc, lc, p as (string | number)[]);
  const add = (p: PropertyKey[], message: string) => problems.push({ file: shown, line: lineAt(p), field: fieldPath(p) || undefined, message });
  const parsed = stepsFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    for (const is of parsed.error.issues) add(is.path, is.message);
    return { problems };
  }
  const variant = stepsVariant(basename(path));
  if (variant && !STEP_ENGINES.includes(variant)) add([], `is for engine "${variant}", which does not exist (engines: ${STEP_ENGINES.join(', ')})`);
  if (variant && parsed.data.engines && !parsed.data.engines.every((e) => e === variant))
    add(['engines'], `a steps.${variant}.yaml is for the ${variant} engine only`);
  const known = Object.keys(STEP_KINDS).join(', ');
  const dir = dirname(path);
  const steps: StepSpec[] = [];
  for (const [i, entry] of parsed.data.steps.entries()) {
    const keys = Object.keys(entry);
    if (keys.length !== 1) {
      add(['steps', i], keys.length ? `has several step kinds (${keys.join(', ')}); one per step` : `names no step kind (one of: ${known})`);
      continue;
    }
    const kind = STEP_KINDS[keys[0]];
    if (!kind) {
      add(['steps', i, keys[0]], `unknown step kind "${keys[0]}" (known: ${known})`);
      continue;
    }
    const params = (kind.schema as z.ZodType).safeParse(entry[keys[0]]);
    if (!params.success) {
      for (const is of params.error.issues) add(['steps', i, keys[0], ...is.path], is.message);
      continue;
    }
    for (const f of kind.files?.(params.data) ?? []) {
      if (
        !(await stat(join(dir, f)).then(
          () => true,
          () => false,
        ))
      )
        add(['steps', i, keys[0]], `reads ${f}, which is not in ${dir}`);
    }
    steps.push({ type: keys[0], params: params.data, kind, file: shown, line: lineAt(['steps', i]) });
  }
  if (problems.length) return { problems };
  return { steps: { file: shown, description: parsed.data.description, engines: parsed.data.engines, caughtBy: parsed.data.caughtBy, steps }, problems };
}
