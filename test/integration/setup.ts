import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { LocalEngine } from '../../src/engines/local/engine.js';
import { labPaths } from '../../src/core/paths.js';
import { writeFileAtomic } from '../../src/core/fsutil.js';

declare module 'vitest' {
  export interface ProvidedContext {
    labData: string;
  }
}

/** One real local cluster (etcd, kube-apiserver, controllers, kwok) for the whole integration run. */
export default async function setup(project: TestProject) {
  const data = await mkdtemp(join(tmpdir(), 'kube-seclab-it-'));
  const env = { ...process.env, KUBE_SECLAB_DATA: data };
  const engine = new LocalEngine(labPaths(env), env);
  const t0 = Date.now();
  await engine.up();
  await writeFileAtomic(join(data, 'lab.json'), JSON.stringify({ engine: 'local' }));
  process.stderr.write(`integration: local cluster up in ${Date.now() - t0} ms (${data})\n`);
  project.provide('labData', data);
  return async () => {
    await engine.down();
    if (!process.env.KUBE_SECLAB_KEEP_TEST_LAB) await rm(data, { recursive: true, force: true });
  };
}
