import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { cacheBinDir, missingBinaries } from '../engines/local/binaries-cache.js';
import { K8S_VERSION } from '../engines/local/versions.js';
import type { PreflightItem } from './store.js';
import { KIND_VERSION } from '../engines/kind/tools.js';

async function onPath(cmd: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const p = join(dir, cmd);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * Before a cluster is brought up: which engine is possible here, what is missing and how to get
 * it. Looks only at files and PATH (no processes), so it costs nothing on the way to the first frame.
 */
export async function preflight(engine: string, env: NodeJS.ProcessEnv = process.env): Promise<PreflightItem[]> {
  const items: PreflightItem[] = [];
  const explicit = env.KUBE_SECLAB_BIN_DIR || env.KUBEBUILDER_ASSETS;
  const binDir = explicit || cacheBinDir(env);
  const cacheKind = join(
    env.KUBE_SECLAB_CACHE || join(env.XDG_CACHE_HOME || join(env.HOME ?? '', '.cache'), 'kube-seclab'),
    'bin',
    `kind-${KIND_VERSION}`,
    'kind',
  );
  const [missing, go, docker, kind, kubectl] = await Promise.all([
    missingBinaries(binDir),
    onPath('go', env),
    onPath('docker', env),
    env.KUBE_SECLAB_KIND
      ? Promise.resolve(env.KUBE_SECLAB_KIND)
      : onPath('kind', env).then(
          (k) =>
            k ??
            access(cacheKind, constants.X_OK).then(
              () => cacheKind,
              () => undefined,
            ),
        ),
    onPath('kubectl', env),
  ]);
  items.push({ name: 'local engine', ok: true, detail: `possible${engine === 'local' ? ', in use' : ''}: Kubernetes as processes here, no Docker` });
  if (engine === 'existing')
    items.push({ name: 'shared cluster', ok: true, detail: 'in use: your own namespaces in an existing cluster (namespace-scoped lessons only)' });
  if (engine === 'kind') {
    items.push(
      docker && kind
        ? { name: 'kind engine', ok: true, detail: `in use: a kind cluster in Docker (${kind})` }
        : {
            name: 'kind engine',
            ok: false,
            detail: `needs Docker and kind (${[!docker && 'docker', !kind && 'kind'].filter(Boolean).join(', ')} not found)`,
            fix: `install Docker and kind ${KIND_VERSION}, or run \`kube-seclab --engine local\``,
          },
    );
  }
  if (engine === 'local')
    items.push(
      missing.length === 0
        ? { name: `Kubernetes ${K8S_VERSION}`, ok: true, detail: `binaries found in ${binDir}` }
        : {
            name: `Kubernetes ${K8S_VERSION}`,
            ok: false,
            detail: `missing: ${missing.join(', ')}`,
            fix: explicit
              ? `put them in ${binDir} (KUBE_SECLAB_BIN_DIR / KUBEBUILDER_ASSETS points there)`
              : `fetched now: the official release binaries (checksums verified)${go ? ', else built with Go' : ''}; a classroom mirror: KUBE_SECLAB_MIRROR`,
          },
    );
  if (engine === 'local') {
    items.push({
      name: 'kind engine',
      ok: !!(docker && kind),
      optional: true,
      detail:
        docker && kind
          ? 'Docker and kind found: `kube-seclab --engine kind` runs every lesson on a real node'
          : `needs Docker and kind (${[!docker && 'docker', !kind && 'kind'].filter(Boolean).join(', ')} not found)`,
      fix: 'lessons marked "needs kind" are listed but cannot run on the local engine',
    });
  }
  items.push(
    kubectl
      ? { name: 'kubectl', ok: true, detail: kubectl }
      : { name: 'kubectl', ok: false, optional: true, detail: 'not found on PATH', fix: 'install kubectl to work on the lessons in your other terminal' },
  );
  return items;
}
