import type { Lesson } from '../../src/core/lessons/loader.js';

/** A lesson whose set-up or reset restarts the API server, etcd or the kubelet (minutes on kind, and the API goes away meanwhile). */
export function restartsTheControlPlane(l: Lesson): boolean {
  return l.reset.controlPlane.length > 0 || l.reset.kubelet;
}

/**
 * Lessons that leave the control plane alone but are verified on control-plane.test.ts's cluster,
 * after its control-plane lessons, to even out the two clusters. Stop 25's CI (landed, 4734 s): the
 * lessons cluster's lessons took 4494 s, the control-plane cluster's 4297 s with sast (619 s). In this
 * session's rehearsal, with issue 13's alternatives, rotation and retention checks and the
 * one-restart reset (etcd-tls 1442 s → 1092 s), and secrets-in-layers tried on this cluster instead:
 * the lessons cluster ~4415 s (sast 540 s among it), this one ~4213 s (secrets-in-layers ~420 s).
 * Swapped back, ~4300 s each.
 */
export const ON_THE_CONTROL_PLANE_CLUSTER: readonly string[] = ['sast'];

/** Which of the kind suite's two lesson clusters verifies a lesson. */
export function kindCluster(l: Lesson): 'lessons' | 'control-plane' {
  return restartsTheControlPlane(l) || ON_THE_CONTROL_PLANE_CLUSTER.includes(l.id) ? 'control-plane' : 'lessons';
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
 * What of a lesson's `dev verify` the kind suite leaves to the local engine's run of the same lesson
 * in npm test. On kind every shortcut is a reset, a rollout of real pods and, for the generic ones,
 * an undo (20-40 s each at CI load, 5-25 per lesson), and the CI budget — 90 minutes on two cores,
 * which stay fully busy — does not hold them all on both engines. Both engines apply the same
 * manifests and read them with the same checks, so what kind adds to a shortcut's verdict is the
 * checks only kind runs (probes, exec, image layers) and a real control plane:
 * - the generic battery (src/core/battery) runs here for kind-only and control-plane lessons;
 * - the lesson's own shortcuts (and the attack's sensitivity) run here too for every lesson with a
 *   check only kind runs — a shortcut only such a check catches is judged here alone — except those
 *   whose steps.yaml names checks that catch them on every engine (`caughtBy`: checks of API objects
 *   only, which the local run proves fail; src/core/lessons/loader.ts CAUGHT_ANYWHERE_TYPES). With
 *   any left out, the attack's sensitivity is the local run's too (it runs the attack after each);
 *   an attack only kind runs needs an undeclared shortcut that leaves it working (network-policy:
 *   allow-all, frontend-from-any-namespace; restrict-ports: trim-the-service; secrets-in-layers:
 *   rm-in-a-later-layer), or "the attack still works after a shortcut" fails here.
 *   Kind-only lessons run every shortcut here (the local run has none of them); control-plane lessons
 *   run every shortcut but those with `caughtBy` (a flag check there names a flag the shortcut
 *   writes itself, so its value is the same on every engine).
 * Every lesson's scenario, probes (five readings each), attack, solution and alternatives are read
 * here whole: a fix must pass every check kind runs.
 */
export function onKind(l: Lesson): { genericBattery: boolean; ownShortcuts: boolean; leaveCaughtAnywhere: boolean } {
  const whole = l.requires === 'kind' || restartsTheControlPlane(l);
  return { genericBattery: whole, ownShortcuts: whole || l.checks.some((c) => c.requires === 'kind'), leaveCaughtAnywhere: l.requires !== 'kind' };
}

/** `dev verify` one lesson on a kind lab: its timing always, its step report when it fails. */
export async function verifyOnKind(lab: import('../../src/core/lab.js').Lab, id: string): Promise<{ ok: boolean; report: string }> {
  const { verifyLesson } = await import('../../src/core/verify.js');
  const t0 = Date.now();
  const r = await verifyLesson(lab, id, onKind(lab.lesson(id)));
  const report = r.steps.map((s) => `${s.ok ? 'ok ' : 'BAD'} ${s.name}: ${s.detail}`).join('\n');
  // Where the time went: the three slowest steps (the CI budget is mostly a few lessons' few steps).
  const slowest = [...r.steps]
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, 3)
    .map((s) => `${s.name} ${Math.round(s.durationMs / 1000)} s`)
    .join(', ');
  console.log(
    `kind: verify ${id} ${r.ok ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s (slowest steps: ${slowest})${r.genericNotRun || r.shortcutsNotRun ? `; judged on the local engine (npm test): ${[r.genericNotRun ? `${r.genericNotRun} generic shortcuts` : '', r.shortcutsNotRun ? `${r.shortcutsNotRun} own shortcuts` : ''].filter(Boolean).join(', ')}` : ''}${r.ok ? '' : `\n${report}`}`,
  );
  return { ok: r.ok, report };
}
