#!/usr/bin/env node
// npm run bench:kind-restart — how long a control-plane change takes on kind, per component, side by
// side in one run on one lab cluster:
//   kubelet  the change as a learner makes it (the manifest edited on the node): the kubelet stops the
//            old static pod, waiting out its termination grace period, and starts the new one;
//   lab      the same change written by the lab (lesson reset, solution, `dev verify`): the engine
//            stops the old container once the kubelet has begun its shutdown (src/engines/kind).
// Each round toggles one harmless flag (--profiling=false; etcd: --enable-pprof=false) and waits until the component serves again
// (a fresh container of the new manifest's pod, running, its health endpoint 200). Prints per-component
// medians and the ratio. Needs Docker, kind and KUBE_SECLAB_KIND_IMAGE; BENCH_ROUNDS (default 3),
// BENCH_LAB (a running kind lab's name, else one is created and deleted).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Lab } from '../dist/core/lab.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const own = !process.env.BENCH_LAB;
const data = own ? mkdtempSync(join(tmpdir(), 'kube-seclab-bench-restart-')) : process.env.KUBE_SECLAB_DATA;
const name = process.env.BENCH_LAB ?? 'benchrestart';
const env = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_NAME: name, NO_COLOR: '1' };
const lab = await Lab.open({ env, engine: 'kind' });
if (own) await lab.up();
const engine = lab.engine;
const node = `${engine.clusterName}-control-plane`;
const HEALTH = {
  etcd: 'curl -s -o /dev/null -w %{http_code} --max-time 1 http://127.0.0.1:2381/readyz',
  'kube-apiserver': 'curl -sk -o /dev/null -w %{http_code} --max-time 1 https://127.0.0.1:6443/readyz',
  'kube-controller-manager': 'curl -sk -o /dev/null -w %{http_code} --max-time 1 https://127.0.0.1:10257/healthz',
  'kube-scheduler': 'curl -sk -o /dev/null -w %{http_code} --max-time 1 https://127.0.0.1:10259/healthz',
};
const sh = (cmd) => execFileSync('docker', ['exec', node, 'sh', '-c', cmd], { encoding: 'utf8' }).trim();
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** A flag that changes nothing the lessons look at: etcd's pprof off, the others' profiling off (both defaults here). */
const FLAG = { etcd: '--enable-pprof=false' };
const toggle = (c, yaml) => {
  const f = FLAG[c] ?? '--profiling=false';
  const lines = yaml.split('\n');
  if (lines.some((l) => l.trim() === `- ${f}`)) return lines.filter((l) => l.trim() !== `- ${f}`).join('\n');
  const at = lines.findIndex((l) => /^\s+- --/.test(l));
  return [...lines.slice(0, at), lines[at].replace(/- --.*/, `- ${f}`), ...lines.slice(at)].join('\n');
};
const pods = (c) => JSON.parse(sh(`crictl ps -a --name '^${c}$' -o json`)).containers ?? [];

/** The kubelet alone: write the manifest as an editor would, wait for a serving container of the new pod. */
async function byKubelet(c) {
  const before = pods(c);
  const oldUids = new Set(before.filter((x) => x.state === 'CONTAINER_RUNNING').map((x) => x.labels['io.kubernetes.pod.uid']));
  const seen = new Set(before.map((x) => x.id));
  const next = toggle(c, await engine.readManifest(c));
  const t0 = performance.now();
  await engine.writeManifest(c, next, { wait: false });
  for (;;) {
    const fresh = pods(c).find((x) => !seen.has(x.id) && !oldUids.has(x.labels['io.kubernetes.pod.uid']) && x.state === 'CONTAINER_RUNNING');
    // etcd is back when it serves and the API server reaches it again (the lab's wait ends there too).
    if (fresh && sh(`${HEALTH[c]} || true`) === '200' && (c !== 'etcd' || sh(`${HEALTH['kube-apiserver']} || true`) === '200')) return performance.now() - t0;
    if (performance.now() - t0 > 300_000) throw new Error(`${c} did not serve again within 300 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The lab's write (it waits for a serving container of the new pod itself). */
async function byLab(c) {
  const next = toggle(c, await engine.readManifest(c));
  const t0 = performance.now();
  await engine.writeManifest(c, next);
  // The lab's wait ends at the component's own health; the same endpoint as the kubelet round, for a fair finish.
  while (sh(`${HEALTH[c]} || true`) !== '200' || (c === 'etcd' && sh(`${HEALTH['kube-apiserver']} || true`) !== '200'))
    await new Promise((r) => setTimeout(r, 200));
  return performance.now() - t0;
}

const load = () => execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
console.log(`kind control-plane restart, ${ROUNDS} rounds per component and path, lab ${name} (load ${load()})`);
const rows = [];
try {
  for (const c of Object.keys(HEALTH)) {
    const k = [];
    const l = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Interleaved, so both paths see the same machine.
      k.push(await byKubelet(c));
      l.push(await byLab(c));
    }
    rows.push({ c, k: median(k), l: median(l) });
    console.log(
      `  ${c.padEnd(24)} kubelet alone ${s(median(k)).padStart(7)} (${k.map(s).join(', ')})   lab ${s(median(l)).padStart(7)} (${l.map(s).join(', ')})   ${(median(k) / median(l)).toFixed(1)}x`,
    );
  }
} finally {
  // Every toggle was applied an even number of times per component when all rounds ran; restore anyway.
  for (const c of Object.keys(HEALTH)) await engine.restoreManifest(c).catch(() => {});
  if (own) {
    await lab.down();
    rmSync(data, { recursive: true, force: true });
  }
}
console.log(`median over components: kubelet alone ${s(median(rows.map((r) => r.k)))}, lab ${s(median(rows.map((r) => r.l)))} (goal: <= 10 s; load ${load()})`);
