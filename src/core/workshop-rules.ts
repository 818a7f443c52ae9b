import { UserError } from './errors.js';

/**
 * The workshop's rules and time boxes, and the exam clock: plain functions over plain data, with no
 * parser behind them, so the TUI can use them without loading the YAML and schema modules.
 */

/** Where a rule comes from ("workshop.yaml:3"), for the one-line refusal that names it. */
export interface WorkshopRule {
  allowed: boolean;
  where: string;
  field: string;
}

export interface WorkshopLesson {
  id: string;
  /** Soft time box in minutes. */
  minutes?: number;
  hints: WorkshopRule;
  solutions: WorkshopRule;
}

export interface Workshop {
  /** The path as given (--workshop or KUBE_SECLAB_WORKSHOP). */
  file: string;
  title: string;
  description?: string;
  lessons: WorkshopLesson[];
}

export type Aid = 'hints' | 'solutions';

/** Whether the workshop allows hints (or solutions) on a lesson; no workshop: always. */
export function aidAllowed(w: Workshop | undefined, id: string, aid: Aid): boolean {
  const l = w?.lessons.find((x) => x.id === id);
  return !l || l[aid].allowed;
}

/** The one-line refusal, naming the rule: `hints are off for X in workshop "T" (workshop.yaml:3: hints: false)`. */
export function aidRefusal(w: Workshop, id: string, aid: Aid): UserError {
  const r = w.lessons.find((x) => x.id === id)![aid];
  return new UserError(
    `${aid} are off for ${id} in workshop "${w.title}" (${r.where}: ${r.field}: false)`,
    aid === 'hints'
      ? 'work from the lesson text and the ✗ lines of `kube-seclab check`; ask your instructor'
      : 'the checks (`kube-seclab check`) say what is still wrong; ask your instructor',
  );
}

export interface TimeBox {
  limitMs: number;
  elapsedMs: number;
  remainingMs: number;
  over: boolean;
}

/** The soft time box of a lesson: remaining (negative when over). */
export function timeBox(minutes: number, elapsedMs: number): TimeBox {
  const limitMs = minutes * 60_000;
  return { limitMs, elapsedMs, remainingMs: limitMs - elapsedMs, over: elapsedMs > limitMs };
}

/**
 * Time spent on a lesson from its progress entry, up to `now`: the active time recorded so far plus
 * the gap since the last action (counted up to five minutes, as the progress store counts it).
 */
export function elapsedFromProgress(p: { timeSpentMs: number; lastActivity: string; status: string } | undefined, now: number): number {
  if (!p) return 0;
  if (p.status === 'done') return p.timeSpentMs;
  const gap = now - new Date(p.lastActivity).getTime();
  return p.timeSpentMs + (Number.isFinite(gap) && gap > 0 ? Math.min(gap, 5 * 60_000) : 0);
}

/** "12 min left of 15" / "over time by 3 min (time box 15 min)" — a soft limit, never a block. */
export function timeBoxLabel(t: TimeBox): string {
  const minutes = Math.floor(Math.abs(t.remainingMs) / 60_000);
  if (t.over) return `over time by ${Math.max(1, minutes)} min (time box ${t.limitMs / 60_000} min)`;
  return minutes >= 1 ? `${minutes} min left of ${t.limitMs / 60_000}` : `under a minute left of ${t.limitMs / 60_000}`;
}

/** "12:05" (or "1:02:05"); 0:00 once the time is up. */
export function formatClock(ms: number): string {
  const t = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(t / 3600),
    m = Math.floor((t % 3600) / 60),
    s = t % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}
