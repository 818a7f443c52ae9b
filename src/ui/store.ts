import { createContext, useContext, useSyncExternalStore } from 'react';
import type { LessonResult } from '../core/checks/runner.js';
import type { CheckResult } from '../core/checks/types.js';
import type { LessonSummary } from '../core/lab.js';
import type { EngineStatus, Requirement } from '../core/engine/index.js';
import type { Layer } from '../core/lessons/schema.js';
import { aidAllowed, aidRefusal, type Aid, type Workshop } from '../core/workshop-rules.js';
import type { ExamResult } from '../core/exam.js';
import type { AttackResult, AttackStepResult } from '../core/attacks/types.js';

/**
 * The TUI's one state container: a reducer over plain data. Screens read it (useAppState) and
 * dispatch actions; they never call the Lab. Side effects — every call into the core — live in
 * effects.ts, which runs after the reducer for each action and dispatches result actions back.
 */

export type Screen = 'startup' | 'home' | 'lesson' | 'help' | 'exam';

/** What the screens show of a lesson (the core's Lesson has these fields, and more). */
export interface UiLesson {
  id: string;
  title: string;
  layer: Layer;
  difficulty: string;
  requires: Requirement;
  minutes?: number;
  guide?: string;
  markdown: string;
  debrief: string;
  objectives: { id: string; text: string }[];
  hints: string[];
  checks: { id: string; title: string; objective: string; requires: Requirement }[];
  /** Files and folders the lesson hands the learner in the lab's workspace (reset puts them back). */
  reset?: { workspaceFiles: string[] };
  /** The lesson's attack (`a`): what it is, and its steps in the attacker's words. */
  attack?: { title: string; story: string; steps: readonly { id: string; try: string }[] };
}

export interface TaskItem {
  id: number;
  title: string;
  status: 'running' | 'done' | 'failed' | 'info';
  detail?: string;
  startedAt: number;
  endedAt?: number;
}

export interface LayerInfo {
  layer: Layer;
  title: string;
}

export interface PreflightItem {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  optional?: boolean;
}

/** What the learner sees when something goes wrong: never a stack trace. */
export interface UiError {
  title: string;
  /** The failed step, when a task list was running. */
  step?: string;
  /** The tool's own message (may be several lines). */
  message: string;
  /** The next step. */
  hint?: string;
  /** Not a UserError: a bug in kube-seclab. */
  bug: boolean;
  /** Where `r` goes (startup errors can be retried). */
  retry?: 'startup';
  /** Kept for KUBE_SECLAB_DEBUG=1, printed after the TUI exits; never rendered. */
  stack?: string;
}

export interface HintView {
  index: number;
  total: number;
  text: string;
}
/** The lesson's attack as it runs (`a`): the steps so far, then the verdict. */
export interface AttackView {
  running: boolean;
  steps: AttackStepResult[];
  result?: Pick<AttackResult, 'succeeded' | 'skipped' | 'summary' | 'engine' | 'durationMs'>;
}
export interface SolutionView {
  files: { path: string; text: string }[];
  description?: string;
  /** Where the lab saved the shown files, and what to run or do to carry the solution out, in order. */
  dir?: string;
  steps?: ({ run: string } | { todo: string })[];
}

export interface LessonView {
  id: string;
  /** starting: its scenario is being set up; unavailable: the engine can't run it. */
  phase: 'starting' | 'ready' | 'unavailable' | 'failed';
  /** What the scrollable area shows. */
  view: 'text' | 'solution' | 'debrief' | 'attack';
  result?: LessonResult;
  checking: boolean;
  lastReason?: string;
  lastCheckAt?: number;
  /** Failed checks since the lesson was opened (or reset): three → nudge towards `h`. */
  failedChecks: number;
  hint?: HintView;
  solution?: SolutionView;
  /** The last attack run in this visit (none yet: the screen invites the learner to attack first). */
  attack?: AttackView;
  /** The debrief as the lab tells it (with how the attack went before and after the fix), once loaded. */
  debrief?: string;
  /** Passed during this visit: the debrief and "press n" show. */
  completed: boolean;
  scroll: number;
  /** For the workshop's time box: time spent on the lesson (from progress) when it was opened, and when. */
  timeBase?: { spentMs: number; at: number };
}

export interface ConfirmState {
  kind: 'reset' | 'solution' | 'examNext' | 'examSubmit' | 'examReset';
  lessonId: string;
  question: string;
}

/** The exam as the screen shows it (the core's ExamState, reduced to what is drawn). */
export interface ExamView {
  /**
   * planning: choosing the lessons; intro: waiting for enter; preparing: a lesson is being set up;
   * running: the learner works; grading: a lesson is handed in; finished: the result.
   */
  phase: 'planning' | 'intro' | 'preparing' | 'running' | 'grading' | 'finished';
  seed?: string;
  minutes?: number;
  lessons: { id: string; title: string }[];
  index: number;
  /** Epoch ms when the time is up. */
  deadline?: number;
  result?: ExamResult;
  resultFile?: string;
  /** One line under the objectives ("no hints during the exam"). */
  notice?: string;
  scroll: number;
}

export interface State {
  screen: Screen;
  /** Where `?` help returns to. */
  helpReturn: Screen;
  startup: { phase: 'opening' | 'checking' | 'provisioning' | 'cancelling' | 'failed' | 'done'; preflight?: PreflightItem[] };
  tasks: TaskItem[];
  tasksTitle?: string;
  /** envCommand: the line for the learner's own shell (`eval "$(cd <checkout> && npx kube-seclab env)"`). */
  engine?: { name: string; kubeconfig: string; envCommand?: string; workspace?: string; note?: string };
  cluster?: { healthy: boolean; exists: boolean; running: boolean; problems: string[] };
  /** The four layers, in order, with their titles (from the core's schema, loaded with the lab). */
  layers: LayerInfo[];
  /** The lessons' content (static), and their status (refreshed after every change). */
  catalogue: UiLesson[];
  lessons: LessonSummary[];
  home: { selected?: string; filter: string; filtering: boolean; notice?: string };
  lesson?: LessonView;
  /** Watch mode preference (on by default) and whether a watch is running now. */
  watch: boolean;
  watching: boolean;
  confirm?: ConfirmState;
  error?: UiError;
  helpScroll: number;
  /** The workshop the lab is limited to (title, lessons in order, time boxes, rules). */
  workshop?: Workshop;
  exam?: ExamView;
  /** The clock the timers are drawn from (epoch ms), moved on by the effects' tick. */
  now: number;
  /** Set when the app should exit with this code. */
  exitCode?: number;
}

export const NUDGE_AFTER_FAILED_CHECKS = 3;

export type Action =
  // intents, dispatched by screens
  | { type: 'app/init' }
  | { type: 'app/quit' }
  | { type: 'app/interrupt' }
  | { type: 'help/open' }
  | { type: 'help/close' }
  | { type: 'help/scroll'; by?: number; to?: number; max: number }
  | { type: 'home/move'; delta: number }
  | { type: 'home/filterStart' }
  | { type: 'home/filterSet'; text: string }
  | { type: 'home/filterType'; text: string }
  | { type: 'home/filterBackspace' }
  | { type: 'home/filterCancel' }
  | { type: 'home/openSelected' }
  | { type: 'lesson/open'; id: string }
  | { type: 'lesson/check' }
  | { type: 'lesson/attack' }
  | { type: 'lesson/toggleWatch' }
  | { type: 'lesson/hint' }
  | { type: 'lesson/askSolution' }
  | { type: 'lesson/askReset' }
  | { type: 'lesson/next' }
  | { type: 'lesson/back' }
  /** Scroll by lines, or to a line; the screen says how far the text goes (`max`). */
  | { type: 'lesson/scroll'; by?: number; to?: number; max: number }
  | { type: 'confirm/answer'; yes: boolean }
  | { type: 'nav/home'; notice?: string }
  | { type: 'error/dismiss' }
  | { type: 'error/retry' }
  | { type: 'exam/begin' }
  | { type: 'exam/askNext' }
  | { type: 'exam/askSubmit' }
  | { type: 'exam/askReset' }
  /** h, s, c or w during the exam: refused, with a line saying so. */
  | { type: 'exam/refuse'; what: 'hint' | 'solution' | 'check' | 'attack' }
  | { type: 'exam/scroll'; by?: number; to?: number; max: number }
  | { type: 'exam/close' }
  // results, dispatched by effects
  | {
      type: 'lab/opened';
      engine: string;
      kubeconfig: string;
      envCommand?: string;
      workspace?: string;
      layers: LayerInfo[];
      catalogue: UiLesson[];
      lessons: LessonSummary[];
      current?: string;
      workshop?: Workshop;
      note?: string;
    }
  | { type: 'clock/tick'; now: number }
  | { type: 'lesson/timeBase'; id: string; spentMs: number; at: number }
  | { type: 'exam/view'; exam: Omit<ExamView, 'scroll' | 'notice'>; now: number }
  | { type: 'startup/phase'; phase: State['startup']['phase'] }
  | { type: 'preflight/result'; items: PreflightItem[] }
  | { type: 'tasks/begin'; title: string }
  | { type: 'task/start'; id: number; title: string; at: number }
  | { type: 'task/update'; id: number; detail: string }
  | { type: 'task/end'; id: number; ok: boolean; at: number }
  | { type: 'task/info'; id: number; text: string; at: number }
  | { type: 'cluster/status'; status: Pick<EngineStatus, 'healthy' | 'exists' | 'running' | 'problems'> }
  | { type: 'lessons/loaded'; lessons: LessonSummary[] }
  | { type: 'lesson/opened'; id: string; phase: LessonView['phase'] }
  | { type: 'lesson/ready'; id: string }
  | { type: 'lesson/failed'; id: string }
  | { type: 'check/started'; id: string }
  | { type: 'check/result'; id: string; result: LessonResult; reason: string; manual: boolean; at: number }
  | { type: 'check/done'; id: string }
  | { type: 'watch/state'; on: boolean }
  | { type: 'hint/shown'; id: string; hint: HintView }
  | { type: 'solution/loaded'; id: string; solution: SolutionView }
  | { type: 'attack/step'; id: string; step: AttackStepResult }
  | { type: 'attack/done'; id: string; result: NonNullable<AttackView['result']> }
  | { type: 'attack/failed'; id: string }
  | { type: 'debrief/loaded'; id: string; text: string }
  | { type: 'lesson/resetDone'; id: string }
  | { type: 'error/show'; error: UiError }
  | { type: 'app/exit'; code: number };

export function initialState(overrides: Partial<State> = {}): State {
  return {
    screen: 'startup',
    helpReturn: 'home',
    startup: { phase: 'opening' },
    tasks: [],
    layers: [],
    catalogue: [],
    lessons: [],
    helpScroll: 0,
    now: Date.now(),
    home: { filter: '', filtering: false },
    watch: true,
    watching: false,
    ...overrides,
  };
}

function freshLesson(id: string, phase: LessonView['phase']): LessonView {
  return { id, phase, view: 'text', checking: false, failedChecks: 0, completed: false, scroll: 0 };
}

/** Lessons shown on Home: the filter matches id, title or layer (case-insensitive, every word). */
export function layerTitle(s: Pick<State, 'layers'>, layer: Layer): string {
  return s.layers.find((l) => l.layer === layer)?.title ?? layer;
}

export function visibleLessons(s: Pick<State, 'lessons' | 'home' | 'layers'>): LessonSummary[] {
  const words = s.home.filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return s.lessons;
  return s.lessons.filter((l) => {
    const hay = `${l.id} ${l.title} ${l.layer} ${layerTitle(s, l.layer)}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export interface LayerProgress {
  layer: Layer;
  title: string;
  done: number;
  total: number;
  available: number;
}

export function layerProgress(layers: readonly LayerInfo[], lessons: readonly LessonSummary[]): LayerProgress[] {
  return layers.map(({ layer, title }) => {
    const ls = lessons.filter((l) => l.layer === layer);
    return {
      layer,
      title,
      done: ls.filter((l) => l.status === 'done').length,
      total: ls.length,
      available: ls.filter((l) => l.status !== 'unavailable').length,
    };
  });
}

export type ObjectiveState = 'pending' | 'passed' | 'failed' | 'unreachable' | 'skipped';
export interface ObjectiveRow {
  id: string;
  text: string;
  state: ObjectiveState;
  reasons: string[];
}

/** One row per objective from the latest result: ✓ when every check of it passed; reasons of the others. */
export function objectiveRows(objectives: readonly { id: string; text: string }[], result: LessonResult | undefined): ObjectiveRow[] {
  return objectives.map((o) => {
    const cs: CheckResult[] = result?.checks.filter((c) => c.objective === o.id) ?? [];
    if (!result || cs.length === 0) return { id: o.id, text: o.text, state: 'pending' as const, reasons: [] };
    const bad = cs.filter((c) => c.status === 'failed' || c.status === 'error');
    if (bad.length) return { id: o.id, text: o.text, state: 'failed' as const, reasons: bad.map((c) => c.message) };
    const unreachable = cs.filter((c) => c.status === 'unreachable');
    if (unreachable.length) return { id: o.id, text: o.text, state: 'unreachable' as const, reasons: [unreachable[0].message] };
    if (cs.every((c) => c.status === 'skipped')) return { id: o.id, text: o.text, state: 'skipped' as const, reasons: [cs[0].message] };
    return { id: o.id, text: o.text, state: 'passed' as const, reasons: [] };
  });
}

/** A hint or solution the workshop does not allow: the one-line refusal naming its rule, and no call. */
function refuse(s: State, id: string, aid: Aid, title: string): State {
  const e = aidRefusal(s.workshop!, id, aid);
  return { ...s, error: { title, message: e.message, hint: e.hint, bug: false } };
}

function scrollTo(cur: number, a: { by?: number; to?: number; max: number }): number {
  const next = a.to !== undefined ? a.to : cur + (a.by ?? 0);
  return Math.max(0, Math.min(a.max, next));
}

function updateLesson(s: State, id: string, fn: (l: LessonView) => LessonView): State {
  if (!s.lesson || s.lesson.id !== id) return s;
  return { ...s, lesson: fn(s.lesson) };
}

function moveSelection(s: State, delta: number): State {
  const list = visibleLessons(s);
  if (!list.length) return s;
  const i = list.findIndex((l) => l.id === s.home.selected);
  const next = i < 0 ? 0 : Math.max(0, Math.min(list.length - 1, i + delta));
  return { ...s, home: { ...s.home, selected: list[next].id, notice: undefined } };
}

/** Keep the selection on a visible lesson after the filter changes. */
function reselect(s: State): State {
  const list = visibleLessons(s);
  if (list.some((l) => l.id === s.home.selected)) return s;
  return { ...s, home: { ...s.home, selected: list[0]?.id ?? s.home.selected } };
}

export function reducer(s: State, a: Action): State {
  switch (a.type) {
    case 'help/open':
      return s.screen === 'help' ? s : { ...s, screen: 'help', helpReturn: s.screen, helpScroll: 0 };
    case 'help/scroll':
      return { ...s, helpScroll: scrollTo(Math.min(s.helpScroll, a.max), a) };
    case 'help/close':
      return { ...s, screen: s.helpReturn };
    case 'home/move':
      return moveSelection(s, a.delta);
    case 'home/filterStart':
      return { ...s, home: { ...s.home, filtering: true, notice: undefined } };
    case 'home/filterSet':
      return reselect({ ...s, home: { ...s.home, filter: a.text } });
    case 'home/filterType':
      return reselect({ ...s, home: { ...s.home, filter: s.home.filter + a.text } });
    case 'home/filterBackspace':
      return reselect({ ...s, home: { ...s.home, filter: s.home.filter.slice(0, -1) } });
    case 'home/filterCancel':
      return { ...s, home: { ...s.home, filter: '', filtering: false } };
    case 'lesson/open':
      return s;
    // From the attack of a lesson just completed, back goes to its debrief (which says how the attack went before and after).
    case 'lesson/back':
      return s.lesson && s.lesson.view !== 'text'
        ? { ...s, lesson: { ...s.lesson, view: s.lesson.view === 'attack' && s.lesson.completed ? 'debrief' : 'text', scroll: 0 } }
        : s;
    case 'lesson/attack': {
      const l = s.lesson;
      if (!l || l.phase !== 'ready' || !s.catalogue.find((c) => c.id === l.id)?.attack) return s;
      // One attack at a time: while it runs, `a` only brings its transcript back.
      if (l.attack?.running) return l.view === 'attack' ? s : { ...s, lesson: { ...l, view: 'attack', scroll: Number.MAX_SAFE_INTEGER } };
      return { ...s, lesson: { ...l, view: 'attack', scroll: 0, attack: { running: true, steps: [] } } };
    }
    case 'lesson/scroll':
      return s.lesson ? { ...s, lesson: { ...s.lesson, scroll: scrollTo(Math.min(s.lesson.scroll, a.max), a) } } : s;
    case 'lesson/toggleWatch':
      return { ...s, watch: !s.watch };
    case 'lesson/hint':
      return s.lesson && !aidAllowed(s.workshop, s.lesson.id, 'hints') ? refuse(s, s.lesson.id, 'hints', 'No hint') : s;
    case 'lesson/askSolution':
      if (s.lesson && !aidAllowed(s.workshop, s.lesson.id, 'solutions')) return refuse(s, s.lesson.id, 'solutions', 'No solution');
      return s.lesson
        ? {
            ...s,
            confirm: {
              kind: 'solution',
              lessonId: s.lesson.id,
              question: 'Show the reference solution? Try the hints (h) first — it is more fun to find it yourself.',
            },
          }
        : s;
    case 'lesson/askReset':
      return s.lesson && s.lesson.phase !== 'unavailable'
        ? {
            ...s,
            confirm: { kind: 'reset', lessonId: s.lesson.id, question: 'Reset this lesson to its insecure starting point? Your changes to it are lost.' },
          }
        : s;
    case 'confirm/answer':
      return { ...s, confirm: undefined };
    case 'nav/home':
      return {
        ...s,
        screen: 'home',
        lesson: undefined,
        confirm: undefined,
        home: { ...s.home, filtering: false, notice: a.notice, selected: s.lesson?.id ?? s.home.selected },
      };
    case 'error/dismiss':
      return { ...s, error: undefined };
    case 'error/retry':
      return { ...s, error: undefined };

    case 'lab/opened': {
      const selected =
        a.current && a.lessons.some((l) => l.id === a.current)
          ? a.current
          : (a.lessons.find((l) => l.status !== 'done' && l.status !== 'unavailable')?.id ?? a.lessons[0]?.id);
      return {
        ...s,
        engine: {
          name: a.engine,
          kubeconfig: a.kubeconfig,
          ...(a.envCommand ? { envCommand: a.envCommand } : {}),
          workspace: a.workspace,
          ...(a.note ? { note: a.note } : {}),
        },
        layers: a.layers,
        catalogue: a.catalogue,
        lessons: a.lessons,
        workshop: a.workshop,
        home: { ...s.home, selected },
      };
    }
    case 'startup/phase':
      return { ...s, startup: { ...s.startup, phase: a.phase }, screen: a.phase === 'done' && s.screen === 'startup' ? 'home' : s.screen };
    case 'preflight/result':
      return { ...s, startup: { ...s.startup, preflight: a.items } };
    case 'tasks/begin':
      return { ...s, tasks: [], tasksTitle: a.title };
    case 'task/start':
      return { ...s, tasks: [...s.tasks, { id: a.id, title: a.title, status: 'running', startedAt: a.at }] };
    case 'task/update':
      return { ...s, tasks: s.tasks.map((t) => (t.id === a.id ? { ...t, detail: a.detail } : t)) };
    case 'task/end':
      return { ...s, tasks: s.tasks.map((t) => (t.id === a.id ? { ...t, status: a.ok ? 'done' : 'failed', endedAt: a.at } : t)) };
    case 'task/info':
      return { ...s, tasks: [...s.tasks, { id: a.id, title: a.text, status: 'info', startedAt: a.at, endedAt: a.at }] };
    case 'cluster/status': {
      // Polled every few seconds: the same answer is no change (and no redraw).
      const c = s.cluster;
      const p = a.status.problems;
      if (
        c &&
        c.healthy === a.status.healthy &&
        c.exists === a.status.exists &&
        c.running === a.status.running &&
        c.problems.length === p.length &&
        c.problems.every((x, i) => x === p[i])
      )
        return s;
      return { ...s, cluster: { healthy: a.status.healthy, exists: a.status.exists, running: a.status.running, problems: p } };
    }
    case 'lessons/loaded':
      return reselect({ ...s, lessons: a.lessons });
    case 'lesson/opened':
      return {
        ...s,
        screen: 'lesson',
        confirm: undefined,
        lesson: freshLesson(a.id, a.phase),
        home: { ...s.home, selected: a.id, filter: '', filtering: false, notice: undefined },
      };
    case 'lesson/ready':
      return updateLesson(s, a.id, (l) => ({ ...l, phase: 'ready' }));
    case 'lesson/failed':
      return updateLesson(s, a.id, (l) => ({ ...l, phase: 'failed' }));
    case 'check/started':
      return updateLesson(s, a.id, (l) => ({ ...l, checking: true }));
    case 'check/done':
      return updateLesson(s, a.id, (l) => ({ ...l, checking: false }));
    case 'check/result':
      return updateLesson(s, a.id, (l) => {
        const r = a.result;
        // A failed check counts when the learner asked (c), or when the cluster changed the outcome —
        // one kubectl action can fire several watch events, and those are one attempt (as the core counts them).
        const failing = (x?: LessonResult) =>
          x?.checks
            .filter((c) => c.status === 'failed' || c.status === 'error')
            .map((c) => c.id)
            .join(',');
        const changed = failing(r) !== failing(l.result);
        const counts = !r.passed && !r.unreachable && (a.manual || (a.reason !== 'start' && changed));
        const justCompleted = r.passed && !l.completed;
        return {
          ...l,
          result: r,
          checking: false,
          lastReason: a.reason,
          lastCheckAt: a.at,
          failedChecks: l.failedChecks + (counts ? 1 : 0),
          completed: l.completed || r.passed,
          // Completion opens the debrief — unless the learner is watching an attack (esc from it goes there).
          view: justCompleted && l.view !== 'attack' ? 'debrief' : l.view,
          scroll: justCompleted && l.view !== 'attack' ? 0 : l.scroll,
        };
      });
    case 'watch/state':
      return { ...s, watching: a.on };
    case 'hint/shown':
      return updateLesson(s, a.id, (l) => ({ ...l, hint: a.hint }));
    case 'solution/loaded':
      return updateLesson(s, a.id, (l) => ({ ...l, solution: a.solution, view: 'solution', scroll: 0 }));
    // Each step as it lands; the transcript follows the newest line (the view clamps the scroll).
    case 'attack/step':
      return updateLesson(s, a.id, (l) =>
        l.attack?.running
          ? { ...l, attack: { ...l.attack, steps: [...l.attack.steps, a.step] }, scroll: l.view === 'attack' ? Number.MAX_SAFE_INTEGER : l.scroll }
          : l,
      );
    case 'attack/done':
      return updateLesson(s, a.id, (l) =>
        l.attack ? { ...l, attack: { ...l.attack, running: false, result: a.result }, scroll: l.view === 'attack' ? Number.MAX_SAFE_INTEGER : l.scroll } : l,
      );
    // It could not start (an error box says why): nothing to show but the text.
    case 'attack/failed':
      return updateLesson(s, a.id, (l) => ({
        ...l,
        attack: undefined,
        view: l.view === 'attack' ? 'text' : l.view,
        scroll: l.view === 'attack' ? 0 : l.scroll,
      }));
    case 'debrief/loaded':
      return updateLesson(s, a.id, (l) => ({ ...l, debrief: a.text }));
    case 'lesson/resetDone':
      return updateLesson(s, a.id, (l) => ({ ...freshLesson(l.id, 'ready'), hint: undefined }));
    case 'error/show':
      return { ...s, error: a.error };
    case 'clock/tick':
      return { ...s, now: a.now };
    case 'lesson/timeBase':
      return { ...updateLesson(s, a.id, (l) => ({ ...l, timeBase: { spentMs: a.spentMs, at: a.at } })), now: a.at };
    case 'exam/view': {
      const same = s.exam && s.exam.index === a.exam.index && s.exam.phase === a.exam.phase;
      return { ...s, screen: 'exam', now: a.now, exam: { ...a.exam, scroll: same ? s.exam!.scroll : 0, notice: same ? s.exam!.notice : undefined } };
    }
    case 'exam/refuse': {
      if (!s.exam) return s;
      const notice =
        a.what === 'check'
          ? 'No checks during the exam: they run when you hand the lesson in (n) or finish (f).'
          : a.what === 'attack'
            ? 'No attacks during the exam: the checks judge your fix when you hand the lesson in (n) or finish (f).'
            : `No ${a.what}s during the exam — they are back once it is handed in.`;
      return { ...s, exam: { ...s.exam, notice } };
    }
    case 'exam/scroll':
      return s.exam ? { ...s, exam: { ...s.exam, scroll: scrollTo(Math.min(s.exam.scroll, a.max), a) } } : s;
    case 'exam/askNext':
      return s.exam?.phase === 'running' && s.exam.index + 1 < s.exam.lessons.length
        ? {
            ...s,
            confirm: {
              kind: 'examNext',
              lessonId: s.exam.lessons[s.exam.index].id,
              question: `Hand in lesson ${s.exam.index + 1} and move on? Its checks run now; you cannot come back to it.`,
            },
          }
        : s.exam?.phase === 'running'
          ? { ...s, exam: { ...s.exam, notice: 'This is the last lesson: f hands it in and ends the exam.' } }
          : s;
    case 'exam/askSubmit':
      return s.exam?.phase === 'running'
        ? {
            ...s,
            confirm: { kind: 'examSubmit', lessonId: s.exam.lessons[s.exam.index].id, question: 'Hand in and end the exam now? Lessons not reached score 0.' },
          }
        : s;
    case 'exam/askReset':
      return s.exam?.phase === 'running'
        ? {
            ...s,
            confirm: {
              kind: 'examReset',
              lessonId: s.exam.lessons[s.exam.index].id,
              question: 'Put this lesson back to its insecure start? Your changes to it are lost; the clock keeps running.',
            },
          }
        : s;
    case 'exam/close':
      return { ...s, screen: 'home', exam: undefined, confirm: undefined };
    case 'app/exit':
      return { ...s, exitCode: a.code };
    default:
      return s;
  }
}

// ---------------------------------------------------------------------------------------------
// The container

export interface StoreApi {
  getState(): State;
  dispatch(a: Action): void;
}
/** Runs after the reducer for each action; `prev` is the state before it. */
export type Effect = (a: Action, api: StoreApi, prev: State) => void;

export interface Store extends StoreApi {
  subscribe(fn: () => void): () => void;
}

export function createStore(initial: State = initialState(), effect?: Effect): Store {
  let state = initial;
  const listeners = new Set<() => void>();
  const store: Store = {
    getState: () => state,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    dispatch(a) {
      const prev = state;
      state = reducer(state, a);
      if (state !== prev) for (const l of [...listeners]) l();
      effect?.(a, store, prev);
    },
  };
  return store;
}

export const StoreContext = createContext<Store | undefined>(undefined);

function useStoreInstance(): Store {
  const s = useContext(StoreContext);
  if (!s) throw new Error('useAppState outside <StoreContext.Provider>');
  return s;
}

export function useAppState(): State {
  const store = useStoreInstance();
  return useSyncExternalStore(store.subscribe, store.getState, store.getState);
}

/** The store itself, for key handlers: they read getState() so keys arriving together see each other's effect. */
export function useStoreApi(): Store {
  return useStoreInstance();
}

export function useDispatch(): (a: Action) => void {
  return useStoreInstance().dispatch;
}
