import { stat, access, constants as fsConstants } from 'node:fs/promises';
import { join } from 'node:path';
import { labPaths } from '../../core/paths.js';
import { K8S_VERSION, REQUIRED_BINARIES } from './versions.js';

// The cheap part of binaries.ts (no downloads, no builds): what the TUI's preflight and doctor need.

/** Where the lab keeps (and tools/build-k8s.sh writes) the binaries of the pinned version. */
export function cacheBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(labPaths(env).cache, 'bin', K8S_VERSION);
}

export async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The required binaries a directory lacks (missing or not executable). */
export async function missingBinaries(dir: string, names: readonly string[] = REQUIRED_BINARIES): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) if (!(await isExecutableFile(join(dir, name)))) missing.push(name);
  return missing;
}
