import type { Engine, EngineName } from './types.js';
import type { LabPaths } from '../core/paths.js';
import { LocalEngine } from './local/engine.js';
import { KindEngine } from './kind/engine.js';
import { ExistingEngine, type ExistingOptions } from './existing/engine.js';
import type { SharedPlan } from '../core/scope/lesson-scope.js';

export function createEngine(
  name: EngineName,
  paths: LabPaths,
  env: NodeJS.ProcessEnv = process.env,
  existing?: ExistingOptions & { plan?: SharedPlan },
): Engine {
  if (name === 'existing') return new ExistingEngine(paths, env, existing);
  return name === 'kind' ? new KindEngine(paths, env) : new LocalEngine(paths, env);
}

/**
 * The engine a lab gets when nobody chose one: kind where a Docker daemon answers and the kind CLI
 * is installed, else local (no Docker needed). `why` says so, for `up` to tell the learner.
 */
export async function defaultEngine(env: NodeJS.ProcessEnv, cacheDir: string): Promise<{ name: EngineName; why: string }> {
  const { dockerReachable, findKind } = await import('./kind/tools.js');
  const d = await dockerReachable(2000);
  if (!d.ok)
    return {
      name: 'local',
      why: `no Docker daemon reachable (${d.detail}): using the local engine — no Docker needed; lessons marked "kind" need \`--engine kind\` with Docker running`,
    };
  if (!findKind(env, cacheDir))
    return {
      name: 'local',
      why: 'Docker is running but the kind CLI is not installed: using the local engine; install kind for lessons that need a real node',
    };
  return { name: 'kind', why: `${d.detail} and kind found: using the kind engine (\`--engine local\` runs without Docker)` };
}
