/**
 * `dev verify` on kind for the lessons that restart the control plane (static-pod manifests through
 * the kubelet, etcd, the kubelet itself), on a kind cluster of their own: while the API server
 * restarts here, kind.test.ts's lessons run undisturbed on the other cluster, at the same time.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { Lab } from '../../src/core/lab.js';
import { loadCatalogue } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';
import { restartsTheControlPlane, removeLeftoverCluster, verifyOnKind } from './lessons.js';
import { engines } from '../../src/engines/index.js';

const BIN = join(packageRoot, 'bin', 'kube-seclab.js');
const data = mkdtempSync(join(tmpdir(), 'kube-seclab-kindcp-'));
const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_NAME: 'kindcp', NO_COLOR: '1' };
const CLUSTER = 'kube-seclab-kindcp';
const lessons = (await loadCatalogue(packageRoot)).lessons.filter(restartsTheControlPlane);
const cli = (...args: string[]) => execa(process.execPath, [BIN, ...args], { env, reject: false, timeout: 1_200_000 });
const containers = () =>
  execFileSync('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '--format', '{{.Names}}'])
    .toString()
    .trim();
let lab: Lab;

beforeAll(async () => {
  await removeLeftoverCluster(CLUSTER);
  const up = await cli('up', '--engine', 'kind');
  expect(up.exitCode, up.stderr).toBe(0);
  lab = await Lab.open({ engines, env });
}, 1_200_000);

afterAll(async () => {
  const down = await cli('down');
  rmSync(data, { recursive: true, force: true });
  expect(down.exitCode, down.stderr).toBe(0);
  expect(containers()).toBe('');
}, 600_000);

describe('control-plane lessons on kind', () => {
  it('are the ones expected', () => {
    expect(lessons.map((l) => l.id)).toEqual(
      expect.arrayContaining(['encryption-at-rest', 'etcd-tls', 'anonymous-access', 'audit-logging', 'kubelet-authentication']),
    );
  });
  describe.each(lessons.map((l) => l.id))('dev verify %s on kind', (id) => {
    it('unsolved fails, the solution passes, every shortcut fails', { timeout: 2_700_000 }, async () => {
      const r = await verifyOnKind(lab, id);
      expect(r.ok, r.report).toBe(true);
    });
  });
});
