/**
 * The one module that makes engines, for the CLI and the TUI alike: they hand `engines` to
 * `Lab.open` (core imports no engine), and list `engines.requirements(…)` in `doctor` and the
 * TUI's preflight.
 */
import type { EngineFactory, EngineName, HostRequirement, RequirementContext } from '../core/engine/index.js';
import { LocalEngine } from './local/engine.js';
import { KindEngine } from './kind/engine.js';
import { ExistingEngine } from './existing/engine.js';
import { localRequirements } from './local/requirements.js';
import { kindRequirements } from './kind/requirements.js';
import { existingRequirements } from './existing/requirements.js';

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

/** What each engine needs of this machine (one list per engine, for `doctor` and the TUI's preflight). */
export function requirements(name: EngineName, ctx: RequirementContext): HostRequirement[] {
  if (name === 'existing') return existingRequirements(ctx);
  return name === 'kind' ? kindRequirements(ctx) : localRequirements(ctx);
}

export const engines: EngineFactory = {
  create(name, paths, env = process.env, existing) {
    if (name === 'existing') return new ExistingEngine(paths, env, existing);
    return name === 'kind' ? new KindEngine(paths, env) : new LocalEngine(paths, env);
  },
  defaultEngine,
  requirements,
};

/** The Kubernetes version the lab pins (local binaries; the kubectl skew `doctor` judges against). */
export { K8S_VERSION } from './local/versions.js';
/** A command on PATH (the TUI's preflight looks for kubectl with it). */
export { onPath } from './common/path.js';
/** Where the lab's own Kubernetes binaries (and kubectl) live. */
export { localBinDir } from './local/requirements.js';
