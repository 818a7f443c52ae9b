import type { LessonResult } from '../core/checks/runner.js';
import type { LessonSummary } from '../core/lab.js';
import type { ProgressData } from '../core/progress/store.js';
import type { EngineName, EngineStatus, Requirement, TaskReporter } from '../engines/types.js';
import { UserError, errorMessage } from '../core/errors.js';
import { visibleLessons, type Action, type Effect, type PreflightItem, type State, type StoreApi, type UiError, type UiLesson } from './store.js';

/**
 * The part of the core's Lab the TUI drives. The real Lab satisfies it (run.ts checks that at
 * compile time); UI tests hand in a plain object.
 */
export interface LabPort {
  catalogue: { lessons: readonly UiLesson[]; get(id: string): UiLesson | undefined; next(id: string): UiLesson | undefined };
  progress: { load(): Promise<ProgressData>; update(fn: (d: ProgressData) => void): Promise<ProgressData> };
  engine: { name: EngineName; kubeconfigPath: string; supports(r: Requirement): boolean; status(): Promise<EngineStatus> };
  list(): Promise<LessonSummary[]>;
  up(reporter: TaskReporter, signal?: AbortSignal): Promise<void>;
  start(id: string, reporter: TaskReporter): Promise<unknown>;
  check(id?: string): Promise<LessonResult>;
  watch(id: string, onResult: (r: LessonResult, reason: string) => void, signal: AbortSignal): Promise<void>;
  hint(id?: string): Promise<{ index: number; total: number; text: string }>;
  solution(id: string, opts?: { apply?: boolean }): Promise<{ files: { path: string; text: string }[]; description?: string }>;
  reset(id: string, reporter: TaskReporter): Promise<void>;
  isStarted(id: string): Promise<boolean>;
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
}

const BUG_HINT = 'this is a bug in kube-seclab; rerun with KUBE_SECLAB_DEBUG=1 for details and report it with `kube-seclab doctor`';

export function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return !!signal?.aborted || (e instanceof Error && e.name === 'AbortError');
}

/** UserError → its message and next step; anything else is a bug, shown in one line. */
export function toUiError(e: unknown, title: string, step?: string): UiError {
  if (e instanceof UserError) return { title, step, message: e.message, hint: e.hint, bug: false };
  return { title, step, message: errorMessage(e).split('\n')[0] || 'unknown error', hint: BUG_HINT, bug: true, stack: e instanceof Error ? e.stack : undefined };
}

/** A TaskReporter that feeds the store's task list (the TUI's face of the CLI's line reporter). */
export function storeReporter(api: Pick<StoreApi, 'dispatch'>, now: () => number = Date.now): TaskReporter & { lastFailed?: string } {
  let seq = 0;
  const rep: TaskReporter & { lastFailed?: string } = {
    info: (text) => api.dispatch({ type: 'task/info', id: ++seq, text, at: now() }),
    async task(title, fn) {
      const id = ++seq;
      api.dispatch({ type: 'task/start', id, title, at: now() });
      try {
        const r = await fn((detail) => api.dispatch({ type: 'task/update', id, detail }));
        api.dispatch({ type: 'task/end', id, ok: true, at: now() });
        return r;
      } catch (e) {
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

  const dispatch = (a: Action) => api.dispatch(a);
  const fail = (e: unknown, title: string, step?: string) => dispatch({ type: 'error/show', error: toUiError(e, title, step) });

  async function refreshLessons() {
    if (lab) dispatch({ type: 'lessons/loaded', lessons: await lab.list() });
  }

  async function refreshStatus() {
    if (!lab || statusBusy) return;
    statusBusy = true;
    try {
      const st = await lab.engine.status();
      dispatch({ type: 'cluster/status', status: st });
    } catch { /* the status bar keeps its last word */ } finally { statusBusy = false; }
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
    lab.watch(id, (result, reason) => {
      if (!ac.signal.aborted) dispatch({ type: 'check/result', id, result, reason, manual: false, at: now() });
    }, ac.signal).catch((e) => {
      if (ac.signal.aborted) return;
      if (watchCtl === ac) { watchCtl = undefined; dispatch({ type: 'watch/state', on: false }); }
      dispatch({ type: 'check/done', id });
      fail(e, 'Watch mode stopped');
    });
  }

  function exit(code: number) {
    stopWatch();
    upCtl?.abort();
    if (statusTimer) { clearInterval(statusTimer); statusTimer = undefined; }
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
      dispatch({ type: 'lab/opened', engine: lab.engine.name, kubeconfig: lab.engine.kubeconfigPath, layers, catalogue: [...lab.catalogue.lessons], lessons: await lab.list(), current: progress.current });
      dispatch({ type: 'startup/phase', phase: 'checking' });
      const st = await lab.engine.status();
      dispatch({ type: 'cluster/status', status: st });
      if (!st.healthy) {
        if (deps.preflight) dispatch({ type: 'preflight/result', items: await deps.preflight(lab).catch(() => []) });
        dispatch({ type: 'startup/phase', phase: 'provisioning' });
        dispatch({ type: 'tasks/begin', title: `Bringing up the ${lab.engine.name} cluster` });
        const rep = storeReporter(api, now);
        const ac = new AbortController();
        upCtl = ac;
        try {
          await lab.up(rep, ac.signal);
        } catch (e) {
          if (isAbort(e, ac.signal)) { exit(130); return; }
          dispatch({ type: 'startup/phase', phase: 'failed' });
          dispatch({ type: 'error/show', error: { ...toUiError(e, 'The cluster did not come up', rep.lastFailed), retry: 'startup' } });
          return;
        } finally {
          upCtl = undefined;
        }
        if (ac.signal.aborted) { exit(130); return; }
        await refreshStatus();
      }
      await refreshLessons();
      dispatch({ type: 'startup/phase', phase: 'done' });
      startStatusPoll();
    } catch (e) {
      dispatch({ type: 'startup/phase', phase: 'failed' });
      dispatch({ type: 'error/show', error: { ...toUiError(e, 'The lab could not start'), retry: 'startup' } });
    }
  }

  async function openLesson(id: string) {
    if (!lab) return;
    stopWatch();
    const l = lab.catalogue.get(id);
    if (!l) { fail(new UserError(`no lesson "${id}"`), 'Cannot open the lesson'); return; }
    if (!lab.engine.supports(l.requires)) { dispatch({ type: 'lesson/opened', id, phase: 'unavailable' }); return; }
    const progress = await lab.progress.load();
    const started = await lab.isStarted(id);
    dispatch({ type: 'lesson/opened', id, phase: started ? 'ready' : 'starting' });
    try {
      if (!started) {
        dispatch({ type: 'tasks/begin', title: `Setting up ${l.title}` });
        await lab.start(id, storeReporter(api, now));
      } else if (progress.current !== id) {
        await lab.progress.update((d) => { d.current = id; });
      }
    } catch (e) {
      dispatch({ type: 'lesson/failed', id });
      fail(e, 'The lesson could not be set up', e instanceof UserError ? undefined : `Set up the scenario of ${id}`);
      return;
    }
    if (api.getState().lesson?.id !== id) return;
    dispatch({ type: 'lesson/ready', id });
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

  function nextRunnable(id: string): string | undefined {
    if (!lab) return undefined;
    for (let l = lab.catalogue.next(id); l; l = lab.catalogue.next(l.id)) if (lab.engine.supports(l.requires)) return l.id;
    return undefined;
  }

  async function confirmed(c: NonNullable<State['confirm']>) {
    if (!lab) return;
    const id = c.lessonId;
    if (c.kind === 'solution') {
      try {
        const s = await lab.solution(id);
        dispatch({ type: 'solution/loaded', id, solution: { files: s.files, description: s.description } });
      } catch (e) { fail(e, 'The solution could not be read'); }
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

  return (a, store, prev) => {
    api = store;
    const s = store.getState();
    const lessonId = s.lesson?.id;
    switch (a.type) {
      case 'app/init': void startup(); break;
      case 'error/retry': if (prev.error?.retry === 'startup') void startup(); break;
      case 'app/quit': exit(s.startup.phase === 'failed' ? 2 : 0); break;
      case 'app/interrupt':
        if (upCtl && !upCtl.signal.aborted) { upCtl.abort(); dispatch({ type: 'startup/phase', phase: 'cancelling' }); }
        else if (s.startup.phase === 'cancelling') dispatch({ type: 'app/exit', code: 130 });
        else exit(s.startup.phase === 'done' ? 0 : 130);
        break;
      case 'lesson/open': void openLesson(a.id); break;
      case 'home/openSelected': {
        const id = s.home.selected;
        if (id && visibleLessons(s).some((l) => l.id === id)) void openLesson(id);
        break;
      }
      case 'lesson/check': if (lessonId && s.lesson?.phase === 'ready') void check(lessonId); break;
      case 'lesson/toggleWatch':
        if (!s.watch) stopWatch();
        else if (lessonId && s.lesson?.phase === 'ready') startWatch(lessonId);
        break;
      case 'lesson/hint':
        if (lab && lessonId) lab.hint(lessonId).then((h) => dispatch({ type: 'hint/shown', id: lessonId, hint: { index: h.index, total: h.total, text: h.text } }), (e) => fail(e, 'No hint'));
        break;
      case 'confirm/answer': if (a.yes && prev.confirm) void confirmed(prev.confirm); break;
      case 'lesson/next': {
        if (!lessonId) break;
        const next = nextRunnable(lessonId);
        if (next) void openLesson(next);
        else { stopWatch(); dispatch({ type: 'nav/home', notice: 'That was the last lesson you can run here. Well done!' }); }
        break;
      }
      case 'nav/home': stopWatch(); void refreshLessons(); break;
    }
  };
}
