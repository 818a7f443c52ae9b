/**
 * `dev verify` on kind for the lessons that restart the control plane (static-pod manifests through
 * the kubelet, etcd, the kubelet itself), on a kind cluster of their own: while the API server
 * restarts here, lessons.test.ts's lessons run undisturbed on the other cluster, at the same time.
 * Then a few lessons that leave the control plane alone (ON_THE_CONTROL_PLANE_CLUSTER), so that the
 * two clusters end at about the same time.
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
import { ON_THE_CONTROL_PLANE_CLUSTER, kindCluster, removeLeftoverCluster, restartsTheControlPlane, verifyOnKind } from './lessons.js';
import { engines } from '../../src/engines/index.js';

const BIN = join(packageRoot, 'bin', 'kube-seclab.js');
const data = mkdtempSync(join(tmpdir(), 'kube-seclab-kindcp-'));
const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_NAME: 'kindcp', NO_COLOR: '1' };
const CLUSTER = 'kube-seclab-kindcp';
const catalogue = (await loadCatalogue(packageRoot)).lessons;
// The control-plane lessons first, then the others this cluster takes.
const lessons = [...catalogue.filter(restartsTheControlPlane), ...catalogue.filter((l) => !restartsTheControlPlane(l) && kindCluster(l) === 'control-plane')];
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

describe('control-plane lessons on kind (and the lessons that even out the two clusters)', () => {
  it('are the ones expected', () => {
    expect(lessons.map((l) => l.id)).toEqual(
      expect.arrayContaining([
        'encryption-at-rest',
        'etcd-tls',
        'anonymous-access',
        'audit-logging',
        'kubelet-authentication',
        ...ON_THE_CONTROL_PLANE_CLUSTER,
      ]),
    );
    expect(ON_THE_CONTROL_PLANE_CLUSTER.every((id) => catalogue.some((l) => l.id === id))).toBe(true);
  });
  describe.each(lessons.map((l) => l.id))('dev verify %s on kind', (id) => {
    it('unsolved fails, the solution passes, every shortcut fails', { timeout: 2_700_000 }, async () => {
      const r = await verifyOnKind(lab, id);
      expect(r.ok, r.report).toBe(true);
    });
  });
});
