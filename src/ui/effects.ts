import type { LessonResult } from '../core/checks/runner.js';
import type { LessonSummary } from '../core/lab.js';
import type { ProgressData } from '../core/progress/store.js';
import type { EngineName, EngineStatus, Requirement, TaskReporter } from '../core/engine/index.js';
import { UserError, errorMessage } from '../core/errors.js';
import { aidAllowed, elapsedFromProgress, type Workshop } from '../core/workshop-rules.js';
import type { ExamOptions, ExamRunner, ExamState } from '../core/exam.js';
import type { AttackResult, AttackStepResult } from '../core/attacks/types.js';
import {
  visibleLessons,
  type Action,
  type ExamView,
  type Effect,
  type PreflightItem,
  type SolutionView,
  type State,
  type StoreApi,
  type UiError,
  type UiLesson,
} from './store.js';
import { throttleLatest } from './throttle.js';

/** How often a running task's streamed line may change on screen. */
export const DETAIL_MS = 250;

/**
 * The part of the core's Lab the TUI drives. The real Lab satisfies it (run.ts checks that at
 * compile time); UI tests hand in a plain object.
 */
export interface LabPort {
  catalogue: { lessons: readonly UiLesson[]; get(id: string): UiLesson | undefined; next(id: string): UiLesson | undefined };
  progress: { load(): Promise<ProgressData>; update(fn: (d: ProgressData) => void): Promise<ProgressData> };
  /** The engine's name (local, kind, existing) and the lab's own kubeconfig. */
  readonly engineName: EngineName;
  readonly kubeconfigPath: string;
  /** The cluster's state: exists, running, healthy, endpoints, components and problems. */
  status(): Promise<EngineStatus>;
  list(): Promise<LessonSummary[]>;
  up(reporter: TaskReporter, signal?: AbortSignal): Promise<void>;
  start(id: string, reporter: TaskReporter): Promise<unknown>;
  check(id?: string): Promise<LessonResult>;
  /** The lesson's attack against the cluster as it is now; each step reported as it ends. */
  attack(id?: string, opts?: { onStep?: (s: AttackStepResult) => void }): Promise<AttackResult>;
  /** The debrief, with how the attack went before and after the fix (from progress). */
  debrief(id: string): Promise<string>;
  watch(id: string, onResult: (r: LessonResult, reason: string) => void, signal: AbortSignal): Promise<void>;
  hint(id?: string): Promise<{ index: number; total: number; text: string }>;
  solution(id: string, opts?: { apply?: boolean }): Promise<SolutionView>;
  reset(id: string, reporter: TaskReporter): Promise<void>;
  isStarted(id: string): Promise<boolean>;
  /** Why this lab's engine cannot run a lesson (needs kind; a shared cluster runs only namespace-scoped ones). */
  unavailableReason(l: { id: string; requires: Requirement }): string | undefined;
  /** A shared cluster: the line telling the learner their namespaces are prefixed. */
  namespaceNote?(): string | undefined;
  /** The workshop the lab is limited to, if any. */
  workshop?: Workshop;
  /** The folder where lessons hand the learner files (an app's sources, a config to review). */
  workspace?: string;
  /** The line that sets up the learner's own shell: kubectl on the lab's cluster, `kube-seclab` in every folder. */
  envCommand?: string;
  /** Exam mode: the runner over this lab (the real Lab keeps its state in a file). */
  exams?(opts?: { now?: () => number }): ExamRunner;
}

export interface EffectDeps {
  /** A Lab already open (tests), or how to open one (run.ts, after the first frame). */
  lab?: LabPort;
  openLab?: () => Promise<LabPort>;
  /** What the engines need and what is missing; shown before a cluster is brought up. */
  preflight?: (lab: LabPort) => Promise<PreflightItem[]>;
  /** How often the status bar re-reads the cluster's health (0: never). */
  statusIntervalMs?: number;
  now?: () => number;
  /** `kube-seclab exam`: open on the exam screen, with these options. */
  exam?: ExamOptions;
  /** How often timers (exam clock, time box) move on (0: never). */
  clockIntervalMs?: number;
}

/** The core's exam state as the screen draws it. */
export function examView(s: ExamState, phase?: ExamView['phase']): Omit<ExamView, 'scroll' | 'notice'> {
  return {
    phase: phase ?? (s.phase === 'finished' ? 'finished' : s.phase === 'running' ? 'running' : s.phase === 'preparing' ? 'preparing' : 'grading'),
    seed: s.seed,
    minutes: s.minutes,
    lessons: s.lessons,
    index: s.index,
    deadline: s.deadline ? new Date(s.deadline).getTime() : undefined,
    resultFile: s.resultFile,
  };
}

const BUG_HINT = 'this is a bug in kube-seclab; rerun with KUBE_SECLAB_DEBUG=1 for details and report it with `kube-seclab doctor`';

export function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return !!signal?.aborted || (e instanceof Error && e.name === 'AbortError');
}

/** UserError → its message and next step; anything else is a bug, shown in one line. */
export function toUiError(e: unknown, title: string, step?: string): UiError {
  if (e instanceof UserError) return { title, step, message: e.message, hint: e.hint, bug: false };
  return {
    title,
    step,
    message: errorMessage(e).split('\n')[0] || 'unknown error',
    hint: BUG_HINT,
    bug: true,
    stack: e instanceof Error ? e.stack : undefined,
  };
}

/** A TaskReporter that feeds the store's task list (the TUI's face of the CLI's line reporter). */
export function storeReporter(api: Pick<StoreApi, 'dispatch'>, now: () => number = Date.now): TaskReporter & { lastFailed?: string } {
  let seq = 0;
  const rep: TaskReporter & { lastFailed?: string } = {
    info: (text) => api.dispatch({ type: 'task/info', id: ++seq, text, at: now() }),
    async task(title, fn) {
      const id = ++seq;
      api.dispatch({ type: 'task/start', id, title, at: now() });
      // Streamed output (build lines, download progress) can come many times a second: the newest
      // line at most every DETAIL_MS, so the screen is not redrawn per line.
      const update = throttleLatest((detail: string) => api.dispatch({ type: 'task/update', id, detail }), DETAIL_MS);
      try {
        const r = await fn(update);
        update.cancel();
        api.dispatch({ type: 'task/end', id, ok: true, at: now() });
        return r;
      } catch (e) {
        update.cancel();
        rep.lastFailed = title;
        api.dispatch({ type: 'task/end', id, ok: false, at: now() });
        throw e;
      }
    },
  };
  return rep;
}

/**
 * Every call into the Lab happens here, in answer to an action. Resources that outlive one action
 * (the watch, provisioning's abort signal, the status poll) are held in this closure.
 */
export function createLabEffects(deps: EffectDeps): Effect {
  const now = deps.now ?? Date.now;
  let lab: LabPort | undefined = deps.lab;
  let upCtl: AbortController | undefined;
  let watchCtl: AbortController | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  let statusBusy = false;
  let api!: StoreApi;
  let exams: ExamRunner | undefined;
  let examBusy = false;
  let clockTimer: NodeJS.Timeout | undefined;
  /** The newest attack run: a run the learner has left behind (another lesson, a new `a`) reports nowhere. */
  let attackSeq = 0;

  const dispatch = (a: Action) => api.dispatch(a);
  const fail = (e: unknown, title: string, step?: string) => dispatch({ type: 'error/show', error: toUiError(e, title, step) });

  async function refreshLessons() {
    if (lab) dispatch({ type: 'lessons/loaded', lessons: await lab.list() });
  }

  async function refreshStatus() {
    if (!lab || statusBusy) return;
    statusBusy = true;
    try {
      const st = await lab.status();
      dispatch({ type: 'cluster/status', status: st });
    } catch {
      /* the status bar keeps its last word */
    } finally {
      statusBusy = false;
    }
  }

  function startStatusPoll() {
    const ms = deps.statusIntervalMs ?? 5000;
    if (ms <= 0 || statusTimer) return;
    statusTimer = setInterval(() => void refreshStatus(), ms);
    statusTimer.unref?.();
  }

  function stopWatch() {
    if (watchCtl) {
      watchCtl.abort();
      watchCtl = undefined;
      dispatch({ type: 'watch/state', on: false });
    }
  }

  function startWatch(id: string) {
    stopWatch();
    if (!lab) return;
    const ac = new AbortController();
    watchCtl = ac;
    dispatch({ type: 'watch/state', on: true });
    dispatch({ type: 'check/started', id });
    lab
      .watch(
        id,
        (result, reason) => {
          if (!ac.signal.aborted) dispatch({ type: 'check/result', id, result, reason, manual: false, at: now() });
        },
        ac.signal,
      )
      .catch((e) => {
        if (ac.signal.aborted) return;
        if (watchCtl === ac) {
          watchCtl = undefined;
          dispatch({ type: 'watch/state', on: false });
        }
        dispatch({ type: 'check/done', id });
        fail(e, 'Watch mode stopped');
      });
  }

  function exit(code: number) {
    stopWatch();
    upCtl?.abort();
    if (statusTimer) {
      clearInterval(statusTimer);
      statusTimer = undefined;
    }
    if (clockTimer) {
      clearInterval(clockTimer);
      clockTimer = undefined;
    }
    dispatch({ type: 'app/exit', code });
  }

  async function startup() {
    try {
      dispatch({ type: 'startup/phase', phase: 'opening' });
      if (!lab) {
        if (!deps.openLab) throw new Error('no lab to open');
        lab = await deps.openLab();
      }
      const progress = await lab.progress.load();
      // The schema module (zod) loads after the first frame, like the rest of the core.
      const { LAYERS, LAYER_TITLES } = await import('../core/lessons/schema.js');
      const layers = LAYERS.map((layer) => ({ layer, title: LAYER_TITLES[layer] }));
      dispatch({
        type: 'lab/opened',
        engine: lab.engineName,
        kubeconfig: lab.kubeconfigPath,
        envCommand: lab.envCommand,
        workspace: lab.workspace,
        layers,
        catalogue: [...lab.catalogue.lessons],
        lessons: await lab.list(),
        current: progress.current,
        workshop: lab.workshop,
        note: lab.namespaceNote?.(),
      });
      dispatch({ type: 'startup/phase', phase: 'checking' });
      const st = await lab.status();
      dispatch({ type: 'cluster/status', status: st });
      if (!st.healthy) {
        if (deps.preflight) dispatch({ type: 'preflight/result', items: await deps.preflight(lab).catch(() => []) });
        dispatch({ type: 'startup/phase', phase: 'provisioning' });
        dispatch({ type: 'tasks/begin', title: `Bringing up the ${lab.engineName} cluster` });
        const rep = storeReporter(api, now);
        const ac = new AbortController();
        upCtl = ac;
        try {
          await lab.up(rep, ac.signal);
        } catch (e) {
          if (isAbort(e, ac.signal)) {
            exit(130);
            return;
          }
          dispatch({ type: 'startup/phase', phase: 'failed' });
          dispatch({ type: 'error/show', error: { ...toUiError(e, 'The cluster did not come up', rep.lastFailed), retry: 'startup' } });
          return;
        } finally {
          upCtl = undefined;
        }
        if (ac.signal.aborted) {
          exit(130);
          return;
        }
        await refreshStatus();
      }
      await refreshLessons();
      dispatch({ type: 'startup/phase', phase: 'done' });
      startStatusPoll();
      startClock();
      await openExam();
    } catch (e) {
      dispatch({ type: 'startup/phase', phase: 'failed' });
      dispatch({ type: 'error/show', error: { ...toUiError(e, 'The lab could not start'), retry: 'startup' } });
    }
  }

  async function openLesson(id: string) {
    if (!lab) return;
    stopWatch();
    const l = lab.catalogue.get(id);
    if (!l) {
      fail(new UserError(`no lesson "${id}"`), 'Cannot open the lesson');
      return;
    }
    if (!runnable(l)) {
      dispatch({ type: 'lesson/opened', id, phase: 'unavailable' });
      return;
    }
    const progress = await lab.progress.load();
    const started = await lab.isStarted(id);
    dispatch({ type: 'lesson/opened', id, phase: started ? 'ready' : 'starting' });
    try {
      if (!started) {
        dispatch({ type: 'tasks/begin', title: `Setting up ${l.title}` });
        await lab.start(id, storeReporter(api, now));
      } else if (progress.current !== id) {
        await lab.progress.update((d) => {
          d.current = id;
        });
      }
    } catch (e) {
      dispatch({ type: 'lesson/failed', id });
      fail(e, 'The lesson could not be set up', e instanceof UserError ? undefined : `Set up the scenario of ${id}`);
      return;
    }
    if (api.getState().lesson?.id !== id) return;
    dispatch({ type: 'lesson/ready', id });
    if (lab.workshop?.lessons.some((w) => w.id === id && w.minutes)) {
      const p = (await lab.progress.load()).lessons[id];
      dispatch({ type: 'lesson/timeBase', id, spentMs: elapsedFromProgress(p, now()), at: now() });
    }
    void refreshLessons();
    if (api.getState().watch) startWatch(id);
  }

  async function check(id: string) {
    if (!lab) return;
    dispatch({ type: 'check/started', id });
    try {
      const result = await lab.check(id);
      dispatch({ type: 'check/result', id, result, reason: 'check', manual: true, at: now() });
      if (result.passed) void refreshLessons();
    } catch (e) {
      dispatch({ type: 'check/done', id });
      fail(e, 'The checks could not run');
    }
  }

  async function attack(id: string) {
    if (!lab) return;
    const seq = ++attackSeq;
    const current = () => seq === attackSeq;
    try {
      const r = await lab.attack(id, {
        onStep: (step) => {
          if (current()) dispatch({ type: 'attack/step', id, step });
        },
      });
      if (current())
        dispatch({
          type: 'attack/done',
          id,
          result: { succeeded: r.succeeded, skipped: r.skipped, summary: r.summary, engine: r.engine, durationMs: r.durationMs },
        });
    } catch (e) {
      if (!current()) return;
      dispatch({ type: 'attack/failed', id });
      fail(e, 'The attack could not run');
    }
  }

  /** The debrief as the lab tells it (the attack before and after the fix), for a lesson just completed. */
  function loadDebrief(id: string) {
    lab?.debrief(id).then(
      (text) => dispatch({ type: 'debrief/loaded', id, text }),
      () => {
        /* the lesson's own debrief stays */
      },
    );
  }

  function nextRunnable(id: string): string | undefined {
    if (!lab) return undefined;
    for (let l = lab.catalogue.next(id); l; l = lab.catalogue.next(l.id)) if (runnable(l)) return l.id;
    return undefined;
  }

  function runnable(l: UiLesson): boolean {
    return !lab!.unavailableReason(l);
  }

  async function confirmed(c: NonNullable<State['confirm']>) {
    if (!lab) return;
    const id = c.lessonId;
    if (c.kind === 'solution') {
      try {
        const s = await lab.solution(id);
        dispatch({ type: 'solution/loaded', id, solution: { files: s.files, description: s.description, dir: s.dir, steps: s.steps } });
      } catch (e) {
        fail(e, 'The solution could not be read');
      }
      return;
    }
    stopWatch();
    dispatch({ type: 'lesson/opened', id, phase: 'starting' });
    dispatch({ type: 'tasks/begin', title: 'Resetting the lesson' });
    try {
      await lab.reset(id, storeReporter(api, now));
    } catch (e) {
      dispatch({ type: 'lesson/failed', id });
      fail(e, 'The lesson could not be reset');
      return;
    }
    dispatch({ type: 'lesson/resetDone', id });
    void refreshLessons();
    if (api.getState().watch) startWatch(id);
  }

  // ---- exam mode ------------------------------------------------------------------------------

  /** The clock that moves the exam timer and the time box on; each tick may also end the exam. */
  function startClock() {
    const ms = deps.clockIntervalMs ?? 1000;
    if (ms <= 0 || clockTimer) return;
    clockTimer = setInterval(() => {
      const s = api.getState();
      const timed = s.exam?.phase === 'running' || (s.screen === 'lesson' && !!s.lesson?.timeBase);
      if (timed) dispatch({ type: 'clock/tick', now: now() });
      if (s.exam?.phase === 'running' && s.exam.deadline !== undefined && now() >= s.exam.deadline) void examStep('timeout');
    }, ms);
    clockTimer.unref?.();
  }

  function showExam(st: ExamState | undefined, phase?: ExamView['phase']) {
    if (!st) return;
    dispatch({ type: 'exam/view', exam: examView(st, phase), now: now() });
  }

  /** After start-up: resume an exam in progress (grading it if its time ran out), or, for `kube-seclab exam`, plan one. */
  async function openExam() {
    if (!lab?.exams) return;
    exams ??= lab.exams({ now });
    try {
      const before = await exams.load();
      if (!before && !deps.exam) return;
      if (before && before.phase !== 'finished') {
        showExam(before, before.phase === 'running' && exams.remaining(before) > 0 ? 'running' : 'grading');
        dispatch({ type: 'tasks/begin', title: 'Resuming the exam' });
        const st = await exams.settle(storeReporter(api, now));
        if (st?.phase === 'finished') {
          await finishedView(st);
          return;
        }
        showExam(st);
        return;
      }
      if (!deps.exam) return;
      const plan = await exams.plan(deps.exam);
      dispatch({ type: 'exam/view', exam: { phase: 'intro', seed: plan.seed, minutes: plan.minutes, lessons: plan.lessons, index: 0 }, now: now() });
    } catch (e) {
      fail(e, 'The exam could not start');
    }
  }

  async function finishedView(st: ExamState) {
    const { examResult } = await import('../core/exam.js');
    dispatch({ type: 'exam/view', exam: { ...examView(st), result: examResult(st) }, now: now() });
    void refreshLessons();
  }

  /** One step of the exam, never two at once: begin, hand in and go on, submit, reset, time-out. */
  async function examStep(step: 'begin' | 'next' | 'submit' | 'reset' | 'timeout') {
    if (!lab?.exams || examBusy) return;
    exams ??= lab.exams({ now });
    const runner = exams;
    const cur = api.getState().exam;
    if (!cur) return;
    examBusy = true;
    const rep = storeReporter(api, now);
    try {
      if (step === 'begin') {
        dispatch({ type: 'exam/view', exam: { ...cur, phase: 'preparing' }, now: now() });
        dispatch({ type: 'tasks/begin', title: 'Setting up the exam' });
        showExam(await runner.begin({ count: cur.lessons.length, minutes: cur.minutes, seed: cur.seed }, rep));
        return;
      }
      if (step === 'reset') {
        dispatch({ type: 'exam/view', exam: { ...cur, phase: 'preparing' }, now: now() });
        dispatch({ type: 'tasks/begin', title: 'Resetting the lesson' });
        showExam(await runner.resetCurrent(rep));
        return;
      }
      dispatch({ type: 'exam/view', exam: { ...cur, phase: 'grading' }, now: now() });
      dispatch({ type: 'tasks/begin', title: step === 'timeout' ? 'Time is up — grading' : step === 'next' ? 'Handing in the lesson' : 'Handing in the exam' });
      const st = step === 'next' ? await runner.next(rep) : step === 'submit' ? await runner.submit(rep) : await runner.settle(rep);
      if (st?.phase === 'finished') await finishedView(st);
      else showExam(st);
    } catch (e) {
      // The state file keeps the exam where it was; show it as it stands.
      const st = await runner.load().catch(() => undefined);
      if (st) showExam(st, st.phase === 'running' ? 'running' : st.phase === 'finished' ? 'finished' : 'grading');
      fail(e, step === 'begin' ? 'The exam could not start' : 'The exam step did not complete');
    } finally {
      examBusy = false;
    }
  }

  return (a, store, prev) => {
    api = store;
    const s = store.getState();
    const lessonId = s.lesson?.id;
    switch (a.type) {
      case 'app/init':
        void startup();
        break;
      case 'error/retry':
        if (prev.error?.retry === 'startup') void startup();
        break;
      case 'app/quit':
        exit(s.startup.phase === 'failed' ? 2 : 0);
        break;
      case 'app/interrupt':
        if (upCtl && !upCtl.signal.aborted) {
          upCtl.abort();
          dispatch({ type: 'startup/phase', phase: 'cancelling' });
        } else if (s.startup.phase === 'cancelling') dispatch({ type: 'app/exit', code: 130 });
        else exit(s.startup.phase === 'done' ? 0 : 130);
        break;
      case 'lesson/open':
        void openLesson(a.id);
        break;
      case 'home/openSelected': {
        const id = s.home.selected;
        if (id && visibleLessons(s).some((l) => l.id === id)) void openLesson(id);
        break;
      }
      case 'lesson/check':
        if (lessonId && s.lesson?.phase === 'ready') void check(lessonId);
        break;
      // The reducer started a run (it refuses one while another runs, or where there is no attack).
      case 'lesson/attack':
        if (lessonId && s.lesson?.attack?.running && s.lesson.attack !== prev.lesson?.attack) void attack(lessonId);
        break;
      case 'check/result':
        if (s.lesson?.id === a.id && s.lesson.completed && !(prev.lesson?.id === a.id && prev.lesson.completed)) loadDebrief(a.id);
        break;
      case 'lesson/toggleWatch':
        if (!s.watch) stopWatch();
        else if (lessonId && s.lesson?.phase === 'ready') startWatch(lessonId);
        break;
      case 'lesson/hint':
        if (lab && lessonId && aidAllowed(s.workshop, lessonId, 'hints'))
          lab.hint(lessonId).then(
            (h) => dispatch({ type: 'hint/shown', id: lessonId, hint: { index: h.index, total: h.total, text: h.text } }),
            (e) => fail(e, 'No hint'),
          );
        break;
      case 'confirm/answer':
        if (a.yes && prev.confirm?.kind === 'examNext') void examStep('next');
        else if (a.yes && prev.confirm?.kind === 'examSubmit') void examStep('submit');
        else if (a.yes && prev.confirm?.kind === 'examReset') void examStep('reset');
        else if (a.yes && prev.confirm) void confirmed(prev.confirm);
        break;
      case 'exam/begin':
        if (s.exam?.phase === 'intro') void examStep('begin');
        break;
      case 'exam/close':
        void refreshLessons();
        break;
      case 'lesson/next': {
        if (!lessonId) break;
        const next = nextRunnable(lessonId);
        if (next) void openLesson(next);
        else {
          stopWatch();
          dispatch({ type: 'nav/home', notice: 'That was the last lesson you can run here. Well done!' });
        }
        break;
      }
      case 'nav/home':
        stopWatch();
        void refreshLessons();
        break;
    }
  };
}
