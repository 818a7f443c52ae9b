/**
 * A group of lessons verified with `dev verify` on a kind cluster of its own: `up --engine kind`
 * like a learner (a lab named `name`), one lesson after another, `down` leaving no container.
 * lessons.test.ts runs the lessons that do not restart the control plane, at the same time as
 * control-plane.test.ts and kind.test.ts (the vitest kind project runs its files side by side).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { Lab } from '../../src/core/lab.js';
import { packageRoot } from '../../src/core/paths.js';
import { removeLeftoverCluster, verifyOnKind } from './lessons.js';
import { engines } from '../../src/engines/index.js';

export function kindLessonSuite(name: string, ids: string[]): void {
  const BIN = join(packageRoot, 'bin', 'kube-seclab.js');
  const data = mkdtempSync(join(tmpdir(), `kube-seclab-${name}-`));
  const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_NAME: name, NO_COLOR: '1' };
  const CLUSTER = `kube-seclab-${name}`;
  const cli = (...args: string[]) => execa(process.execPath, [BIN, ...args], { env, reject: false, timeout: 1_200_000 });
  const containers = () =>
    execFileSync('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '--format', '{{.Names}}'])
      .toString()
      .trim();
  let lab: Lab;

  beforeAll(async () => {
    await removeLeftoverCluster(CLUSTER);
    const t0 = Date.now();
    const up = await cli('up', '--engine', 'kind');
    console.log(`kind: up ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s (lessons: ${ids.join(' ')})`);
    expect(up.exitCode, up.stderr).toBe(0);
    lab = await Lab.open({ engines, env });
  }, 1_200_000);

  afterAll(async () => {
    const down = await cli('down');
    rmSync(data, { recursive: true, force: true });
    expect(down.exitCode, down.stderr).toBe(0);
    expect(containers()).toBe('');
  }, 600_000);

  describe(`lessons on kind (${name})`, () => {
    it('has lessons to verify', () => expect(ids.length).toBeGreaterThan(0));
    describe.each(ids)('dev verify %s on kind', (id) => {
      it('unsolved fails, the solution passes, every shortcut fails', { timeout: 2_700_000 }, async () => {
        const r = await verifyOnKind(lab, id);
        expect(r.ok, r.report).toBe(true);
      });
    });
  });
}
