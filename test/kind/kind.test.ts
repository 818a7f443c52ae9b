/**
 * The kind engine end to end, on a real kind cluster: `up --engine kind` like a learner runs it,
 * node access (manifests, node files, raw etcd reads), and `down` leaving no container. `dev verify`
 * of every lesson runs on clusters of its own beside this file: lessons.test.ts (every lesson that does
 * not restart the control plane, one after another) and control-plane.test.ts (those that do).
 *
 * Needs a Docker daemon, the kind CLI (PATH or the cache) and a node image: kind's own, or the
 * offline one tools/kind/build-node-image.sh builds (KUBE_SECLAB_KIND_IMAGE). `.ci/run` prepares
 * all of that; `npm run test:kind` runs this file.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { Lab } from '../../src/core/lab.js';
import { packageRoot } from '../../src/core/paths.js';
import { KindEngine } from '../../src/engines/kind/engine.js';
import { removeLeftoverCluster } from './lessons.js';
import { engines } from '../../src/engines/index.js';

const ROOT = packageRoot;
const BIN = join(ROOT, 'bin', 'kube-seclab.js');
const data = mkdtempSync(join(tmpdir(), 'kube-seclab-kind-'));
const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_NAME: 'kindtest', NO_COLOR: '1' };
const CLUSTER = 'kube-seclab-kindtest';
const userKubeconfig = join(homedir(), '.kube', 'config');
const userKubeconfigBefore = existsSync(userKubeconfig) ? readFileSync(userKubeconfig, 'utf8') : undefined;

const cli = (...args: string[]) => execa(process.execPath, [BIN, ...args], { env, reject: false, timeout: 1_200_000 });
const containers = () =>
  execFileSync('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '--format', '{{.Names}}'])
    .toString()
    .trim();

let lab: Lab;
let engine: KindEngine;

beforeAll(async () => {
  if (!process.env.KUBE_SECLAB_E2E_NO_BUILD) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  // Preconditions, said plainly when missing (this suite does not skip).
  execFileSync('docker', ['version', '--format', '{{.Server.Version}}']);
  await removeLeftoverCluster(CLUSTER);
  await removeLeftoverCluster('kube-seclab-tuitest'); // the TUI test's, below
}, 600_000);

afterAll(async () => {
  if (containers()) await cli('down');
  rmSync(data, { recursive: true, force: true });
}, 600_000);

describe('kind engine', () => {
  it('`up --engine kind` creates a marked cluster on loopback, with its own kubeconfig', { timeout: 1_200_000 }, async () => {
    const t0 = Date.now();
    const up = await cli('up', '--engine', 'kind');
    console.log(`kind: up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n${up.stdout}\n${up.stderr}`);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(containers()).toBe(`${CLUSTER}-control-plane`);

    const st = JSON.parse((await cli('status', '--json')).stdout);
    const mine = st.engine ? st : (st.current ?? st);
    expect(mine.engine).toBe('kind');
    expect(mine.healthy).toBe(true);
    expect(mine.kubeconfig).toBe(join(data, 'labs', 'kindtest', 'kubeconfig'));
    expect(mine.endpoints.apiserver).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    lab = await Lab.open({ engines, env });
    expect(lab.engine.name).toBe('kind');
    engine = lab.engine as KindEngine;
    // Nothing the lab publishes listens beyond loopback.
    const published = await engine.publishedAddresses();
    expect(published.length).toBeGreaterThan(0);
    for (const a of published) expect(a).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await engine.listeningAddresses('kube-apiserver')).toEqual([mine.endpoints.apiserver.replace('https://', '')]);
    // The learner's own kubeconfig is never touched.
    expect(existsSync(userKubeconfig) ? readFileSync(userKubeconfig, 'utf8') : undefined).toEqual(userKubeconfigBefore);

    // A second `up` reuses the healthy cluster.
    const again = await cli('up');
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/reusing the kind cluster/);
  });

  it('reads and writes node files and raw etcd values through the node', { timeout: 300_000 }, async () => {
    await engine.writeNodeFile('/etc/kubernetes/kube-seclab-test/hello.txt', 'hi\n');
    expect(await engine.readNodeFile('/etc/kubernetes/kube-seclab-test/hello.txt')).toBe('hi\n');
    await engine.removeNodeFile('/etc/kubernetes/kube-seclab-test');
    expect(await engine.readNodeFile('/etc/kubernetes/kube-seclab-test/hello.txt')).toBeUndefined();
    const raw = await engine.etcdGet('/registry/namespaces/kube-seclab-system');
    expect(raw).toBeDefined();
    expect(raw!.toString('latin1')).toContain('kube-seclab-system');
    const m = await engine.readManifest('kube-apiserver');
    expect(m).toMatch(/- kube-apiserver/);
  });

  it('`down` deletes the cluster and leaves no container', { timeout: 600_000 }, async () => {
    const down = await cli('down');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(containers()).toBe('');
    expect(existsSync(join(data, 'labs', 'kindtest', 'kubeconfig'))).toBe(false);
    expect(() => statSync(join(data, 'labs', 'kindtest', 'engines', 'kind'))).toThrow();
  });
});

// In this same file (its own worker; control-plane.test.ts runs beside it):
// the tmux TUI test once on kind (test/e2e/tui.e2e.test.ts, its own cluster), then images save/load.
process.env.KUBE_SECLAB_E2E_ENGINE = 'kind';
await import('../e2e/tui.e2e.test.js');
await import('./images-bundle.js');
