import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';
import { ETCD_VERSION, K8S_VERSION, KWOK_VERSION, OPTIONAL_BINARIES, REQUIRED_BINARIES, VERSIONS_STAMP } from '../../src/engines/local/versions.js';
import { KUBE_BENCH_VERSION, KUBE_SCORE_VERSION } from '../../src/core/audit/tools.js';

/** KEY=VALUE lines of a shell env file (comments and blank lines ignored, optional quotes stripped). */
function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`tools/versions.env: cannot parse line ${JSON.stringify(raw)}`);
    out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

describe('pinned versions', () => {
  const envFile = parseEnvFile(readFileSync(join(packageRoot, 'tools', 'versions.env'), 'utf8'));

  it('match tools/versions.env', () => {
    expect({ K8S_VERSION, ETCD_VERSION, KWOK_VERSION }).toEqual({
      K8S_VERSION: envFile.K8S_VERSION,
      ETCD_VERSION: envFile.ETCD_VERSION,
      KWOK_VERSION: envFile.KWOK_VERSION,
    });
  });

  it('of the auditors match tools/versions.env (what tools/build-auditors.sh builds)', () => {
    expect({ KUBE_SCORE_VERSION, KUBE_BENCH_VERSION }).toEqual({
      KUBE_SCORE_VERSION: envFile.KUBE_SCORE_VERSION,
      KUBE_BENCH_VERSION: envFile.KUBE_BENCH_VERSION,
    });
    for (const v of [KUBE_SCORE_VERSION, KUBE_BENCH_VERSION]) expect(v).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it('are release tags', () => {
    for (const v of [K8S_VERSION, ETCD_VERSION, KWOK_VERSION]) expect(v).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it('stamp has the format tools/build-k8s.sh writes to .versions', () => {
    expect(VERSIONS_STAMP).toBe(`${envFile.K8S_VERSION} ${envFile.ETCD_VERSION} ${envFile.KWOK_VERSION}`);
  });

  it('list the binaries the local engine needs, all of which tools/build-k8s.sh builds', () => {
    expect([...REQUIRED_BINARIES].sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'].sort());
    expect(OPTIONAL_BINARIES).toContain('kubectl');
    const script = readFileSync(join(packageRoot, 'tools', 'build-k8s.sh'), 'utf8');
    const m = /^\s*control-plane\) bins=\(([^)]*)\)/m.exec(script);
    expect(m, 'tools/build-k8s.sh declares bins=(...)').not.toBeNull();
    const built = m![1].trim().split(/\s+/);
    for (const b of REQUIRED_BINARIES) expect(built).toContain(b);
  });
});

describe('first run: a build of the Kubernetes binaries shows its work', async () => {
  const { buildProgressLine, DOCUMENTED_BUILD_S } = await import('../../src/engines/local/binaries.js');
  it('names the component, n of m, the elapsed time and what to expect from the last build here', () => {
    expect(buildProgressLine({ step: { n: 2, of: 8, name: 'kube-apiserver' }, elapsedS: 75, last: { total: 512, steps: { 'kube-apiserver': 190 } } })).toBe(
      'building kube-apiserver (2 of 8) · 1m15s elapsed · the last build here took 8m32s, this step ~3m10s',
    );
  });
  it('falls back to the documented figure on a machine that never built them, and shows what Go is fetching', () => {
    expect(buildProgressLine({ elapsedS: 4, quiet: 'downloading github.com/moby/docker-image-spec v1.3.1' })).toBe(
      `preparing the build · 4s elapsed · a first build takes about ${Math.floor(DOCUMENTED_BUILD_S / 60)}m00s · downloading github.com/moby/docker-image-spec v1.3.1`,
    );
  });
});
