#!/usr/bin/env node
// Benchmark: the kind engine's overhead. In one run, side by side on the same node image:
//   bare   `kind create cluster` (kind's own wait for the control plane: --wait 120s) + waiting for
//          the node Ready and CoreDNS up — a cluster a learner could start working on;
//   lab    `kube-seclab up --engine kind`: the same, plus the lab's kind config, marking the cluster
//          and keeping the baseline manifests (a lesson's workload images are built and loaded
//          when it is first set up: measured below as the first `start` of a lesson).
// Then lesson start and reset times on the lab's cluster.
// Goal (issue 7): lab overhead <= 10% over bare. Needs Docker, kind and
// KUBE_SECLAB_KIND_IMAGE (default: kind's own image).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, BIN, ROUNDS, image, kind, now, s, median, benchLab } from './kind-common.mjs';

const { work, env } = benchLab('kube-seclab-bench-kind-', 'bench');

async function waitReady(kubeconfig) {
  const k = ['--kubeconfig', kubeconfig];
  for (;;) {
    try {
      const nodes = JSON.parse((await run('kubectl', [...k, 'get', 'nodes', '-o', 'json'])).stdout);
      const ready = nodes.items.every((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
      const dns = JSON.parse((await run('kubectl', [...k, 'get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'json'])).stdout).items.some(
        (p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      if (ready && dns) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function bare() {
  const kc = join(work, 'bare.kubeconfig');
  const cfg = join(work, 'bare.yaml');
  writeFileSync(
    cfg,
    'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  kubeadmConfigPatches:\n  - |\n    kind: KubeletConfiguration\n    failCgroupV1: false\n',
  );
  const t0 = now();
  await run(kind, ['create', 'cluster', '--name', 'bench-bare', '--config', cfg, '--kubeconfig', kc, '--wait', '120s', ...(image ? ['--image', image] : [])], {
    maxBuffer: 1 << 26,
  });
  await waitReady(kc);
  const ms = now() - t0;
  await run(kind, ['delete', 'cluster', '--name', 'bench-bare', '--kubeconfig', kc]);
  return ms;
}

async function lab() {
  const t0 = now();
  await run(process.execPath, [BIN, 'up', '--engine', 'kind'], { env, maxBuffer: 1 << 26 });
  const ms = now() - t0;
  return ms;
}
const labDown = () => run(process.execPath, [BIN, 'down'], { env });

async function startThenReset(lesson) {
  let t0 = now();
  await run(process.execPath, [BIN, 'start', lesson], { env });
  const start = now() - t0;
  t0 = now();
  await run(process.execPath, [BIN, 'reset', lesson, '--yes'], { env });
  return [start, now() - t0];
}

try {
  console.log(`kind engine benchmark — image ${image ?? "kind's default"}, ${ROUNDS} rounds, kind ${kind}`);
  // First run (not counted: Docker's caches warm up).
  const first = await lab();
  await labDown();
  const bareTimes = [];
  const labTimes = [];
  for (let i = 0; i < ROUNDS; i++) {
    bareTimes.push(await bare());
    labTimes.push(await lab());
    if (i < ROUNDS - 1) await labDown();
  }
  const b = median(bareTimes);
  const l = median(labTimes);
  console.log(`bare kind create + node Ready + CoreDNS: median ${s(b)}  (${bareTimes.map(s).join(', ')})`);
  console.log(`kube-seclab up --engine kind: median ${s(l)}  (${labTimes.map(s).join(', ')}; a first, uncounted run ${s(first)})`);
  console.log(`lab overhead: ${(((l - b) / b) * 100).toFixed(1)}%  (goal <= 10%)`);
  const t0 = now();
  await run(process.execPath, [BIN, 'up'], { env });
  console.log(`kube-seclab up on a running lab cluster (reuse): ${s(now() - t0)}`);
  for (const lesson of ['rbac-least-privilege', 'network-policy', 'encryption-at-rest']) {
    const [st, rs] = await startThenReset(lesson);
    console.log(`${lesson} on kind: first start ${s(st)} (its images built if changed, then loaded), reset ${s(rs)}`);
  }
} finally {
  await labDown().catch(() => {});
  try {
    execFileSync(kind, ['delete', 'cluster', '--name', 'bench-bare'], { stdio: 'ignore' });
  } catch {
    /* gone */
  }
  rmSync(work, { recursive: true, force: true });
}
