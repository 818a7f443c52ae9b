#!/usr/bin/env node
// npm run bench:check — each lesson's checks, repeated N times in-process, side by side with the way
// bash-verified labs do it: a shell script that spawns kubectl (or curl/grep) once per assertion.
// Prints p50/p95 per lesson for both and the ratio. Goals: >= 10x faster, p95 <= 150 ms per lesson.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Lab } from '../dist/core/lab.js';
import { engines } from '../dist/engines/index.js';
import { resolveBinaries } from '../dist/engines/local/binaries.js';

const N = Number(process.env.BENCH_RUNS ?? 20);
const data = mkdtempSync(join(tmpdir(), 'kube-seclab-bench-check-'));
const env = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_ENGINE: process.env.KUBE_SECLAB_ENGINE ?? 'local' };
const bins = await resolveBinaries({ env, prefer: 'build' });
const kubectl = join(bins.dir, 'kubectl');
const lab = await Lab.open({ engines, env, engine: 'local' });
await lab.up();
const kc = lab.engine.kubeconfigPath;
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The shell a bash-verified lab would run for one check: one process per assertion. */
function shellFor(lesson, c) {
  const p = c.params;
  const k = `${kubectl} --kubeconfig ${kc}`;
  switch (c.type) {
    case 'rbac':
      return `${k} auth can-i ${p.verb} ${p.resource}${p.name ? `/${p.name}` : ''} ${p.namespace ? `-n ${p.namespace}` : '-A'} --as=${q(p.as)} >/dev/null || true`;
    case 'object':
      return `${k} get ${p.kind} ${p.name} ${p.namespace ? `-n ${p.namespace}` : ''} -o json >/dev/null || true`;
    case 'objects':
      return `${k} get ${p.kind} ${p.namespace ? `-n ${p.namespace}` : '-A'} -o json >/dev/null`;
    case 'workload':
      return `${k} get ${p.kind} ${p.name} -n ${p.namespace} -o json >/dev/null; ${k} get pods -n ${p.namespace} -o json >/dev/null`;
    case 'admission':
      return `${k} create --dry-run=server -f ${join(lesson.dir, p.file ?? '')} ${p.namespace ? `-n ${p.namespace}` : ''} >/dev/null 2>&1 || true`;
    case 'podSecurity':
      return `${k} get ${p.kind} ${p.name} -n ${p.namespace} -o json >/dev/null; ${k} label --dry-run=server --overwrite ns ${p.namespace} pod-security.kubernetes.io/enforce=${p.level} >/dev/null 2>&1 || true`;
    case 'etcdEncrypted':
      return `${k} get secret -n ${p.namespace} ${p.name ?? ''} -o json >/dev/null 2>&1 || true`;
    case 'listening':
      return `ss -ltnp >/dev/null 2>&1 || cat /proc/net/tcp >/dev/null`;
    case 'etcdClientAuth':
    case 'auditEvent':
      return `${k} get --raw /readyz >/dev/null 2>&1 || true; grep -q kube ${join(data, 'engines/local/node/etc/kubernetes/manifests/etcd.yaml')} || true`;
    case 'plaintextSecrets':
      return `${k} get configmaps -n ${p.namespace} -o json >/dev/null; ${k} get deploy -n ${p.namespace} -o json >/dev/null`;
    case 'permissions':
      return `${k} get roles,rolebindings,secrets,serviceaccounts,pods -A -o json >/dev/null; ${k} get clusterroles,clusterrolebindings -o json >/dev/null; ${k} auth can-i --list ${p.subject ? `--as=${q(p.subject)}` : ''} -n ${p.workload?.namespace ?? 'default'} >/dev/null 2>&1 || true`;
    case 'secretValues':
      return `${k} get all,configmaps,secrets,serviceaccounts,roles,rolebindings -n ${p.namespace} -o json >/dev/null`;
    case 'secretDelivery':
      return `${k} get deploy ${p.workload.name} -n ${p.workload.namespace} -o json >/dev/null; ${k} get pods,secrets -n ${p.workload.namespace} -o json >/dev/null`;
    case 'credentialRotated':
      return `${k} get secret ${p.accepted.secret} -n ${p.accepted.namespace} -o json >/dev/null 2>&1 || true; ${k} get secret ${p.given.secret} -n ${p.given.namespace} -o json >/dev/null 2>&1 || true`;
    case 'controlPlaneFlag':
    case 'nodeFile':
      return `grep -q -- ${q(p.flag ?? 'kind')} ${join(data, 'engines/local/node/etc/kubernetes/manifests/kube-apiserver.yaml')} || true`;
    case 'networkConnection':
    case 'networkIsolation':
      return `${k} get networkpolicies -A -o json >/dev/null; ${k} get deploy -A -o json >/dev/null`;
    case 'unauthenticated':
      return `curl -sk -o /dev/null ${lab.engine.status ? '' : ''}https://127.0.0.1/ || true`;
    default:
      return 'true';
  }
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

console.log(`lesson${' '.repeat(26)} checks  lab p50/p95 ms   kubectl-script p50/p95 ms   ratio(p50)`);
const summary = [];
for (const lesson of lab.catalogue.lessons.filter((l) => lab.engine.supports(l.requires))) {
  await lab.start(lesson.id);
  const runnable = lesson.checks.filter((c) => lab.engine.supports(c.requires));
  const script = join(data, `${lesson.id}.sh`);
  writeFileSync(script, `#!/bin/bash\n${runnable.map((c) => shellFor(lesson, c)).join('\n')}\n`);
  await lab.check(lesson.id, { record: false }); // warm the connection, as the TUI's watch does
  const labMs = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await lab.check(lesson.id, { record: false });
    labMs.push(performance.now() - t);
  }
  const shMs = [];
  for (let i = 0; i < Math.max(3, Math.round(N / 4)); i++) {
    const t = performance.now();
    execFileSync('bash', [script]);
    shMs.push(performance.now() - t);
  }
  const ratio = pct(shMs, 0.5) / pct(labMs, 0.5);
  summary.push({ id: lesson.id, ratio, p95: pct(labMs, 0.95) });
  console.log(
    `${lesson.id.padEnd(32)} ${String(runnable.length).padStart(6)}  ${pct(labMs, 0.5).toFixed(0).padStart(6)}/${pct(labMs, 0.95).toFixed(0).padEnd(8)} ${pct(shMs, 0.5).toFixed(0).padStart(12)}/${pct(shMs, 0.95).toFixed(0).padEnd(14)} ${ratio.toFixed(1)}x`,
  );
}
const minRatio = Math.min(...summary.map((s) => s.ratio));
const maxP95 = Math.max(...summary.map((s) => s.p95));
console.log(
  `\nworst ratio ${minRatio.toFixed(1)}x (goal >= 10x: ${minRatio >= 10 ? 'met' : 'NOT met'}); worst lab p95 ${maxP95.toFixed(0)} ms (goal <= 150 ms: ${maxP95 <= 150 ? 'met' : 'NOT met'})`,
);
await lab.engine.down();
rmSync(data, { recursive: true, force: true });
