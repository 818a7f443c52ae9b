import type { KubernetesObject } from '@kubernetes/client-node';
import type { Lab } from './lab.js';
import type { LessonResult } from './checks/runner.js';
import { sleep } from './fsutil.js';
import { settle } from './settle.js';
import { errorMessage } from './errors.js';
import { genericShortcuts } from './battery/registry.js';
import { recreatable } from './battery/workloads.js';
import type { GenericShortcut } from './battery/types.js';
import { loadManifests, lessonNamespaces } from './scenarios/apply.js';

export interface VerifyStep {
  name: string;
  ok: boolean;
  detail: string;
  durationMs: number;
}
export interface VerifyResult {
  lesson: string;
  ok: boolean;
  skipped?: string;
  steps: VerifyStep[];
  /** Generic shortcuts this run left to another (`genericBattery: false`). */
  genericNotRun?: number;
  /** Own shortcuts this run left to another (`ownShortcuts: false`). */
  shortcutsNotRun?: number;
}

export interface VerifyOptions {
  /** How long the solution and each alternative may take to pass (default 60 s). */
  solutionTimeoutMs?: number;
  /** How long a shortcut is watched for a passing verdict (default 3 s). */
  settleMs?: number;
  /** The same for a generic shortcut, which waits for its own change to settle (default 1.5 s). */
  genericSettleMs?: number;
  /**
   * A lesson that restarts the control plane: how much longer a shortcut's verdict may wait while
   * the API server is away and the engine says it is on its way back, and how long the scenario's
   * reading may wait for the cluster to answer after the reset (default 180 s).
   */
  controlPlaneSettleMs?: number;
  onStep?: (s: VerifyStep) => void;
  /**
   * Whether the generic battery runs (default true). The kind suite leaves it to the local engine's
   * run of the same lesson (npm test) where that engine judges the same checks on the same objects:
   * see test/kind/lessons.ts. The result says how many it left (`genericNotRun`).
   */
  genericBattery?: boolean;
  /**
   * Whether the lesson's own shortcuts run (default true), and with them the attack's sensitivity
   * (it still works after some shortcut). The kind suite leaves them to the local engine for a lesson
   * whose checks that engine runs all of (test/kind/lessons.ts). The result counts them (`shortcutsNotRun`).
   */
  ownShortcuts?: boolean;
  /**
   * Leave out the own shortcuts whose steps.yaml says which checks catch them on every engine
   * (`caughtBy`: checks that read only API objects, so the same manifests get the same verdict
   * wherever they run — the run of another engine proves those checks fail). The kind suite sets it
   * for lessons it verifies beside the local engine's run: a shortcut there costs a reset and a
   * rollout of real pods, and what kind adds to such a verdict is nothing. Counted in `shortcutsNotRun`.
   */
  leaveCaughtAnywhere?: boolean;
  /**
   * Called on the scenario right after the checks failed on it, and on the solved state right
   * after the solution passed (before the generic battery): `dev audit`'s auditors can read the
   * same states without a reset of their own (the kind suite). A throw fails the step.
   */
  atScenario?: () => Promise<string>;
  atSolved?: () => Promise<string>;
}

/** How many times a probe check is read on the unsolved and on the solved state (all readings must agree). */
export const STABLE_READINGS = 5;

const failing = (r: LessonResult) => r.checks.filter((c) => c.status === 'failed').map((c) => `${c.id}: ${c.message}`);
const summary = (r: LessonResult) =>
  failing(r).join('; ') ||
  r.checks
    .filter((c) => c.status !== 'passed' && c.status !== 'skipped')
    .map((c) => `${c.id}: ${c.message}`)
    .join('; ') ||
  'no check ran';

const WORKLOAD_KINDS: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
];

/** The lesson's workloads as the scenario runs them, with namespaces as the lesson data names them. */
async function unsolvedWorkloads(lab: Lab, id: string): Promise<KubernetesObject[]> {
  const lesson = lab.lesson(id);
  const cluster = await lab.cluster();
  const out: KubernetesObject[] = [];
  for (const ns of await lessonNamespaces(lesson)) {
    for (const [apiVersion, kind] of WORKLOAD_KINDS) {
      for (const o of await cluster.list(apiVersion, kind, cluster.rename.ns(ns))) {
        const c = recreatable({ ...o, apiVersion, kind });
        c.metadata!.namespace = ns;
        out.push(c);
      }
    }
  }
  return out;
}

/**
 * The authoring guarantee, per lesson: reset → its checks fail → apply the reference solution →
 * they all pass → every generic shortcut (src/core/battery) applied on top of the solution makes a
 * check fail → every alternative fix (alternatives/<name>) passes from the scenario → every own
 * shortcut (shortcuts/<name>) fails from the scenario.
 */
export async function verifyLesson(lab: Lab, id: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const lesson = lab.lesson(id);
  const unavailable = lab.unavailableReason(lesson);
  if (unavailable) return { lesson: id, ok: true, skipped: unavailable === 'needs kind' ? 'needs the kind engine' : unavailable, steps: [] };
  const steps: VerifyStep[] = [];
  const step = async (name: string, fn: () => Promise<[boolean, string]>) => {
    const t0 = performance.now();
    let ok: boolean;
    let detail: string;
    try {
      [ok, detail] = await fn();
    } catch (e) {
      ok = false;
      detail = errorMessage(e);
    }
    const s = { name, ok, detail, durationMs: Math.round(performance.now() - t0) };
    steps.push(s);
    opts.onStep?.(s);
    return ok;
  };
  const check = () => lab.check(id, { record: false });
  const solutionTimeout = opts.solutionTimeoutMs ?? 60_000;
  const onThisEngine = (x: { engines?: string[] }) => !x.engines || x.engines.includes(lab.engine.name);

  /**
   * Readings in tiers of cost. On kind a probe or an attack starts pods of its own (network-policy:
   * ten pods, a minute a reading on a busy node), while most checks are a few API reads. A wrong fix
   * one cheap check fails is caught without the costly ones (a lesson passes only when every check
   * does), and a state is judged whole only once the cheap checks pass. Tier 0: checks that read
   * the API or the node's files; 1: + checks that run pods (probes, exec, image layers); 2: + the
   * attack. Only checks this engine runs count; a tier that adds none is left out, and the last
   * tier is the lesson's whole reading.
   */
  const runnable = lesson.checks.filter((c) => onThisEngine(c) && lab.engine.supports(c.requires));
  const tierOf = (c: { type: string; requires: string }) => (c.type === 'attack' ? 2 : c.requires === 'kind' ? 1 : 0);
  const tiers: (() => Promise<LessonResult>)[] = [];
  for (let t = 0, seen = 0; t <= 2; t++) {
    const ids = runnable.filter((c) => tierOf(c) <= t).map((c) => c.id);
    if (ids.length === 0 || ids.length === seen) continue;
    seen = ids.length;
    tiers.push(ids.length === runnable.length ? check : () => lab.check(id, { record: false, only: ids }));
  }
  if (tiers.length === 0) tiers.push(check);

  /** Poll tier 0 until it passes or `end` comes: whether it passed. */
  const cheapUntil = async (end: number): Promise<boolean> => {
    let r = await tiers[0]!();
    while (!r.passed && Date.now() < end) {
      await sleep(250);
      r = await tiers[0]!();
    }
    return r.passed;
  };

  /** Poll until every check passes (or the time is up); the last reading, always a whole one. */
  const untilPass = async (timeoutMs: number): Promise<LessonResult> => {
    const end = Date.now() + timeoutMs;
    // Tier 0 first, which costs a few API reads: while a workload is still starting, nothing that
    // starts pods need run. Not the middle tier: the whole reading reads it again anyway.
    if (tiers.length > 1) await cheapUntil(end);
    let r = await check();
    while (!r.passed && Date.now() < end) {
      await sleep(250);
      r = await check();
    }
    return r;
  };

  /** Whether the attack still worked after some shortcut (its check failed): proof the attack is sensitive. */
  let attackWorkedAfterShortcut = false;
  const attackWorks = (r: LessonResult) => r.checks.some((c) => c.type === 'attack' && c.status === 'failed');
  const restartsControlPlane = lesson.reset.controlPlane.length > 0 || lesson.reset.kubelet;
  /**
   * Checks that judge a real network (probes: a pod that connects, an exploit replayed) can depend on
   * timing; a verdict that changes between identical runs is wrong in one of them. On an engine that
   * runs them, they are read `STABLE_READINGS` times in all (`first` is one) and must agree each time.
   */
  const probeIds = lesson.checks.filter((c) => c.type === 'probe' && lab.engine.supports(c.requires) && onThisEngine(c)).map((c) => c.id);
  const stable = async (state: string, first: LessonResult): Promise<[boolean, string]> => {
    const readings: LessonResult[] = [first];
    while (readings.length < STABLE_READINGS) readings.push(await lab.check(id, { record: false, only: probeIds }));
    const flips: string[] = [];
    for (const pid of probeIds) {
      const seen = readings.map((r) => r.checks.find((c) => c.id === pid));
      const statuses = seen.map((c) => c?.status ?? 'missing');
      if (new Set(statuses).size > 1) {
        // One message per verdict seen, so the report says what each of them was.
        const why = [...new Set(statuses)].map((st) => `${st}: ${seen.find((c) => (c?.status ?? 'missing') === st)?.message ?? 'no reading'}`);
        flips.push(`${pid}: ${statuses.join(', ')} (${why.join(' | ')})`);
      }
    }
    if (flips.length)
      return [false, `on the ${state} state, ${flips.length} probe verdict(s) changed between ${STABLE_READINGS} identical readings: ${flips.join('; ')}`];
    const passing = probeIds.filter((pid) => first.checks.find((c) => c.id === pid)?.status === 'passed').length;
    return [
      true,
      `${probeIds.length} probe check(s), ${STABLE_READINGS} readings on the ${state} state: the same verdicts each time (${passing} pass, ${probeIds.length - passing} do not)`,
    ];
  };

  const attackIds = lesson.checks.filter((c) => c.type === 'attack').map((c) => c.id);

  /**
   * A wrong fix is caught when a check fails and keeps failing (src/core/settle.ts says how readings
   * settle). The tiers are read in turn, up to `upTo` (default: all of them): one whose checks all
   * pass hands on to the next, costlier one. `passedUpTo` says the readings stopped at `upTo` with
   * every check read so far passing — below the whole reading, that is no verdict yet.
   */
  const caught = async (
    what: string,
    settleMs: number,
    upTo = tiers.length - 1,
  ): Promise<[boolean, string] & { passedUpTo?: boolean; last?: LessonResult }> => {
    const settleWith = (c: () => Promise<LessonResult>) =>
      settle({
        check: c,
        settleMs,
        startingMs: restartsControlPlane ? (opts.controlPlaneSettleMs ?? 180_000) : 0,
        apiServerDown: lab.engine.controlPlane?.apiServerDown ? () => lab.engine.controlPlane!.apiServerDown!() : undefined,
      });
    let settled = await settleWith(tiers[0]!);
    for (const read of tiers.slice(1, upTo + 1)) {
      if (settled.verdict !== 'passes') break;
      settled = await settleWith(read);
    }
    const { verdict, last, readings, down } = settled;
    if (verdict === 'passes')
      return Object.assign([false, `all checks pass after ${what}`] as [boolean, string], { passedUpTo: upTo < tiers.length - 1, last });
    if (verdict === 'caught') {
      // The attack's sensitivity (it still works after some shortcut): tried once per caught shortcut until it has.
      // The attack alone is read for it: the state's other checks have said what they had to.
      if (attackWorks(last) || (attackIds.length && !attackWorkedAfterShortcut && attackWorks(await lab.check(id, { record: false, only: attackIds }))))
        attackWorkedAfterShortcut = true;
      return Object.assign(
        [true, failing(last)[0] ?? (down?.state === 'stuck' ? `the cluster is unreachable, and stays so: ${down.why}` : 'a check fails')] as [boolean, string],
        {
          last,
        },
      );
    }
    return [
      false,
      `no settled verdict after ${what} (${readings} readings): ${last.unreachable ? `the cluster is unreachable${down?.state === 'starting' ? ' (the control plane is still starting)' : ''}` : 'the checks flip between readings'}`,
    ];
  };

  let genericNotRun: number | undefined;
  let shortcutsNotRun: number | undefined;
  const run = async () => {
    let unsolved: KubernetesObject[] = [];
    if (
      !(await step('reset', async () => {
        await lab.reset(id);
        return [true, 'scenario applied'];
      }))
    )
      return;
    let reading: LessonResult | undefined;
    if (
      !(await step('unsolved fails', async () => {
        let r = await check();
        // A control-plane lesson's reset restarts etcd and the API server: on a busy machine they may
        // still be settling once the manifests are back — the scenario is judged once the cluster answers
        // and every check could run (a probe pod created while the API server was still waking errs).
        // Any lesson's probe can be inconclusive on the first reading (the network plugin not yet
        // holding the scenario's fresh pods): that says nothing either, for as long as a solution gets.
        const settling = (x: LessonResult) => x.unreachable || x.checks.some((c) => c.status === 'error');
        for (const until = Date.now() + (restartsControlPlane ? (opts.controlPlaneSettleMs ?? 180_000) : solutionTimeout); settling(r) && Date.now() < until;) {
          await sleep(1000);
          r = await check();
        }
        reading = r;
        if (r.unreachable)
          return [
            false,
            `cluster unreachable: ${r.checks
              .filter((c) => c.status === 'unreachable')
              .map((c) => `${c.id}: ${c.message}`)
              .join('; ')}`,
          ];
        unsolved = await unsolvedWorkloads(lab, id);
        const f = failing(r);
        return f.length ? [true, `${f.length} check(s) fail, e.g. ${f[0]}`] : [false, 'every check passes on the insecure scenario'];
      }))
    )
      return;
    if (probeIds.length && !(await step('probes stable on the unsolved state', () => stable('unsolved', reading!)))) return;
    // The attack's own check says where attacks run (the loader gives it engines: local, kind): a
    // shared cluster lends no identity to attack with, so there the checks alone judge the lesson.
    const attackCheck = lesson.checks.find((c) => c.type === 'attack');
    const attackRunsHere = !!attackCheck && onThisEngine(attackCheck) && lab.engine.supports(attackCheck.requires);
    if (
      lesson.attack &&
      attackRunsHere &&
      !(await step('the attack works on the scenario', async () => {
        // The scenario's pods may still be starting (a reset right after a control-plane lesson, on a
        // busy machine): the attack gets as long as a solution does to find its foothold.
        let r = await lab.attack(id, { record: false });
        for (const until = Date.now() + solutionTimeout; !r.skipped && !r.succeeded && Date.now() < until;) {
          await sleep(2000);
          r = await lab.attack(id, { record: false });
        }
        if (r.skipped) return [true, `not on this engine: ${r.skipped}`];
        return r.succeeded ? [true, r.summary] : [false, `the attack fails on the insecure scenario: ${r.summary}`];
      }))
    )
      return;
    if (opts.atScenario && !(await step('auditors on the scenario', async () => [true, await opts.atScenario!()]))) return;
    if (
      !(await step('solution passes', async () => {
        await lab.solution(id, { apply: true });
        const r = await untilPass(solutionTimeout);
        reading = r;
        return r.passed ? [true, `all ${r.checks.filter((c) => c.status === 'passed').length} runnable checks pass`] : [false, summary(r)];
      }))
    )
      return;
    if (probeIds.length && !(await step('probes stable on the solved state', () => stable('solved', reading!)))) return;
    if (opts.atSolved && !(await step('auditors on the solved state', async () => [true, await opts.atSolved!()]))) return;

    // The generic battery, each on top of the solved state and undone after. A generic shortcut's
    // failing check proves something only if the state under it passed that check: `base` is the
    // highest tier the solved state was last read passing at (-1: not known to pass). After an undo
    // only tier 0 is read (a few API reads, where a whole reading on kind starts pods); a shortcut
    // is judged at the tiers the state under it passed, and one that passes them all is undone, the
    // state read whole, and the shortcut applied again and read whole. Should the solved state not
    // come back, the next one starts from a fresh reset + solution.
    const cluster = await lab.cluster();
    const generic: GenericShortcut[] = genericShortcuts({
      lesson,
      unsolved,
      scenario: await loadManifests(lesson.scenarioDir),
      solution: await loadManifests(lesson.solution.dir),
    }).filter((g) => onThisEngine(g) && !(g.clusterScoped && cluster.rename.active));
    if (opts.genericBattery === false) {
      genericNotRun = generic.length;
      generic.length = 0;
    }
    const whole = tiers.length - 1;
    let base = whole;
    /** How long the solved state may take to come back after an undo. */
    const undoMs = Math.min(30_000, solutionTimeout);
    for (const g of generic) {
      await step(`generic shortcut "${g.name}" fails`, async () => {
        /** The solved state read whole: as it is (after an undo), or from a fresh reset + solution. */
        const solvedWhole = async (fresh: boolean): Promise<[boolean, string]> => {
          let r = fresh ? undefined : await untilPass(undoMs);
          if (!r?.passed) {
            await lab.reset(id);
            await lab.solution(id, { apply: true });
            r = await untilPass(solutionTimeout);
          }
          base = r.passed ? whole : -1;
          return [r.passed, r.passed ? '' : `the solution no longer passes before this shortcut: ${summary(r)}`];
        };
        if (base < 0) {
          const [ok, why] = await solvedWhole(true);
          if (!ok) return [false, why];
        }
        // apply() waited for its change to settle: a shorter watch than a hand-written shortcut's.
        const settleMs = opts.genericSettleMs ?? 1500;
        const under = base;
        base = -1; // not the solved state until the undo is read passing
        let undo = await g.apply(await lab.scenarioContext());
        let verdict = await caught(g.description, settleMs, under);
        if (verdict.passedUpTo) {
          // Every check the state under it was read passing passes with the shortcut too: the costlier
          // checks judge it, against a state read whole right before.
          await undo();
          const [ok, why] = await solvedWhole(false);
          if (!ok) return [false, why];
          base = -1;
          undo = await g.apply(await lab.scenarioContext());
          verdict = await caught(g.description, settleMs);
        }
        try {
          await undo();
          if (await cheapUntil(Date.now() + undoMs)) base = 0;
        } catch {
          // base stays -1: the next one starts from a fresh reset + solution.
        }
        return verdict;
      });
    }

    for (const a of lesson.alternatives.filter(onThisEngine)) {
      await step(`alternative "${a.name}" passes`, async () => {
        await lab.reset(id);
        await lab.applyAlternative(id, a.name);
        const r = await untilPass(solutionTimeout);
        return r.passed
          ? [true, `all ${r.checks.filter((c) => c.status === 'passed').length} runnable checks pass${a.description ? ` (${a.description})` : ''}`]
          : [false, summary(r)];
      });
    }

    const own = lesson.shortcuts.filter(onThisEngine);
    const runOwn = opts.ownShortcuts === false ? [] : opts.leaveCaughtAnywhere ? own.filter((s) => !s.caughtBy) : own;
    if (runOwn.length < own.length) shortcutsNotRun = own.length - runOwn.length;
    for (const s of runOwn) {
      await step(`shortcut "${s.name}" fails`, async () => {
        await lab.reset(id);
        await lab.applyShortcut(id, s.name);
        const verdict = await caught(`the shortcut${s.description ? ` (${s.description})` : ''}`, opts.settleMs ?? 3000);
        if (!verdict[0] || !s.caughtBy) return verdict;
        // What steps.yaml says catches it everywhere, proven here: each of those checks this engine runs fails.
        const passing = s.caughtBy.filter((cid) => verdict.last?.checks.some((c) => c.id === cid && c.status !== 'failed'));
        return passing.length
          ? [
              false,
              `its steps.yaml says caughtBy ${passing.join(', ')}, but ${passing.length === 1 ? 'that check does not fail' : 'those checks do not fail'} here (${verdict[1]})`,
            ]
          : [true, `${verdict[1]}; caughtBy ${s.caughtBy.join(', ')} fail${s.caughtBy.length === 1 ? 's' : ''}`];
      });
    }
    // With shortcuts left to another engine's run, so is the attack's sensitivity — when the attack runs
    // there too: one only this engine runs must still be shown sensitive here, by the shortcuts left.
    if (attackRunsHere && opts.ownShortcuts !== false && (runOwn.length === own.length || attackCheck!.requires === 'kind')) {
      await step('the attack still works after a shortcut', async () =>
        attackWorkedAfterShortcut
          ? [true, 'at least one shortcut leaves the attack working: it is sensitive to the weakness, not only to the workload']
          : [false, 'the attack fails after every shortcut — add a shortcut that leaves the weakness in place, or the attack proves nothing'],
      );
    }
    // Leave nothing behind: an insecure scenario left in place (a cluster-wide binding, say) would skew other lessons.
    await step('clean up', async () => {
      await lab.remove(id);
      return [true, 'lesson objects removed'] as [boolean, string];
    });
  };
  await run();
  return {
    lesson: id,
    ok: steps.every((s) => s.ok),
    steps,
    ...(genericNotRun !== undefined ? { genericNotRun } : {}),
    ...(shortcutsNotRun !== undefined ? { shortcutsNotRun } : {}),
  };
}
