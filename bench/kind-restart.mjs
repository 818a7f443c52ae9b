#!/usr/bin/env node
// Benchmark: how long a control-plane change takes on kind, per component — what a learner waits
// for after editing a static-pod manifest on the node, and what every control-plane lesson's reset,
// solution and shortcut costs. In one run, side by side on the same node image:
//   lab    `kube-seclab up --engine kind` (the lab's kind config: a 2 s termination grace for the
//          static pods through kubeadm's patches, no leader election for the controller-manager and
//          the scheduler)
//   bare   `kind create cluster` with kubeadm's defaults (30 s grace, leader election)
// Each round edits a manifest on the node as a learner would (a harmless flag toggled: the API
// server's, controller-manager's and scheduler's --v, etcd's --log-level), and times it from the
// write until a new container of the component runs and serves: the API server's /readyz through
// kubectl, etcd's /readyz on 2381 and then the API server's again, the controller-manager's and the
// scheduler's /healthz. The clusters take turns, each edit on a quiet cluster.
// Goal (issue 15): a static-pod change serving again in <= 10 s (median). Needs Docker, kind,
// kubectl and KUBE_SECLAB_KIND_IMAGE (default: kind's own image). ROUNDS (default 3).
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { run, BIN, ROUNDS, image, kind, now, s, median, benchLab } from './kind-common.mjs';

const { work, env } = benchLab('kube-seclab-bench-restart-', 'benchrs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A flag each component takes in two harmless values: toggled, it changes the pod (a restart), nothing else. */
const COMPONENTS = {
  'kube-apiserver': ['--v=1', '--v=2'],
  etcd: ['--log-level=info', '--log-level=warn'],
  'kube-controller-manager': ['--v=1', '--v=2'],
  'kube-scheduler': ['--v=1', '--v=2'],
};

const exec = async (node, args, timeout = 15_000) => {
  try {
    // Trimmed: etcd's /readyz answers "ok" and a newline, the others "ok" alone.
    return (await run('docker', ['exec', node, ...args], { timeout, maxBuffer: 1 << 24 })).stdout.trim();
  } catch {
    return undefined;
  }
};
const running = async (node, c) =>
  ((await exec(node, ['crictl', 'ps', '--name', `^${c}$`, '--state', 'running', '-q'])) ?? '').trim().split('\n').filter(Boolean);
const apiReady = async (kc) => {
  try {
    await run('kubectl', ['--kubeconfig', kc, 'get', '--raw', '/readyz'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
};
const serving = async (cl, c) => {
  if (c === 'kube-apiserver') return apiReady(cl.kc);
  if (c === 'etcd') return (await exec(cl.node, ['curl', '-s', '--max-time', '2', 'http://127.0.0.1:2381/readyz'])) === 'ok' && (await apiReady(cl.kc));
  const port = c === 'kube-controller-manager' ? 10257 : 10259;
  return (await exec(cl.node, ['curl', '-sk', '--max-time', '2', `https://127.0.0.1:${port}/healthz`])) === 'ok';
};

/** Toggle the component's flag in its manifest on the node; the time until a new container serves. */
async function restart(cl, c, round) {
  const [a, b] = COMPONENTS[c];
  const [from, to] = round % 2 === 0 ? [a, b] : [b, a];
  const m = `/etc/kubernetes/manifests/${c}.yaml`;
  const before = new Set(await running(cl.node, c));
  // The flag goes in (or is swapped) in a copy, renamed in: the kubelet never reads half a file.
  const edit = `cp ${m} /tmp/bench.yaml && if grep -q -- '- ${from}$' /tmp/bench.yaml; then sed -i 's/- ${from}$/- ${to}/' /tmp/bench.yaml; else sed -i 's/^    - ${c}$/    - ${c}\\n    - ${to}/' /tmp/bench.yaml; fi && mv /tmp/bench.yaml ${m}`;
  const t0 = now();
  if ((await exec(cl.node, ['sh', '-c', edit])) === undefined) throw new Error(`could not edit ${m} on ${cl.node}`);
  const end = t0 + 300_000;
  while (now() < end) {
    const fresh = (await running(cl.node, c)).filter((id) => !before.has(id));
    if (fresh.length && (await serving(cl, c))) return now() - t0;
    await sleep(250);
  }
  throw new Error(`${c} on ${cl.name} did not serve again within 300 s`);
}

async function quiet(cl) {
  for (const c of Object.keys(COMPONENTS)) while (!(await serving(cl, c))) await sleep(500);
  await sleep(3000);
}

const clusters = [];
try {
  console.log(`kind control-plane restart benchmark — image ${image ?? "kind's default"}, ${ROUNDS} rounds, load ${loadavg()[0].toFixed(1)}`);
  await run(process.execPath, [BIN, 'up', '--engine', 'kind'], { env, maxBuffer: 1 << 26 });
  // The lab's own kubeconfig (src/core/paths.ts: a named lab's data folder).
  clusters.push({ name: 'lab', node: 'kube-seclab-benchrs-control-plane', kc: join(work, 'data', 'labs', 'benchrs', 'kubeconfig') });
  const bareCfg = join(work, 'bare.yaml');
  writeFileSync(
    bareCfg,
    'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  apiServerAddress: 127.0.0.1\nnodes:\n- role: control-plane\n  kubeadmConfigPatches:\n  - |\n    kind: KubeletConfiguration\n    failCgroupV1: false\n',
  );
  const bareKc = join(work, 'bare.kubeconfig');
  await run(
    kind,
    ['create', 'cluster', '--name', 'bench-restart-bare', '--config', bareCfg, '--kubeconfig', bareKc, '--wait', '120s', ...(image ? ['--image', image] : [])],
    {
      maxBuffer: 1 << 26,
    },
  );
  clusters.push({ name: 'bare', node: 'bench-restart-bare-control-plane', kc: bareKc });
  const times = {};
  for (const c of Object.keys(COMPONENTS)) {
    for (let i = 0; i < ROUNDS; i++) {
      for (const cl of clusters) {
        await quiet(cl);
        const ms = await restart(cl, c, i);
        ((times[c] ??= {})[cl.name] ??= []).push(ms);
      }
    }
  }
  for (const [c, t] of Object.entries(times)) {
    const l = median(t.lab);
    const b = median(t.bare);
    console.log(
      `${c.padEnd(24)} lab median ${s(l).padStart(7)} (${t.lab.map(s).join(', ')})  bare kubeadm default median ${s(b).padStart(7)} (${t.bare.map(s).join(', ')})  lab/bare ${(l / b).toFixed(2)}  goal <= 10 s: ${l <= 10_000 ? 'met' : 'not met'}`,
    );
  }
} finally {
  await run(process.execPath, [BIN, 'down'], { env }).catch(() => {});
  await run(kind, ['delete', 'cluster', '--name', 'bench-restart-bare']).catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
