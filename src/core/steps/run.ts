import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UserError } from '../errors.js';
import { formatProblem } from '../lessons/yaml-lines.js';
import type { ScenarioContext } from '../scenarios/objects.js';
import { resolveStepsFile, STEPS_FILE } from './files.js';
import { loadStepsFile } from './load.js';
import type { StepSpec, StepsFile } from './types.js';

/**
 * The steps that apply in a folder on an engine — of `steps.<engine>.yaml` when it has one, else of
 * `steps.yaml` — and whether they are meant for that engine at all (a file's `engines:`).
 * A folder without steps has none, everywhere. A broken file is a UserError naming file:line.
 */
export async function stepsFor(dir: string, engine: string): Promise<{ file?: string; applies: boolean; steps: StepsFile }> {
  const name = await resolveStepsFile(dir, engine);
  if (!name) return { applies: true, steps: { file: '', steps: [] } };
  const path = join(dir, name);
  const r = await loadStepsFile(path);
  if (!r.steps)
    throw new UserError(formatProblem(r.problems[0]), r.problems.length > 1 ? `and ${r.problems.length - 1} more problem(s) in that file` : undefined);
  return { file: name, applies: !r.steps.engines || r.steps.engines.includes(engine as never), steps: r.steps };
}

/** Run steps from a folder, in order, each with its parameters as this cluster names namespaces. */
export async function runSteps(ctx: ScenarioContext, dir: string, steps: StepSpec[], lessonId: string): Promise<void> {
  const sctx = { ...ctx, dir, lessonId };
  for (const s of steps) await s.kind.run(sctx, ctx.cluster.rename.value(s.params));
}

/** The steps that apply in a folder on this engine, run; a file meant for other engines is an error. */
export async function runStepsOf(ctx: ScenarioContext, dir: string, lessonId: string): Promise<void> {
  const { file, applies, steps } = await stepsFor(dir, ctx.engine.name);
  if (!applies) throw new UserError(`${join(dir, file!)} applies to the ${steps.engines!.join('/')} engine, not ${ctx.engine.name}`);
  await runSteps(ctx, dir, steps.steps, lessonId);
}

/**
 * The files of a fix folder that take effect on an engine, relative to it: its manifests, the steps
 * file that applies, and every file those steps read (a folder's files, one by one) — the fixed
 * workspace sources of an app lesson among them. What `solution` shows.
 */
export async function fixFiles(dir: string, engine: string): Promise<string[]> {
  const out: string[] = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name) && !STEPS_FILE.test(e.name))
    .map((e) => e.name)
    .sort();
  const { file, steps } = await stepsFor(dir, engine);
  if (file) out.push(file);
  for (const s of steps.steps) {
    for (const f of s.kind.files?.(s.params) ?? []) {
      const path = join(dir, f);
      if ((await stat(path)).isDirectory()) {
        const inside = (await readdir(path, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile())
          .map((e) => relative(dir, join(e.parentPath, e.name)))
          .sort();
        out.push(...inside);
      } else out.push(relative(dir, path));
    }
  }
  return [...new Set(out)];
}
