import type { EngineName, EngineFactory } from '../core/engine/index.js';
import { onPath } from '../engines/index.js';
import type { PreflightItem } from './store.js';

/**
 * Before a cluster is brought up: which engine is possible here, what is missing and how to get
 * it — the engine's own requirements (as `doctor` lists them), checked shallow: files and PATH
 * only (no processes), so it costs nothing on the way to the first frame.
 */
export async function preflight(engine: EngineName, engines: EngineFactory, env: NodeJS.ProcessEnv, cacheDir: string): Promise<PreflightItem[]> {
  const ctx = { env, cacheDir, inUse: engine };
  const check = (e: EngineName) => Promise.all(engines.requirements(e, ctx).map(async (r) => ({ name: r.name, ...(await r.check()) })));
  const [own, kind] = await Promise.all([check(engine), engine === 'local' ? check('kind') : Promise.resolve([])]);
  const items: PreflightItem[] = [];
  items.push({ name: 'local engine', ok: true, detail: `possible${engine === 'local' ? ', in use' : ''}: Kubernetes as processes here, no Docker` });
  if (engine === 'existing')
    items.push({ name: 'shared cluster', ok: true, detail: 'in use: your own namespaces in an existing cluster (namespace-scoped lessons only)' });
  items.push(...own);
  if (engine === 'local') {
    // The kind engine, as an option: one line for what it would need.
    const missing = kind.filter((k) => !k.ok && (k.name === 'docker' || k.name === 'kind')).map((k) => k.name);
    items.push({
      name: 'kind engine',
      ok: !missing.length,
      optional: true,
      detail: missing.length
        ? `needs Docker and kind (${missing.join(', ')} not found)`
        : 'Docker and kind found: `kube-seclab --engine kind` runs every lesson on a real node',
      fix: 'lessons marked "needs kind" are listed but cannot run on the local engine',
    });
  }
  const kubectl = onPath('kubectl', env);
  items.push(
    kubectl
      ? { name: 'kubectl', ok: true, detail: kubectl }
      : { name: 'kubectl', ok: false, optional: true, detail: 'not found on PATH', fix: 'install kubectl to work on the lessons in your other terminal' },
  );
  return items;
}
