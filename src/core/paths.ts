import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where kube-seclab keeps things. Every path honours the XDG base-directory variables. */
export interface LabPaths {
  /** Lab state: progress, engine state, the lab's kubeconfig. `$XDG_DATA_HOME/kube-seclab[/<name>]` */
  data: string;
  /** Rebuildable things: Kubernetes binaries, downloads. `$XDG_CACHE_HOME/kube-seclab` */
  cache: string;
  /** The progress file (versioned JSON). */
  progress: string;
  /** The lab's own kubeconfig: the only one it ever uses. */
  kubeconfig: string;
  /** Per-engine state directory. */
  engineDir(engine: string): string;
}

export function labName(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBE_SECLAB_NAME || 'default';
}

export function labPaths(env: NodeJS.ProcessEnv = process.env, name = labName(env)): LabPaths {
  const home = env.HOME || homedir();
  const dataRoot = env.KUBE_SECLAB_DATA || join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'kube-seclab');
  const cache = env.KUBE_SECLAB_CACHE || join(env.XDG_CACHE_HOME || join(home, '.cache'), 'kube-seclab');
  const data = name === 'default' ? dataRoot : join(dataRoot, 'labs', name);
  return {
    data,
    cache,
    progress: join(data, 'progress.json'),
    kubeconfig: join(data, 'kubeconfig'),
    engineDir: (engine: string) => join(data, 'engines', engine),
  };
}

/** The package root (where lessons/, scenarios/ and tools/ live), from src/ or dist/. */
export const packageRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
