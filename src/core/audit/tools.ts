import { existsSync, statSync, accessSync, constants as fsConstants } from 'node:fs';
import { dirname, join } from 'node:path';
import { labPaths } from '../paths.js';
import { UserError } from '../errors.js';

/**
 * The independent auditors `kube-seclab dev audit` runs. Keep in sync with tools/versions.env
 * (tools/build-auditors.sh builds them; test/unit/versions.test.ts checks that the two agree).
 */
export const KUBE_SCORE_VERSION = 'v1.20.0';
export const KUBE_BENCH_VERSION = 'v0.16.0';
/** The CIS Kubernetes Benchmark kube-bench is run with (shipped as YAML under its cfg/). */
export const CIS_BENCHMARK = 'cis-1.12';

export type AuditorName = 'kube-score' | 'kube-bench';

export interface AuditorTools {
  kubeScore: string;
  /** The kube-bench binary and the folder of its benchmarks (cfg/, with config.yaml and cis-1.12/). */
  kubeBench: { binary: string; cfgDir: string };
}

/** An auditor binary is not there: the one line to build it is the next step. */
export class AuditorMissingError extends UserError {
  constructor(
    readonly tool: AuditorName,
    where: string,
  ) {
    super(
      `${tool} not found (${where}): build it with \`bash tools/build-auditors.sh\` (or set ${tool === 'kube-score' ? 'KUBE_SECLAB_KUBE_SCORE' : 'KUBE_SECLAB_KUBE_BENCH'})`,
    );
    this.name = 'AuditorMissingError';
  }
}

function executable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `<cache>/bin/kube-score-<v>/kube-score` and `<cache>/bin/kube-bench-<v>/kube-bench` (+ `cfg/`): what tools/build-auditors.sh writes. */
export function auditorCachePaths(env: NodeJS.ProcessEnv = process.env): { kubeScore: string; kubeBench: string } {
  const bin = join(labPaths(env).cache, 'bin');
  return {
    kubeScore: join(bin, `kube-score-${KUBE_SCORE_VERSION}`, 'kube-score'),
    kubeBench: join(bin, `kube-bench-${KUBE_BENCH_VERSION}`, 'kube-bench'),
  };
}

/**
 * Find the auditors: `KUBE_SECLAB_KUBE_SCORE` / `KUBE_SECLAB_KUBE_BENCH` (a binary; when set it is
 * authoritative), else the cache. kube-bench's benchmarks are the `cfg/` folder next to its binary
 * (`KUBE_SECLAB_KUBE_BENCH_CFG` overrides). Throws AuditorMissingError for the first one missing.
 */
export function findAuditors(env: NodeJS.ProcessEnv = process.env): AuditorTools {
  const cache = auditorCachePaths(env);
  const pick = (tool: AuditorName, variable: string, cached: string): string => {
    const given = env[variable];
    if (given) {
      if (!executable(given)) throw new AuditorMissingError(tool, `${variable}=${given} is not an executable file`);
      return given;
    }
    if (!executable(cached)) throw new AuditorMissingError(tool, `looked in ${cached}`);
    return cached;
  };
  const kubeScore = pick('kube-score', 'KUBE_SECLAB_KUBE_SCORE', cache.kubeScore);
  const binary = pick('kube-bench', 'KUBE_SECLAB_KUBE_BENCH', cache.kubeBench);
  const cfgDir = env.KUBE_SECLAB_KUBE_BENCH_CFG || join(dirname(binary), 'cfg');
  if (!existsSync(join(cfgDir, CIS_BENCHMARK, 'master.yaml')) || !existsSync(join(cfgDir, 'config.yaml'))) {
    throw new AuditorMissingError('kube-bench', `its benchmarks ${join(cfgDir, CIS_BENCHMARK)} and ${join(cfgDir, 'config.yaml')} are not there`);
  }
  return { kubeScore, kubeBench: { binary, cfgDir } };
}
