import { describe, it, expect, inject, afterAll } from 'vitest';
import { mkdir, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Lab } from '../../src/core/lab.js';
import { applyObjects, waitDeployment } from '../../src/core/scenarios/apply.js';
import { PRIMITIVES } from '../../src/core/checks/registry.js';
import { buildsFile, readBuilds } from '../../src/core/builds.js';
import type { CheckContext } from '../../src/core/checks/types.js';
import { engines } from '../../src/engines/index.js';

const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData') };
const NS = 'build-test';
const APP = 'build-test-app';

describe('kube-seclab build on the local engine (a real API server; pods simulated by kwok)', () => {
  let lab: Lab;
  afterAll(async () => {
    if (!lab) return;
    await (await lab.cluster()).delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await rm(join(lab.workspace, APP), { recursive: true, force: true });
  });

  it('builds the workspace sources, deploys them by digest, and the check tells current, older and foreign images apart', async () => {
    lab = await Lab.open({ engines, env, engine: 'local' });
    const dir = join(lab.workspace, APP);
    await mkdir(join(dir, 'node_modules', 'left-pad'), { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'FROM node:20-bookworm-slim\nCOPY . /app\nCMD ["node", "/app/server.js"]\n');
    await writeFile(join(dir, 'server.js'), 'console.log("v1");\n');
    await writeFile(join(dir, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.1.3' }));
    const cluster = await lab.cluster();
    const ctx = { cluster, engine: lab.engine, workspace: lab.workspace };
    await applyObjects(
      ctx,
      [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web', namespace: NS },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'web' } },
            template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.kube-seclab.local/toolbox:1.0' }] } },
          },
        } as any,
      ],
      'build-test',
    );

    const check = (p: Record<string, unknown>) =>
      PRIMITIVES.deployedBuild.run(
        { cluster, engine: lab.engine, workspace: lab.workspace, lessonDir: '', lessonId: 'build-test' } as CheckContext,
        PRIMITIVES.deployedBuild.schema.parse({ namespace: NS, name: 'web', path: APP, ...p }),
      );
    expect((await check({})).message).toMatch(/runs registry\.kube-seclab\.local\/toolbox:1\.0, not an image built from your workspace/);

    const first = await lab.build(APP, { deploy: { namespace: NS, name: 'web' } });
    expect(first.build.image).toMatch(/^registry\.kube-seclab\.local\/build-test-app@sha256:[0-9a-f]{64}$/);
    expect(first.build.packages).toEqual([{ name: 'left-pad', version: '1.1.3', path: 'node_modules/left-pad' }]);
    expect(first.deployed).toBe(`${NS}/web:web`);
    expect(await waitDeployment(ctx, NS, 'web', 30_000)).toBe(true);
    const ok = await check({});
    expect(ok.passed, ok.message).toBe(true);

    // The same sources build to the same digest; a changed file is "an older build" until rebuilt.
    expect((await lab.build(APP)).build.digest).toBe(first.build.digest);
    await writeFile(join(dir, 'server.js'), 'console.log("v2");\n');
    const stale = await check({});
    expect(stale.passed).toBe(false);
    expect(stale.message).toMatch(/changed since — build it again/);
    expect((await check({ current: false })).passed).toBe(true);

    const second = await lab.build(APP, { deploy: { namespace: NS, name: 'web' } });
    expect(second.build.digest).not.toBe(first.build.digest);
    expect(await waitDeployment(ctx, NS, 'web', 30_000)).toBe(true);
    expect((await check({})).passed).toBe(true);

    // A digest that looks like the lab's but that it never built is not passed off as one.
    await cluster.mergePatch({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: { template: { spec: { containers: [{ name: 'web', image: `registry.kube-seclab.local/${APP}@sha256:${'0'.repeat(64)}` }] } } },
    } as any);
    expect((await check({})).message).toMatch(/which this lab did not build/);

    // A damaged build history reads as "nothing built", never as a crash.
    await writeFile(buildsFile(lab.workspace), '{ not json');
    expect(await readBuilds(lab.workspace)).toEqual([]);
    expect((await check({})).passed).toBe(false);
  });

  it('refuses what it cannot build with a one-line reason', async () => {
    lab = await Lab.open({ engines, env, engine: 'local' });
    await expect(lab.build('no-such-app')).rejects.toThrow(/no folder no-such-app in the workspace/);
    await expect(lab.build('../etc')).rejects.toThrow(/leaves the workspace/);
    await mkdir(join(lab.workspace, 'no-dockerfile'), { recursive: true });
    await expect(lab.build('no-dockerfile')).rejects.toThrow(/has no Dockerfile/);
    await rm(join(lab.workspace, 'no-dockerfile'), { recursive: true, force: true });
    await expect(lab.build(APP, { deploy: { namespace: NS, name: 'absent' } })).rejects.toThrow(/Deployment build-test\/absent not found/);
  });
});
