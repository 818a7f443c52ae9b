import { readdir } from 'node:fs/promises';
import { ENGINE_NAMES } from '../lessons/schema.js';

/**
 * Steps files: a folder (a scenario, the solution, a shortcut, an alternative) has `steps.yaml`,
 * and `steps.<engine>.yaml` where an engine does it differently. Which one applies is decided here
 * and only here: `steps.<engine>.yaml` when the folder has it, else `steps.yaml`.
 */
export const STEPS_FILE = /^steps(?:\.([a-z]+))?\.ya?ml$/;

/** The engine a steps file is the variant of (`steps.kind.yaml` → kind), or undefined for `steps.yaml`. */
export function stepsVariant(name: string): string | undefined {
  return STEPS_FILE.exec(name)?.[1];
}

/** Every steps file of a folder: `steps.yaml` first, then the engine variants by name. */
export async function stepsFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => STEPS_FILE.test(f));
  return names.sort((a, b) => Number(!!stepsVariant(a)) - Number(!!stepsVariant(b)) || a.localeCompare(b));
}

/** The steps file that applies in a folder on an engine (its name), or undefined when the folder has none. */
export async function resolveStepsFile(dir: string, engine: string): Promise<string | undefined> {
  const files = await stepsFiles(dir);
  return files.find((f) => stepsVariant(f) === engine) ?? files.find((f) => !stepsVariant(f));
}

/** The engine names a steps file may be a variant of. */
export const STEP_ENGINES: readonly string[] = ENGINE_NAMES;
