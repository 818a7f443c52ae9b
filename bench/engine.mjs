#!/usr/bin/env node
// npm run bench:engine — cold `up` (binaries cached, no cluster), warm `up` (reuse) and `down` of the
// local engine, measured in one run, against the goal: cold up <= 15 s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEngine } from '../dist/engines/local/engine.js';
import { labPaths } from '../dist/core/paths.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const rows = [];
for (let i = 0; i < runs; i++) {
  const data = mkdtempSync(join(tmpdir(), 'kube-seclab-bench-'));
  const env = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_ENGINE: process.env.KUBE_SECLAB_ENGINE ?? 'local' };
  const engine = new LocalEngine(labPaths(env), env);
  let t = performance.now();
  await engine.up();
  const cold = performance.now() - t;
  t = performance.now();
  await engine.up();
  const warm = performance.now() - t;
  t = performance.now();
  await engine.down();
  const down = performance.now() - t;
  rmSync(data, { recursive: true, force: true });
  rows.push({ cold, warm, down });
  console.log(`run ${i + 1}: cold up ${(cold / 1000).toFixed(2)} s · warm up ${(warm / 1000).toFixed(2)} s · down ${(down / 1000).toFixed(2)} s`);
}
const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
console.log(
  `\nmedian of ${runs}: cold up ${(med('cold') / 1000).toFixed(2)} s (goal <= 15 s: ${med('cold') <= 15000 ? 'met' : 'NOT met'}) · warm up ${(med('warm') / 1000).toFixed(2)} s · down ${(med('down') / 1000).toFixed(2)} s`,
);
console.log(`warm up is ${(med('cold') / med('warm')).toFixed(0)}x faster than cold up`);
