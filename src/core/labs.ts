import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LAB, dataRoot, isValidLabName, labPaths, namedLabsDir } from './paths.js';
import { readJson } from './fsutil.js';
import type { EngineFactory, EngineName } from './engine/index.js';

/** One lab on this host, as `kube-seclab status` lists it. */
export interface LabOverview {
  name: string;
  current: boolean;
  engine: string;
  dataDir: string;
  /** A cluster was created (it may be stopped). */
  exists: boolean;
  running: boolean;
  healthy: boolean;
  /** The API server's address, when known. */
  apiserver?: string;
  /** Why the state could not be read (an engine this version does not have, say). */
  error?: string;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every lab name with state under the data root: "default" when the root holds a lab's files, and
 * each valid name under labs/. Reads folders only.
 */
export async function findLabNames(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const names: string[] = [];
  const root = dataRoot(env);
  const own = ['lab.json', 'progress.json', 'kubeconfig', 'engines'];
  if ((await Promise.all(own.map((f) => exists(join(root, f))))).some(Boolean)) names.push(DEFAULT_LAB);
  const dir = namedLabsDir(env);
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const n of entries.sort()) if (n !== DEFAULT_LAB && isValidLabName(n) && (await isDir(join(dir, n)))) names.push(n);
  return names;
}

/**
 * The state of one lab's cluster, read without starting or changing anything: its saved engine's
 * status() (for the local engine: its config and state files, and a /readyz probe when it has one).
 */
export async function labOverview(name: string, env: NodeJS.ProcessEnv, engines: EngineFactory, current = false): Promise<LabOverview> {
  const paths = labPaths(env, name);
  const saved = await readJson<{ engine?: string }>(join(paths.data, 'lab.json')).catch(() => undefined);
  const engine = saved?.engine ?? 'local';
  const base: LabOverview = { name, current, engine, dataDir: paths.data, exists: false, running: false, healthy: false };
  if (engine !== 'local' && engine !== 'kind' && engine !== 'existing')
    return { ...base, error: `unknown engine "${engine}" in ${join(paths.data, 'lab.json')}` };
  try {
    const st = await engines.create(engine as EngineName, paths, env).status();
    return { ...base, exists: st.exists, running: st.running, healthy: st.healthy, ...(st.endpoints.apiserver ? { apiserver: st.endpoints.apiserver } : {}) };
  } catch (e) {
    return { ...base, error: (e as Error).message.split('\n')[0] };
  }
}

/** Every lab on this host, the current one first (listed even when it has no state yet). */
export async function listLabs(env: NodeJS.ProcessEnv, currentName: string, engines: EngineFactory): Promise<LabOverview[]> {
  const names = await findLabNames(env);
  const ordered = [currentName, ...names.filter((n) => n !== currentName)];
  return Promise.all(ordered.map((n) => labOverview(n, env, engines, n === currentName)));
}
