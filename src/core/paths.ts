import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.js';

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
  /** The lab's name ("default" unless --name / KUBE_SECLAB_NAME says otherwise). */
  name: string;
  /**
   * The name of the lab's cluster wherever an engine needs one that is unique on the host (a kind
   * cluster, containers, contexts): `kube-seclab` for the default lab, `kube-seclab-<name>` otherwise.
   */
  clusterName: string;
}

/** The lab everyone gets without --name. Its state sits at the data root; the others under labs/<name>. */
export const DEFAULT_LAB = 'default';
/** Lower-case letters, digits and inner dashes, 1–31 characters: safe as a folder and a DNS label. */
const LAB_NAME = /^[a-z0-9](?:[a-z0-9-]{0,29}[a-z0-9])?$/;

/** Whether a lab name is acceptable (every lab name, from --name or KUBE_SECLAB_NAME, passes here). */
export function isValidLabName(name: string): boolean {
  return LAB_NAME.test(name);
}

export function validateLabName(name: string, source = '--name'): string {
  if (!isValidLabName(name)) {
    throw new UserError(
      `${source} must be 1–31 lower-case letters, digits and inner dashes (got ${JSON.stringify(name)})`,
      'for example --name alice or --name team-2',
    );
  }
  return name;
}

/** `$KUBE_SECLAB_DATA`, else `$XDG_DATA_HOME/kube-seclab`: where every lab of this user lives. */
export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || homedir();
  return env.KUBE_SECLAB_DATA || join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'kube-seclab');
}

/** The folder holding every named (non-default) lab. */
export function namedLabsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataRoot(env), 'labs');
}

export function labName(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBE_SECLAB_NAME ? validateLabName(env.KUBE_SECLAB_NAME, 'KUBE_SECLAB_NAME') : DEFAULT_LAB;
}

export function labPaths(env: NodeJS.ProcessEnv = process.env, name = labName(env)): LabPaths {
  validateLabName(name);
  const home = env.HOME || homedir();
  const cache = env.KUBE_SECLAB_CACHE || join(env.XDG_CACHE_HOME || join(home, '.cache'), 'kube-seclab');
  // The default lab's own files (progress.json, kubeconfig, lab.json, the engines folder) never include labs/,
  // so no two names share a file.
  const data = name === DEFAULT_LAB ? dataRoot(env) : join(namedLabsDir(env), name);
  return {
    data,
    cache,
    progress: join(data, 'progress.json'),
    kubeconfig: join(data, 'kubeconfig'),
    engineDir: (engine: string) => join(data, 'engines', engine),
    name,
    clusterName: name === DEFAULT_LAB ? 'kube-seclab' : `kube-seclab-${name}`,
  };
}

/** The package root (where lessons/, scenarios/ and tools/ live), from src/ or dist/. */
export const packageRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
