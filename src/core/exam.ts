import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from './errors.js';
import { writeFileAtomic } from './fsutil.js';
import type { LessonResult } from './checks/runner.js';
import type { TaskReporter } from './engine/index.js';
import { formatClock } from './workshop-rules.js';

export { formatClock };

/**
 * Exam mode: N lessons picked at random — deterministically from a seed — under one time limit,
 * with no hints, no solutions and no checks until a lesson is handed in.
 *
 * The lab runs one insecure scenario at a time (several lessons edit the same API server), so an
 * exam's lessons come one after another: `next` hands in the current lesson — its checks run then,
 * the results stay hidden until the end — and sets up the next from its insecure start; `submit`
 * hands in the current one and ends the exam. At the time limit the current lesson is graded as it
 * stands and the ones not reached score 0.
 *
 * Every step is written to a state file before and after it runs, so the CLI can drive an exam
 * across several invocations, a crash loses nothing, and the next command finishes what a killed
 * one started (a timed-out exam is graded then).
 */

export const EXAM_VERSION = 1;
export const DEFAULT_EXAM_COUNT = 3;
export const DEFAULT_LESSON_MINUTES = 20;

// ---------------------------------------------------------------------------------------------
// Seeded selection

/** FNV-1a: a seed string (any text, or a number) to 32 bits. */
export function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, fast PRNG; the same seed always gives the same sequence in [0, 1). */
export function seededRandom(seed: string): () => number {
  let a = hashSeed(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` of the `available` lesson ids, in exam order: a Fisher–Yates shuffle driven by the seed.
 * Same seed and same available lessons → same exam.
 */
export function pickExamLessons(available: readonly string[], count: number, seed: string): string[] {
  if (!Number.isInteger(count) || count < 1)
    throw new UserError(`--count must be a whole number of lessons, at least 1 (got ${count})`, 'for example `kube-seclab exam --count 3`');
  if (available.length === 0)
    throw new UserError('no lesson this engine can run is available for an exam', '`kube-seclab list` shows the lessons and which need kind');
  if (count > available.length) {
    throw new UserError(
      `an exam of ${count} lessons needs ${count} lessons this engine can run; there ${available.length === 1 ? 'is 1' : `are ${available.length}`}`,
      `use --count ${available.length} or fewer`,
    );
  }
  const ids = [...available];
  const rnd = seededRandom(seed);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids.slice(0, count);
}

// ---------------------------------------------------------------------------------------------
// State and results

const checkOutcome = z.object({ id: z.string(), title: z.string(), passed: z.boolean(), status: z.string(), message: z.string() });
const lessonOutcome = z.object({
  id: z.string(),
  title: z.string(),
  /** passed / failed: graded; not-reached: the exam ended before it. */
  status: z.enum(['passed', 'failed', 'not-reached']),
  handedInAt: z.string().optional(),
  checks: z.array(checkOutcome),
});
export type ExamLessonOutcome = z.infer<typeof lessonOutcome>;

const stateSchema = z.object({
  version: z.literal(EXAM_VERSION),
  id: z.string(),
  seed: z.string(),
  minutes: z.number(),
  lessons: z.array(z.object({ id: z.string(), title: z.string() })),
  workshop: z.string().optional(),
  engine: z.string(),
  createdAt: z.string(),
  /** When the clock started (after the first lesson was set up). */
  startedAt: z.string().optional(),
  /** Start + minutes + the time spent setting up later lessons (the clock does not run during set-ups). */
  deadline: z.string().optional(),
  /** Index of the lesson being worked on. */
  index: z.number().int(),
  /**
   * preparing: setting up lessons[index]; running: the learner works; grading: lessons[index]'s
   * checks run (then: the next lesson, or the end); finishing: writing the result and resetting.
   */
  phase: z.enum(['preparing', 'running', 'grading', 'finishing', 'finished']),
  /** Why grading happens: the learner moved on, submitted, or the time ran out. */
  ending: z.enum(['next', 'submit', 'timeout']).optional(),
  outcomes: z.array(lessonOutcome),
  finishedAt: z.string().optional(),
  resultFile: z.string().optional(),
});
export type ExamState = z.infer<typeof stateSchema>;

/** The exported result: `exams/<timestamp>.json` under the lab's data folder (shape documented in the README). */
export interface ExamResult {
  version: typeof EXAM_VERSION;
  id: string;
  seed: string;
  engine: string;
  workshop: string | null;
  minutes: number;
  startedAt: string;
  deadline: string;
  finishedAt: string;
  endedBy: 'submit' | 'timeout';
  score: { passed: number; total: number; percent: number };
  lessons: ExamLessonOutcome[];
}

export interface ExamStore {
  load(): Promise<ExamState | undefined>;
  save(s: ExamState): Promise<void>;
  /** Write the result for export; returns where. */
  writeResult(r: ExamResult): Promise<string>;
}

/** exam.json (the exam in progress, or the last one) and exams/<timestamp>.json (results). */
export function fileExamStore(dataDir: string): ExamStore & { path: string } {
  const path = join(dataDir, 'exam.json');
  return {
    path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      let parsed;
      try {
        parsed = stateSchema.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) return parsed.data;
      const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(path, aside).catch(() => {});
      throw new UserError(`the exam state file was unreadable; kept it as ${aside}`, '`kube-seclab exam start` starts a new exam');
    },
    async save(s) {
      await writeFileAtomic(path, JSON.stringify(s, null, 2) + '\n');
    },
    async writeResult(r) {
      const file = join(dataDir, 'exams', `${r.id}.json`);
      await writeFileAtomic(file, JSON.stringify(r, null, 2) + '\n');
      return file;
    },
  };
}

/** An in-memory store (tests, and a TUI driven by a fake lab). */
export function memoryExamStore(): ExamStore & { results: Map<string, ExamResult> } {
  let saved: string | undefined;
  const results = new Map<string, ExamResult>();
  return {
    results,
    async load() {
      return saved ? stateSchema.parse(JSON.parse(saved)) : undefined;
    },
    async save(s) {
      saved = JSON.stringify(s);
    },
    async writeResult(r) {
      const f = `/memory/exams/${r.id}.json`;
      results.set(f, structuredClone(r));
      return f;
    },
  };
}

export const isActive = (s: ExamState | undefined): s is ExamState => !!s && s.phase !== 'finished';

export function remainingMs(s: ExamState, now: number): number {
  return s.deadline ? new Date(s.deadline).getTime() - now : s.minutes * 60_000;
}

export function examResult(s: ExamState): ExamResult {
  const passed = s.outcomes.filter((o) => o.status === 'passed').length;
  const total = s.lessons.length;
  return {
    version: EXAM_VERSION,
    id: s.id,
    seed: s.seed,
    engine: s.engine,
    workshop: s.workshop ?? null,
    minutes: s.minutes,
    startedAt: s.startedAt ?? s.createdAt,
    deadline: s.deadline ?? s.createdAt,
    finishedAt: s.finishedAt ?? s.createdAt,
    endedBy: s.ending === 'timeout' ? 'timeout' : 'submit',
    score: { passed, total, percent: total ? Math.round((passed / total) * 100) : 0 },
    lessons: s.outcomes,
  };
}

// ---------------------------------------------------------------------------------------------
// The runner

/** What the exam needs of the Lab (the real Lab satisfies it; tests hand in a fake). */
export interface ExamPort {
  catalogue: { get(id: string): { id: string; title: string; minutes?: number } | undefined };
  engineName: string;
  workshop?: { title: string };
  list(): Promise<{ id: string; status: string }[]>;
  start(id: string, reporter: TaskReporter): Promise<unknown>;
  reset(id: string, reporter: TaskReporter): Promise<void>;
  check(id: string, opts: { record?: boolean }): Promise<LessonResult>;
}

export interface ExamOptions {
  count?: number;
  minutes?: number;
  seed?: string;
}
/** --count / --minutes / --seed as typed on the command line. */
export function parseExamOptions(o: { count?: string; minutes?: string; seed?: string }): ExamOptions {
  const num = (flag: string, v: string | undefined, int: boolean): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) {
      throw new UserError(
        `--${flag} must be a positive ${int ? 'whole ' : ''}number (got ${JSON.stringify(v)})`,
        `for example \`kube-seclab exam --${flag} ${int ? 3 : 45}\``,
      );
    }
    return n;
  };
  return { count: num('count', o.count, true), minutes: num('minutes', o.minutes, false), seed: o.seed };
}

export interface ExamPlan {
  seed: string;
  minutes: number;
  lessons: { id: string; title: string }[];
}

const silent: TaskReporter = { info() {}, task: (_t, fn) => fn(() => {}) };

export class ExamRunner {
  private readonly now: () => number;
  constructor(
    readonly lab: ExamPort,
    readonly store: ExamStore,
    opts: { now?: () => number; randomSeed?: () => string } = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.randomSeed = opts.randomSeed ?? (() => String(Math.floor(Math.random() * 1_000_000)));
  }
  private readonly randomSeed: () => string;

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  load(): Promise<ExamState | undefined> {
    return this.store.load();
  }

  remaining(s: ExamState): number {
    return remainingMs(s, this.now());
  }

  /** Which lessons an exam with these options has: the lessons this engine can run, drawn by the seed. */
  async plan(o: ExamOptions = {}): Promise<ExamPlan> {
    if (o.minutes !== undefined && (!Number.isFinite(o.minutes) || o.minutes <= 0))
      throw new UserError(`--minutes must be a positive number (got ${o.minutes})`, 'for example `kube-seclab exam --minutes 45`');
    const seed = o.seed?.trim() || this.randomSeed();
    const available = (await this.lab.list()).filter((l) => l.status !== 'unavailable').map((l) => l.id);
    const count = o.count ?? Math.min(DEFAULT_EXAM_COUNT, available.length);
    const ids = pickExamLessons(available, count, seed);
    const lessons = ids.map((id) => ({ id, title: this.lab.catalogue.get(id)?.title ?? id }));
    const minutes = o.minutes ?? ids.reduce((n, id) => n + (this.lab.catalogue.get(id)?.minutes ?? DEFAULT_LESSON_MINUTES), 0);
    return { seed, minutes, lessons };
  }

  /** Start an exam: refuse while one runs; set up its first lesson from scratch, then start the clock. */
  async begin(o: ExamOptions = {}, reporter: TaskReporter = silent): Promise<ExamState> {
    const cur = await this.settle(reporter);
    if (isActive(cur)) {
      throw new UserError(
        `an exam is already running (lesson ${cur.index + 1}/${cur.lessons.length}, ${formatClock(this.remaining(cur))} left)`,
        '`kube-seclab exam status` shows it; `kube-seclab exam submit` hands it in',
      );
    }
    const plan = await this.plan(o);
    const id = this.iso().replace(/[:.]/g, '-');
    const s: ExamState = {
      version: EXAM_VERSION,
      id,
      seed: plan.seed,
      minutes: plan.minutes,
      lessons: plan.lessons,
      workshop: this.lab.workshop?.title,
      engine: this.lab.engineName,
      createdAt: this.iso(),
      index: 0,
      phase: 'preparing',
      outcomes: [],
    };
    await this.store.save(s);
    return this.advance(s, reporter);
  }

  /**
   * Finish whatever a previous command started (a crash mid-step), and grade an exam whose time is
   * up. Returns the exam as it now stands (finished, running, or none).
   */
  async settle(reporter: TaskReporter = silent): Promise<ExamState | undefined> {
    this.justFinished = false;
    const s = await this.store.load();
    if (!isActive(s)) return s;
    if (s.phase === 'running' && this.remaining(s) > 0) return s;
    if (s.phase === 'running') {
      s.phase = 'grading';
      s.ending = 'timeout';
      await this.store.save(s);
    }
    const after = await this.advance(s, reporter);
    this.justFinished = after.phase === 'finished';
    return after;
  }

  /** Whether the last settle() finished the exam (its time was up, or a crashed hand-in completed). */
  justFinished = false;

  /** Hand in the current lesson and set up the next one. */
  async next(reporter: TaskReporter = silent): Promise<ExamState> {
    const s = await this.running(reporter);
    if (s.phase !== 'running') return s; // the time ran out: graded and finished
    if (s.index + 1 >= s.lessons.length)
      throw new UserError(`this is the exam's last lesson (${s.index + 1}/${s.lessons.length})`, '`kube-seclab exam submit` hands it in and ends the exam');
    s.phase = 'grading';
    s.ending = 'next';
    await this.store.save(s);
    return this.advance(s, reporter);
  }

  /** Hand in the current lesson and end the exam: every lesson not reached scores 0. */
  async submit(reporter: TaskReporter = silent): Promise<ExamState> {
    const s = await this.running(reporter);
    if (s.phase !== 'running') return s;
    s.phase = 'grading';
    s.ending = 'submit';
    await this.store.save(s);
    return this.advance(s, reporter);
  }

  /** Put the current lesson back to its insecure start (the clock keeps running). */
  async resetCurrent(reporter: TaskReporter = silent): Promise<ExamState> {
    const s = await this.running(reporter);
    if (s.phase !== 'running') return s;
    await this.lab.reset(s.lessons[s.index].id, reporter);
    return s;
  }

  private async running(reporter: TaskReporter): Promise<ExamState> {
    const s = await this.settle(reporter);
    if (!s) throw new UserError('no exam is running', 'start one: `kube-seclab exam start --count 3 --minutes 45`');
    if (s.phase === 'finished' && !this.justFinished)
      throw new UserError(
        'no exam is running (the last one is handed in)',
        '`kube-seclab exam status` shows its result; `kube-seclab exam start` starts a new one',
      );
    return s;
  }

  /** Run the state machine from the saved phase until the learner's turn (running) or the end (finished). */
  private async advance(s: ExamState, reporter: TaskReporter): Promise<ExamState> {
    for (;;) {
      switch (s.phase) {
        case 'preparing': {
          const l = s.lessons[s.index];
          const t0 = this.now();
          await this.lab.start(l.id, reporter);
          if (!s.startedAt) {
            s.startedAt = this.iso();
            s.deadline = new Date(this.now() + s.minutes * 60_000).toISOString();
          } else if (s.deadline) {
            // The clock does not run while a lesson is set up.
            s.deadline = new Date(new Date(s.deadline).getTime() + Math.max(0, this.now() - t0)).toISOString();
          }
          s.phase = 'running';
          s.ending = undefined;
          await this.store.save(s);
          return s;
        }
        case 'running':
          return s;
        case 'grading': {
          const l = s.lessons[s.index];
          if (!s.outcomes.some((o) => o.id === l.id)) {
            const r = await reporter.task(`Hand in ${l.id}: run its checks`, () => this.lab.check(l.id, { record: false }));
            if (r.unreachable) {
              throw new UserError(
                `the cluster is unreachable, so ${l.id} cannot be graded yet (the exam is kept as it is)`,
                'bring the cluster back with `kube-seclab up`, then `kube-seclab exam status` grades it',
              );
            }
            s.outcomes.push({
              id: l.id,
              title: l.title,
              status: r.passed ? 'passed' : 'failed',
              handedInAt: this.iso(),
              checks: r.checks.map((c) => ({ id: c.id, title: c.title, passed: c.passed, status: c.status, message: c.message })),
            });
          }
          if (s.ending === 'next' && s.index + 1 < s.lessons.length) {
            s.index += 1;
            s.phase = 'preparing';
          } else {
            for (const x of s.lessons.slice(s.index + 1))
              if (!s.outcomes.some((o) => o.id === x.id)) s.outcomes.push({ id: x.id, title: x.title, status: 'not-reached', checks: [] });
            s.phase = 'finishing';
            s.finishedAt = this.iso();
          }
          await this.store.save(s);
          break;
        }
        case 'finishing': {
          s.resultFile = await this.store.writeResult(examResult(s));
          await this.store.save(s);
          // The learner's exam answer does not stay on the cluster: the last lesson goes back to its insecure start.
          const l = s.lessons[s.index];
          await this.lab.reset(l.id, reporter);
          s.phase = 'finished';
          await this.store.save(s);
          return s;
        }
        case 'finished':
          return s;
      }
    }
  }
}
