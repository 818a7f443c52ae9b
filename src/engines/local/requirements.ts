import type { HostRequirement, RequirementContext } from '../../core/engine/index.js';
import { onPath, toolVersion } from '../common/path.js';
import { cacheBinDir, missingBinaries } from './binaries-cache.js';
import { K8S_VERSION } from './versions.js';

/** Where the lab takes the Kubernetes binaries from: KUBE_SECLAB_BIN_DIR / KUBEBUILDER_ASSETS, else the cache. */
export function localBinDir(env: NodeJS.ProcessEnv): { dir: string; explicit: boolean } {
  const explicit = env.KUBE_SECLAB_BIN_DIR || env.KUBEBUILDER_ASSETS;
  return { dir: explicit || cacheBinDir(env), explicit: !!explicit };
}

/**
 * What the local engine needs of this machine: the Kubernetes binaries of the pinned version
 * (fetched or built by `up` when missing), and Go to build them where they cannot be downloaded.
 * Files and PATH only.
 */
export function localRequirements(ctx: RequirementContext): HostRequirement[] {
  const optional = ctx.inUse !== 'local';
  const go = () => onPath('go', ctx.env);
  return [
    {
      name: `Kubernetes ${K8S_VERSION}`,
      check: async () => {
        const { dir, explicit } = localBinDir(ctx.env);
        const missing = await missingBinaries(dir);
        if (!missing.length) return { ok: true, detail: `binaries found in ${dir}` };
        return {
          ok: false,
          optional,
          detail: `missing in ${dir}: ${missing.join(', ')}`,
          fix: explicit
            ? `put them in ${dir} (KUBE_SECLAB_BIN_DIR / KUBEBUILDER_ASSETS points there)`
            : `\`kube-seclab up --engine local\` fetches the official release binaries (checksums verified)${go() ? ', else builds them with Go' : ''}; a classroom mirror: KUBE_SECLAB_MIRROR`,
        };
      },
    },
    {
      name: 'go',
      check: async (o = {}) => {
        const found = go();
        const version = found && o.deep ? await toolVersion(found, ['version']) : found;
        return {
          ok: !!version,
          optional: true,
          detail: version ?? 'not found',
          fix: 'lets the lab build the Kubernetes binaries when it cannot download them',
        };
      },
    },
  ];
}
