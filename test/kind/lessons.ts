import type { Lesson } from '../../src/core/lessons/loader.js';

/** A lesson whose set-up or reset restarts the API server, etcd or the kubelet (minutes on kind, and the API goes away meanwhile). */
export function restartsTheControlPlane(l: Lesson): boolean {
  return l.reset.controlPlane.length > 0 || l.reset.kubelet;
}

/**
 * A cluster of this test's own name left by an interrupted earlier run (its data folder is gone):
 * delete it, or `up` rightly refuses to touch a same-named cluster the lab did not create.
 */
export async function removeLeftoverCluster(name: string): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { homedir } = await import('node:os');
  const names = execFileSync('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${name}`, '--format', '{{.Names}}'])
    .toString()
    .trim();
  if (!names) return;
  const cache = process.env.KUBE_SECLAB_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kube-seclab');
  const kind = process.env.KUBE_SECLAB_KIND || [join(cache, 'bin', 'kind-v0.32.0', 'kind')].find(existsSync) || 'kind';
  execFileSync(kind, ['delete', 'cluster', '--name', name], { stdio: 'ignore' });
}

/**
 * Whether the kind suite runs a lesson's generic battery (src/core/battery) itself. Not for a lesson
 * the local engine also runs and that leaves the control plane alone: npm test's `dev verify` on the
 * local engine applies the same templates to the same scenario and solution and reads them with the
 * same checks, which read API objects either way; on kind each one is a rollout and an undo of real
 * pods (20-40 s each under CI load, ten or more per lesson), and the CI budget of 90 minutes on two
 * cores does not hold them all twice. What only kind judges stays here: the lesson's own shortcuts,
 * alternatives, probes, attack, solution and scenario, every kind-only lesson whole, and every
 * control-plane lesson whole (the engines run the control plane differently).
 */
export function genericBatteryOnKind(l: Lesson): boolean {
  return l.requires === 'kind' || restartsTheControlPlane(l);
}

/** `dev verify` one lesson on a kind lab: its timing always, its step report when it fails. */
export async function verifyOnKind(lab: import('../../src/core/lab.js').Lab, id: string): Promise<{ ok: boolean; report: string }> {
  const { verifyLesson } = await import('../../src/core/verify.js');
  const t0 = Date.now();
  const r = await verifyLesson(lab, id, { genericBattery: genericBatteryOnKind(lab.lesson(id)) });
  const report = r.steps.map((s) => `${s.ok ? 'ok ' : 'BAD'} ${s.name}: ${s.detail}`).join('\n');
  // Where the time went: the three slowest steps (the CI budget is mostly a few lessons' few steps).
  const slowest = [...r.steps]
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, 3)
    .map((s) => `${s.name} ${Math.round(s.durationMs / 1000)} s`)
    .join(', ');
  console.log(
    `kind: verify ${id} ${r.ok ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s (slowest steps: ${slowest})${r.genericNotRun ? `; its ${r.genericNotRun} generic shortcuts are judged on the local engine (npm test)` : ''}${r.ok ? '' : `\n${report}`}`,
  );
  return { ok: r.ok, report };
}
