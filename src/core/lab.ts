import { join, resolve } from 'node:path';
import { labPaths, packageRoot, type LabPaths } from './paths.js';
import { loadCatalogue, renderLesson, Catalogue, type Lesson } from './lessons/loader.js';
import type { LabNames } from './lessons/placeholders.js';
import { ProgressStore, lastCheckRecord, type ProgressData, type LessonProgress } from './progress/store.js';
import { LabCluster } from './kube/client.js';
import { runChecks, type LessonResult } from './checks/runner.js';
import { watchLesson } from './checks/watch.js';
import { resetLesson, removeLesson, applyFix, deployImage, type ScenarioContext } from './scenarios/apply.js';
import { appFolder, buildApp, type BuildRecord } from './builds.js';
import {
  silentReporter,
  ENGINES,
  missingSharedOptions,
  validatePrefix,
  type Engine,
  type EngineFactory,
  type EngineName,
  type EngineStatus,
  type ExistingOptions,
  type TaskReporter,
} from './engine/index.js';
import { sharedPlan, type SharedPlan } from './scope/lesson-scope.js';
import { ClusterUnreachableError, UserError } from './errors.js';
import { readJson, writeFileAtomic } from './fsutil.js';
import type { Layer } from './lessons/schema.js';
import { aidAllowed, aidRefusal, loadWorkshop, type Aid, type Workshop } from './workshop.js';
import { runAttack } from './attacks/runner.js';
import type { AttackResult, AttackStepResult } from './attacks/types.js';
import { LabLock, waitingLine } from './lock.js';
import { ExamRunner, fileExamStore, formatClock, remainingMs, type ExamState } from './exam.js';
import { commandDir, envCommand, envScript, writeCommand } from './shell.js';
import { IDENTITY, NamespaceRenamer } from './scope/rename.js';
import { showSolution, type ShownSolution } from './scenarios/solution.js';
import { fileBaselineStore } from './scenarios/baseline.js';

/** Where the lessons run an app of the workspace: a Deployment, and (for an SBOM) the ConfigMap next to it. */
export interface AppTarget {
  namespace: string;
  name: string;
  configMap?: string;
  lesson: string;
}

export type LessonStatus = 'done' | 'current' | 'todo' | 'unavailable';
export interface LessonSummary {
  id: string;
  layer: Layer;
  title: string;
  requires: 'api' | 'kind';
  status: LessonStatus;
  /** Why this engine cannot run it (status unavailable). */
  reason?: string;
}

interface LabConfig {
  engine: EngineName;
  existing?: ExistingOptions;
}

/** A promise that settles in time, or the cluster is not answering. */
function withDeadline<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new ClusterUnreachableError(why)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

function recordAttack(p: LessonProgress, succeeded: boolean, summary: string): void {
  const rec = { at: new Date().toISOString(), summary: summary.slice(0, 300) };
  p.attack = { ...p.attack, [succeeded ? 'succeeded' : 'failed']: rec };
}

/** Files the lab hands to the learner on their own machine. */
function workspaceOf(paths: LabPaths): string {
  return join(paths.data, 'workspace');
}

/** How this lab's namespaces are named in its cluster (P-N on a shared cluster), known before `up` too. */
function labRenamer(engine: Engine, shared?: SharedPlan): NamespaceRenamer {
  const prefix = engine.shared?.namespacePrefix;
  return engine.shared?.scope()?.rename ?? (prefix && shared ? new NamespaceRenamer(prefix, shared.namespaces) : IDENTITY);
}

/** The values of lesson placeholders in a lab on this engine (a shared cluster: its namespace prefix). */
export function labNames(engine: Engine, paths: LabPaths, shared?: SharedPlan): LabNames {
  const rename = labRenamer(engine, shared);
  return { node: engine.controlPlane?.nodeNames(), nodeAccess: engine.nodeAccessHint(), workspace: workspaceOf(paths), ns: (n) => rename.ns(n) };
}

/**
 * The lab's core: one object the CLI and the TUI both drive. Everything a screen can do is a
 * method here, with the same behaviour as its subcommand.
 */
export class Lab {
  private clusterHandle?: LabCluster;
  /** Why this engine, when nobody chose one (`up` says it). */
  engineNote?: string;
  /** One writer per lab: what changes the cluster or a lesson holds it (src/core/lock.ts). */
  private lock!: LabLock;

  private constructor(
    readonly paths: LabPaths,
    readonly catalogue: Catalogue,
    readonly progress: ProgressStore,
    /** Core only (verify, audit): the CLI and TUI reach the engine through the members below. */
    readonly engine: Engine,
    readonly env: NodeJS.ProcessEnv,
    /** Every lesson, whatever the workshop (`catalogue` is what the learner may open). */
    readonly allLessons: Catalogue = catalogue,
    /** The workshop the lab is limited to (--workshop / KUBE_SECLAB_WORKSHOP). */
    readonly workshop?: Workshop,
    /** A shared cluster (engine existing): which lessons can run confined to namespaces, and those namespaces. */
    readonly shared?: SharedPlan,
    /** A shared cluster's settings, remembered in lab.json. */
    private readonly existing?: ExistingOptions,
    /** What lesson placeholders are filled with in this lab. */
    readonly names: LabNames = labNames(engine, paths, shared),
  ) {}

  /** The engine's name (local, kind, existing): what the CLI and TUI show and key builds by. */
  get engineName(): EngineName {
    return this.engine.name;
  }

  /** The lab's own kubeconfig. */
  get kubeconfigPath(): string {
    return this.engine.kubeconfigPath;
  }

  /** A shared cluster's learner prefix (undefined on a cluster the lab made). */
  get namespacePrefix(): string | undefined {
    return this.engine.shared?.namespacePrefix;
  }

  /** The cluster's state: exists, running, healthy, endpoints, components and problems. */
  status(): Promise<EngineStatus> {
    return this.engine.status();
  }

  /** How to reach the control-plane node's files (a shell in the node container, a folder on this machine). */
  nodeAccessHint(): string {
    return this.engine.nodeAccessHint();
  }

  /** The lab's build a Deployment's container runs, or why it runs none of them (`kube-seclab scan --deploy`). */
  async runningBuild(target: { namespace: string; name: string; container?: string }) {
    const { runningBuild } = await import('./checks/deployedBuild.js');
    return runningBuild({ cluster: await this.cluster(), engine: this.engine, workspace: this.workspace, lessonDir: '', lessonId: '' }, target);
  }

  /** How to reach the control-plane node, for a lesson that works on it (undefined: it does not). */
  nodeAccessLine(l: Lesson): string | undefined {
    return l.nodeAccess ? `This lesson works on the control-plane node: ${this.engine.nodeAccessHint()}.` : undefined;
  }

  /** What makes this lab's engines (given to `open`; `kube-seclab status` asks it about other labs). */
  engines!: EngineFactory;

  /**
   * `engines`: what makes engines (the engines module's `engines`, handed in by the CLI and the TUI: core
   * imports no engine). `workshop`: a workshop file (default: KUBE_SECLAB_WORKSHOP); null: none.
   * `existing`: a shared cluster's settings (--context, --kubeconfig, --namespace-prefix), else
   * those remembered at `up`.
   */
  static async open(opts: {
    engines: EngineFactory;
    env?: NodeJS.ProcessEnv;
    engine?: EngineName;
    root?: string;
    workshop?: string | null;
    existing?: ExistingOptions;
    command?: string;
  }): Promise<Lab> {
    const env = opts.env ?? process.env;
    const paths = labPaths(env);
    const saved = await readJson<LabConfig>(join(paths.data, 'lab.json')).catch(() => undefined);
    const given = Object.fromEntries(Object.entries(opts.existing ?? {}).filter(([, v]) => v !== undefined)) as ExistingOptions;
    // A shared cluster is never chosen for you: only --engine existing (or what `up` remembered).
    const chosen = opts.engine ?? (env.KUBE_SECLAB_ENGINE as EngineName | undefined) ?? saved?.engine;
    if (Object.keys(given).length && chosen !== 'existing')
      throw new UserError(
        `${Object.keys(given)
          .map((k) => `--${k === 'prefix' ? 'namespace-prefix' : k}`)
          .join(', ')} only go with --engine existing`,
        'a shared cluster: `kube-seclab up --engine existing --context CTX --namespace-prefix P`',
      );
    const auto = chosen ? undefined : await opts.engines.defaultEngine(env, paths.cache);
    const name: EngineName = chosen ?? auto!.name;
    if (!ENGINES.includes(name)) throw new UserError(`unknown engine "${name}"`, 'use --engine local, --engine kind or --engine existing');
    if (given.prefix) validatePrefix(given.prefix);
    if (given.kubeconfig) given.kubeconfig = resolve(given.kubeconfig);
    const loaded = await loadCatalogue(opts.root ?? packageRoot);
    const workshopFile = opts.workshop === undefined ? env.KUBE_SECLAB_WORKSHOP || undefined : (opts.workshop ?? undefined);
    const workshop = workshopFile
      ? await loadWorkshop(
          workshopFile,
          loaded.lessons.map((l) => l.id),
        )
      : undefined;
    // Which lessons run confined to namespaces is computed from every lesson's own files.
    const shared = name === 'existing' ? await sharedPlan(loaded) : undefined;
    const existing = name === 'existing' ? { ...(saved?.engine === 'existing' ? saved.existing : {}), ...given } : undefined;
    const engine = opts.engines.create(name, paths, env, existing && { ...existing, plan: shared });
    // What the learner reads names this lab's node, folders and namespaces (lessons/placeholders.ts).
    const names = labNames(engine, paths, shared);
    const catalogue = new Catalogue(
      loaded.lessons.map((l) => renderLesson(l, names)),
      loaded.problems,
      loaded.root,
    );
    // A workshop limits what the learner sees to its lessons, in its order.
    const visible = workshop
      ? new Catalogue(
          workshop.lessons.map((w) => catalogue.get(w.id)!),
          catalogue.problems,
          catalogue.root,
        )
      : catalogue;
    const lab = new Lab(paths, visible, new ProgressStore(paths.progress), engine, env, catalogue, workshop, shared, existing, names);
    lab.engines = opts.engines;
    lab.engineNote = auto?.why;
    lab.lock = new LabLock(paths.data, opts.command ?? `kube-seclab ${process.argv.slice(2).join(' ')}`.trim());
    return lab;
  }

  /** Run a change of the lab holding its lock; a second writer waits and the reporter says for whom. */
  private exclusive<T>(reporter: TaskReporter, fn: () => Promise<T>): Promise<T> {
    return this.lock.with(fn, (h) => reporter.info(waitingLine(h)));
  }

  /** Remember the engine chosen at `up`, so later commands use the same cluster. */
  async rememberEngine(): Promise<void> {
    const cfg: LabConfig = { engine: this.engine.name, ...(this.existing ? { existing: this.existing } : {}) };
    await writeFileAtomic(join(this.paths.data, 'lab.json'), JSON.stringify(cfg, null, 2));
  }

  /** Why this lab's engine cannot run a lesson (undefined: it can). */
  unavailableReason(l: { id: string; requires: 'api' | 'kind' }): string | undefined {
    if (!this.engine.supports(l.requires)) return 'needs kind';
    if (this.shared) {
      const s = this.shared.lessons.get(l.id);
      if (!s?.namespaced) return `not in a shared cluster: ${s?.reason ?? 'not namespace-scoped'}`;
    }
    return undefined;
  }

  /** A shared cluster: the line that tells the learner their namespaces carry a prefix. */
  namespaceNote(l?: Lesson): string | undefined {
    const p = this.engine.shared?.namespacePrefix;
    if (!p || !this.shared) return undefined;
    const own = l ? (this.shared.lessons.get(l.id)?.namespaces.filter((n) => !n.startsWith('kube-seclab-')) ?? []) : [];
    return `Shared cluster: your namespaces are prefixed with "${p}-"${own.length ? ` — ${own.map((n) => `${n} is ${p}-${n}`).join(', ')}` : ''} (e.g. \`kubectl -n ${p}-${own[0] ?? 'NAME'} get all\`).`;
  }

  lesson(id: string | undefined, progress?: ProgressData): Lesson {
    const key = id ?? progress?.current;
    if (!key) throw new UserError('no lesson given and none started yet', 'name one: `kube-seclab list` shows them');
    const l = this.catalogue.get(key);
    if (!l && this.workshop && this.allLessons.get(key)) {
      throw new UserError(
        `lesson ${key} is not part of the workshop "${this.workshop.title}" (${this.workshop.file})`,
        `this workshop has: ${this.workshop.lessons.map((w) => w.id).join(', ')}`,
      );
    }
    if (!l) {
      const close = this.catalogue.lessons.filter((x) => x.id.includes(key) || key.includes(x.id)).map((x) => x.id);
      throw new UserError(`no lesson "${key}"`, close.length ? `did you mean ${close.join(', ')}?` : '`kube-seclab list` shows every lesson');
    }
    return l;
  }

  async list(): Promise<LessonSummary[]> {
    const p = await this.progress.load();
    return this.catalogue.lessons.map((l) => {
      const reason = this.unavailableReason(l);
      return {
        id: l.id,
        layer: l.layer,
        title: l.title,
        requires: l.requires,
        status: reason ? 'unavailable' : p.lessons[l.id]?.status === 'done' ? 'done' : p.current === l.id ? 'current' : 'todo',
        ...(reason ? { reason } : {}),
      };
    });
  }

  /** The lab's cluster handle; every write through it passes the guard. */
  async cluster(): Promise<LabCluster> {
    if (!this.clusterHandle) {
      const id = await this.engine.labId();
      if (!id)
        throw new UserError(
          `no ${this.engine.name} cluster yet`,
          `run \`kube-seclab up --engine ${this.engine.name}${this.engine.name === 'existing' ? ' --context CTX --namespace-prefix P' : ''}\``,
        );
      this.clusterHandle = new LabCluster(this.paths.kubeconfig, this.paths.kubeconfig, id, this.engine.shared?.scope());
    }
    return this.clusterHandle;
  }

  private async scenarioCtx(): Promise<ScenarioContext> {
    // The cluster-wide state a reset returns to: kept only for a cluster the lab made itself.
    const baseline = this.engine.name === 'existing' ? undefined : fileBaselineStore(join(this.paths.engineDir(this.engine.name), 'baseline.json'));
    return { cluster: await this.cluster(), engine: this.engine, workspace: this.workspace, baseline };
  }

  /** What set-up steps and generic shortcuts act through (`dev verify`). */
  scenarioContext(): Promise<ScenarioContext> {
    return this.scenarioCtx();
  }

  /** Files the lab hands to the learner on their own machine (a cluster config to review, say). */
  get workspace(): string {
    return workspaceOf(this.paths);
  }

  /**
   * The line that sets up the learner's own shell, from any folder: kubectl on this lab's cluster
   * and this checkout's `kube-seclab` on PATH (`eval "$(cd <checkout> && npx kube-seclab env)"`).
   */
  get envCommand(): string {
    return envCommand({ name: this.paths.name });
  }

  /**
   * `kube-seclab env`: write this checkout's `kube-seclab` command into the lab's command folder
   * and return the shell lines that put it (and the kubeconfig, and this lab's name) in a shell.
   */
  async shellEnv(): Promise<{ script: string; command: string }> {
    const dir = commandDir(this.env);
    const command = await writeCommand(dir);
    const script = envScript({
      kubeconfig: this.engine.kubeconfigPath,
      commandDir: dir,
      name: this.paths.name,
      unsetName: this.env.KUBE_SECLAB_NAME !== undefined,
      data: this.env.KUBE_SECLAB_DATA ? resolve(this.env.KUBE_SECLAB_DATA) : undefined,
      workshop: this.workshop ? resolve(this.workshop.file) : undefined,
    });
    return { script, command };
  }

  /**
   * Where the lessons run the app in workspace folder `path` (from their checks of the Deployment
   * that runs its build), as named in this lab's cluster; the current lesson's first.
   */
  async appTargets(path: string): Promise<AppTarget[]> {
    const current = (await this.progress.load()).current;
    const rename = this.engine.shared?.scope()?.rename ?? IDENTITY;
    const lessons = [...this.allLessons.lessons].sort((a, b) => Number(b.id === current) - Number(a.id === current));
    const found = new Map<string, AppTarget>();
    for (const l of lessons) {
      for (const c of l.checks) {
        if (!['deployedBuild', 'scan', 'sbom'].includes(c.type)) continue;
        const p = c.params as { path?: unknown; namespace?: unknown; name?: unknown; configMap?: unknown };
        if (p.path !== path || typeof p.namespace !== 'string' || typeof p.name !== 'string') continue;
        const key = `${p.namespace}/${p.name}`;
        const t = found.get(key) ?? { namespace: rename.ns(p.namespace), name: p.name, lesson: l.id };
        if (c.type === 'sbom') t.configMap = typeof p.configMap === 'string' ? p.configMap : `${p.name}-sbom`;
        found.set(key, t);
      }
    }
    return [...found.values()];
  }

  private assertRunnable(l: Lesson): void {
    if (!this.engine.supports(l.requires))
      throw new UserError(
        `lesson ${l.id} needs the kind engine (a real node); this lab runs on ${this.engine.name}`,
        'run `kube-seclab up --engine kind` where Docker is available',
      );
    const why = this.unavailableReason(l);
    if (why)
      throw new UserError(
        `lesson ${l.id} cannot run in a shared cluster (${why.replace(/^not in a shared cluster: /, '')})`,
        'the lessons marked available in `kube-seclab list` run here; this one needs `--engine local` or `--engine kind`',
      );
  }

  async up(reporter: TaskReporter = silentReporter, signal?: AbortSignal): Promise<void> {
    return this.exclusive(reporter, () => this.upLocked(reporter, signal));
  }

  /** Stop and delete the lab's cluster (existing: only what `up` created). */
  async down(reporter: TaskReporter = silentReporter): Promise<void> {
    await this.exclusive(reporter, () => this.engine.down(reporter));
    this.clusterHandle = undefined;
  }

  private async upLocked(reporter: TaskReporter, signal?: AbortSignal): Promise<void> {
    if (this.engineNote) reporter.info(this.engineNote);
    if (this.existing && !(await this.engine.labId())) {
      const missing = missingSharedOptions(this.existing);
      if (missing) throw new UserError(missing, 'e.g. `kube-seclab up --engine existing --context CLASS-CTX --namespace-prefix alice`');
    }
    await this.engine.up(reporter, signal);
    await this.rememberEngine();
  }

  /** Start (or restart) a lesson: its insecure scenario from scratch, and make it current. */
  async start(id: string, reporter: TaskReporter = silentReporter): Promise<Lesson> {
    const l = this.lesson(id);
    this.assertRunnable(l);
    await this.examGuard('start', l.id);
    return this.exclusive(reporter, () => this.startLocked(l, reporter));
  }

  private async startLocked(l: Lesson, reporter: TaskReporter): Promise<Lesson> {
    // One insecure scenario at a time: the previous lesson's (cluster-wide bindings, say) would skew this one's checks.
    const previous = (await this.progress.load()).current;
    const prev = previous && previous !== l.id ? this.allLessons.get(previous) : undefined;
    if (prev && !this.unavailableReason(prev) && (await this.isStarted(prev.id))) {
      await reporter.task(`Remove the scenario of ${prev.id}`, async () => removeLesson(await this.scenarioCtx(), prev));
      await this.progress.update((d) => {
        if (d.lessons[prev.id]) d.lessons[prev.id].clusterId = undefined;
      });
    }
    await reporter.task(`Set up the scenario of ${l.id}`, async () => resetLesson(await this.scenarioCtx(), l));
    const clusterId = await this.engine.labId();
    await this.progress.update((d) => {
      d.current = l.id;
      this.touch(d, l.id).clusterId = clusterId;
    });
    return l;
  }

  /** Whether the lesson's scenario was set up on the cluster that runs now (not on one since deleted). */
  async isStarted(id: string): Promise<boolean> {
    const p = (await this.progress.load()).lessons[id];
    return !!p?.clusterId && p.clusterId === (await this.engine.labId());
  }

  /**
   * A lesson is judged only on the cluster its scenario was set up on: on a pristine cluster (or
   * one made since) its checks would grade a state the lesson never created — a ✓ for nothing.
   */
  private async assertStarted(l: Lesson, what: 'check' | 'attack' = 'check'): Promise<void> {
    if (await this.isStarted(l.id)) return;
    // No cluster at all (never brought up, or `down`): that is the next step, not `start`.
    if (!(await this.engine.labId())) await this.cluster();
    throw new UserError(
      `lesson ${l.id} is not set up on this cluster, so there is nothing of yours to ${what} yet`,
      `\`kube-seclab start ${l.id}\` sets up its insecure scenario; ${what === 'attack' ? 'attack it, fix it, then attack again' : 'fix it, then check'}`,
    );
  }

  private touch(d: ProgressData, id: string) {
    return ProgressStore.touch(d, id);
  }

  /** Run a lesson's checks (`only`: just these check ids, never recorded). */
  async check(id?: string, opts: { record?: boolean; only?: string[] } = {}): Promise<LessonResult> {
    const l = this.lesson(id, await this.progress.load());
    this.assertRunnable(l);
    await this.examGuard('check', l.id);
    await this.assertStarted(l);
    const cluster = await this.cluster();
    const which = opts.only ? { ...l, checks: l.checks.filter((c) => opts.only!.includes(c.id)) } : l;
    const result = await runChecks({ cluster, engine: this.engine, lessonDir: l.dir, lessonId: l.id, workspace: this.workspace }, this.engine, which);
    if (opts.only) return result;
    if (opts.record !== false && !result.unreachable) await this.recordCheck(l.id, result);
    return result;
  }

  private async recordCheck(id: string, result: LessonResult): Promise<void> {
    await this.progress.update((d) => {
      const p = this.touch(d, id);
      p.attempts += 1;
      p.lastCheck = lastCheckRecord(result);
      // The attack check ran the lesson's attack: remember how it went, for the debrief.
      const a = result.checks.find((c) => c.type === 'attack' && (c.status === 'passed' || c.status === 'failed'));
      if (a) recordAttack(p, !a.passed, a.message.replace(/^the attack (still works|fails) — /, ''));
      if (result.passed && p.status !== 'done') {
        p.status = 'done';
        p.completedAt = new Date().toISOString();
      }
    });
  }

  /**
   * Run the lesson's attack against the cluster as it is now (`kube-seclab attack`, the TUI's `a`):
   * every step in the attacker's words, what it got (secrets redacted), whether the attack worked.
   */
  async attack(
    id?: string,
    opts: { onStep?: (s: AttackStepResult) => void; onStart?: (a: { lesson: string; title: string; story: string }) => void; record?: boolean } = {},
  ): Promise<AttackResult> {
    const l = this.lesson(id, await this.progress.load());
    this.assertRunnable(l);
    await this.examGuard('check', l.id);
    if (!l.attack) throw new UserError(`lesson ${l.id} has no attack to run yet`, 'its checks still prove the fix: `kube-seclab check`');
    if (this.engine.name === 'existing')
      throw new UserError(
        "attacks run only on a cluster of the lab's own (a shared cluster lends no identity to attack with)",
        'on your own machine: `kube-seclab up --engine local` (or kind)',
      );
    await this.assertStarted(l, 'attack');
    const cluster = await this.cluster();
    // A cluster that does not answer is one line now, not a transcript of steps that could not run.
    await withDeadline(cluster.guard.ensure(), 20_000, 'no answer within 20 s');
    opts.onStart?.({ lesson: l.id, title: l.attack.title, story: l.attack.story });
    const r = await runAttack({ cluster, engine: this.engine, lessonDir: l.dir, lessonId: l.id, workspace: this.workspace }, l.attack, opts);
    if (!r.skipped && opts.record !== false) await this.progress.update((d) => recordAttack(this.touch(d, l.id), r.succeeded, r.summary));
    return r;
  }

  /**
   * The debrief of a lesson, with how its attack went before and after the fix when the learner (or
   * a check) ran it both ways — never a claim the attack did not show.
   */
  async debrief(id: string): Promise<string> {
    const l = this.lesson(id);
    const a = (await this.progress.load()).lessons[l.id]?.attack;
    const lines = [l.debrief.trim()];
    if (a?.succeeded && a.failed && a.failed.at > a.succeeded.at) {
      lines.push(`**The attack, before and after your fix:** before — ${a.succeeded.summary}; after — ${a.failed.summary}.`);
    }
    return lines.join('\n\n');
  }

  /** Re-check on every relevant change until all pass or the signal aborts. */
  watch(id: string, onResult: (r: LessonResult, reason: string) => void, signal: AbortSignal): Promise<void> {
    return (async () => {
      const l = this.lesson(id, await this.progress.load());
      this.assertRunnable(l);
      await this.examGuard('check', l.id);
      await this.assertStarted(l);
      const cluster = await this.cluster();
      let running = false;
      let pending: string | undefined;
      let lastFailing: string | undefined;
      const rerun = async (reason: string) => {
        if (running) {
          pending = reason;
          return;
        }
        running = true;
        try {
          const r = await this.check(l.id, { record: false });
          // An attempt is counted when the outcome changes — the learner did something — not per event.
          const failing = r.unreachable
            ? undefined
            : r.checks
                .filter((c) => c.status === 'failed')
                .map((c) => c.id)
                .join(',');
          if (failing !== undefined && failing !== lastFailing) {
            lastFailing = failing;
            await this.recordCheck(l.id, r);
          }
          if (!signal.aborted) onResult(r, reason);
        } finally {
          running = false;
          if (pending && !signal.aborted) {
            const p = pending;
            pending = undefined;
            void rerun(p);
          }
        }
      };
      watchLesson(cluster, l, (reason) => void rerun(reason), signal);
      // Control-plane lessons also depend on files on the node and on component restarts.
      if (l.checks.some((c) => c.primitive.controlPlane)) {
        let t: NodeJS.Timeout | undefined;
        this.engine.controlPlane?.watchControlPlane(() => {
          clearTimeout(t);
          t = setTimeout(() => void rerun('control plane'), 200);
        }, signal);
      }
      await rerun('start');
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    })();
  }

  async hint(id?: string): Promise<{ lesson: string; index: number; total: number; text: string }> {
    const d = await this.progress.load();
    const l = this.lesson(id, d);
    await this.aidGuard(l.id, 'hints');
    const used = d.lessons[l.id]?.hintsUsed ?? 0;
    const index = Math.min(used, l.hints.length - 1);
    await this.progress.update((dd) => {
      const p = this.touch(dd, l.id);
      p.hintsUsed = Math.max(p.hintsUsed, index + 1);
    });
    return { lesson: l.id, index, total: l.hints.length, text: l.hints[index] };
  }

  /**
   * The reference solution as this lab takes it: its files with this lab's names (saved in the lab's
   * data folder, where the commands it gives name them) and what to run or do to carry it out here
   * — the `kubectl apply` command for its manifests, then each step by hand. `apply` also applies it.
   */
  async solution(id: string, opts: { apply?: boolean; reporter?: TaskReporter } = {}): Promise<ShownSolution> {
    const l = this.lesson(id);
    await this.aidGuard(l.id, 'solutions');
    const shown = await showSolution(l.solution, {
      lessonId: l.id,
      engine: this.engine.name,
      names: this.names,
      rename: labRenamer(this.engine, this.shared),
      catalogueRoot: this.catalogue.root,
      out: join(this.paths.data, 'solutions', l.id),
    });
    await this.progress.update((d) => {
      this.touch(d, l.id).solutionViewed = true;
    });
    if (opts.apply) {
      this.assertRunnable(l);
      const rep = opts.reporter ?? silentReporter;
      await this.exclusive(rep, () => rep.task(`Apply the reference solution of ${l.id}`, async () => applyFix(await this.scenarioCtx(), l.solution, l.id)));
    }
    return shown;
  }

  async reset(id: string, reporter: TaskReporter = silentReporter): Promise<void> {
    const l = this.lesson(id);
    this.assertRunnable(l);
    await this.exclusive(reporter, () => reporter.task(`Reset ${l.id} to its insecure starting point`, async () => resetLesson(await this.scenarioCtx(), l)));
    const clusterId = await this.engine.labId();
    await this.progress.update((d) => {
      this.touch(d, l.id).clusterId = clusterId;
    });
  }

  /** Take a lesson's scenario out of the cluster (its progress stays; opening it again sets it up anew). */
  async remove(id: string, reporter: TaskReporter = silentReporter): Promise<void> {
    const l = this.lesson(id);
    this.assertRunnable(l);
    await this.exclusive(reporter, () => reporter.task(`Remove the scenario of ${l.id}`, async () => removeLesson(await this.scenarioCtx(), l)));
    await this.progress.update((d) => {
      if (d.lessons[l.id]) d.lessons[l.id].clusterId = undefined;
    });
  }

  /** Remove every lesson's objects and control-plane edits, and forget all progress. */
  async resetAll(reporter: TaskReporter = silentReporter): Promise<void> {
    return this.exclusive(reporter, () => this.resetAllLocked(reporter));
  }

  private async resetAllLocked(reporter: TaskReporter): Promise<void> {
    const exists = !!(await this.engine.labId());
    if (exists) {
      const ctx = await this.scenarioCtx();
      for (const l of this.allLessons.lessons.filter((x) => !this.unavailableReason(x))) {
        await reporter.task(`Remove ${l.id}`, async () => removeLesson(ctx, l));
      }
    }
    await this.progress.update((d) => {
      d.lessons = {};
      d.current = undefined;
    });
  }

  /** The exam in progress, if any (its state file under the lab's data folder). */
  async activeExam(): Promise<ExamState | undefined> {
    const s = await fileExamStore(this.paths.data)
      .load()
      .catch(() => undefined);
    return s && s.phase !== 'finished' ? s : undefined;
  }

  /** Exam mode: random lessons from a seed, one time limit, no hints, solutions or checks until hand-in. */
  exams(opts: { now?: () => number } = {}): ExamRunner {
    return new ExamRunner(this, fileExamStore(this.paths.data), opts);
  }

  /**
   * While an exam runs (the learner's turn), checks, hints, solutions and other lessons are closed;
   * while the exam itself sets up or grades a lesson, they are its tools.
   */
  private async examGuard(what: 'start' | 'check' | Aid, id: string): Promise<void> {
    const exam = await this.activeExam();
    if (!exam || exam.phase !== 'running') return;
    const cur = exam.lessons[exam.index];
    const left = `${formatClock(remainingMs(exam, Date.now()))} left`;
    if (what === 'hints' || what === 'solutions')
      throw new UserError(
        `no ${what} during the exam (lesson ${exam.index + 1}/${exam.lessons.length}, ${left})`,
        '`kube-seclab exam submit` hands it in and ends the exam; hints and solutions are back after it',
      );
    if (what === 'check')
      throw new UserError(
        `no checks during the exam: a lesson's checks run when you hand it in (${left})`,
        '`kube-seclab exam next` hands in this lesson, `kube-seclab exam submit` ends the exam',
      );
    if (id !== cur.id)
      throw new UserError(
        `an exam is running (lesson ${exam.index + 1}/${exam.lessons.length}: ${cur.id}, ${left}); other lessons wait until it ends`,
        '`kube-seclab exam status` shows it; `kube-seclab exam submit` hands it in',
      );
  }

  /** Hints and solutions: closed during an exam, and where the workshop says so. */
  private async aidGuard(id: string, aid: Aid): Promise<void> {
    await this.examGuard(aid, id);
    if (!aidAllowed(this.workshop, id, aid)) throw aidRefusal(this.workshop!, id, aid);
  }

  /**
   * `kube-seclab build`: an app from the workspace as an image of the lab's registry, where the
   * cluster runs it (kind: built and loaded into the node); `deploy` also points a Deployment at it.
   */
  async build(
    path: string | undefined,
    opts: { deploy?: { namespace: string; name: string; container?: string }; reporter?: TaskReporter } = {},
  ): Promise<{ build: BuildRecord; deployed?: string }> {
    const r = opts.reporter ?? silentReporter;
    return this.exclusive(r, () => this.buildLocked(path, opts, r));
  }

  private async buildLocked(
    path: string | undefined,
    opts: { deploy?: { namespace: string; name: string; container?: string } },
    r: TaskReporter,
  ): Promise<{ build: BuildRecord; deployed?: string }> {
    const ctx = await this.scenarioCtx();
    const { app } = await appFolder(this.workspace, path);
    const build = await r.task(
      `Build ${app} from the workspace${this.engine.node ? '' : " (the local engine simulates pods: the digest is your sources' hash)"}`,
      (update) => buildApp({ engine: this.engine, workspace: this.workspace, path, update }),
    );
    if (!opts.deploy) return { build };
    const to = opts.deploy;
    const container = await r.task(`Deploy it to ${to.namespace}/${to.name}`, () => deployImage(ctx, to, build.image));
    return { build, deployed: `${to.namespace}/${to.name}:${container}` };
  }

  /** A wrong fix of the lesson's (`dev verify`: it must not pass). */
  async applyShortcut(id: string, name: string): Promise<void> {
    const l = this.lesson(id);
    const s = l.shortcuts.find((x) => x.name === name);
    if (!s)
      throw new UserError(`lesson ${id} has no shortcut ${name}`, l.shortcuts.length ? `it has: ${l.shortcuts.map((x) => x.name).join(', ')}` : undefined);
    await this.exclusive(silentReporter, async () => applyFix(await this.scenarioCtx(), s, l.id));
  }

  /** A correct fix unlike the reference (`dev verify`: it must pass). */
  async applyAlternative(id: string, name: string): Promise<void> {
    const l = this.lesson(id);
    const a = l.alternatives.find((x) => x.name === name);
    if (!a)
      throw new UserError(
        `lesson ${id} has no alternative ${name}`,
        l.alternatives.length ? `it has: ${l.alternatives.map((x) => x.name).join(', ')}` : undefined,
      );
    await this.exclusive(silentReporter, async () => applyFix(await this.scenarioCtx(), a, l.id));
  }
}
