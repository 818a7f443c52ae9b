// What the kind benchmarks share: the CLI, the kind binary and node image they use, a work folder
// with a lab of its own, and how they print times.
import { execFile } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'kube-seclab.js');
export const ROUNDS = Number(process.env.ROUNDS ?? 3);
export const image = process.env.KUBE_SECLAB_KIND_IMAGE;
const cache = process.env.KUBE_SECLAB_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kube-seclab');
export const kind = process.env.KUBE_SECLAB_KIND || [join(cache, 'bin', 'kind-v0.32.0', 'kind')].find(existsSync) || 'kind';
export const now = () => performance.now();
export const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A work folder, and the environment of a lab named `name` whose data lives in it. */
export function benchLab(prefix, name) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  return { work, env: { ...process.env, KUBE_SECLAB_DATA: join(work, 'data'), KUBE_SECLAB_NAME: name, NO_COLOR: '1' } };
}
