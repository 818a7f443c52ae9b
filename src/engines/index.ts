import type { Engine, EngineName } from './types.js';
import type { LabPaths } from '../core/paths.js';
import { LocalEngine } from './local/engine.js';
import { UserError } from '../core/errors.js';

export function createEngine(name: EngineName, paths: LabPaths, env: NodeJS.ProcessEnv = process.env): Engine {
  if (name === 'local') return new LocalEngine(paths, env);
  throw new UserError('the kind engine is not available in this version of kube-seclab', 'use `--engine local` (every lesson marked "api" runs there)');
}
