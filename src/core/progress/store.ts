import { readFile, rename } from 'node:fs/promises';
import { writeFileAtomic } from '../fsutil.js';

export const PROGRESS_VERSION = 1;

export interface LessonProgress {
  status: 'started' | 'done';
  startedAt: string;
  completedAt?: string;
  attempts: number;
  hintsUsed: number;
  solutionViewed: boolean;
  /** Active time: gaps between actions count up to five minutes each. */
  timeSpentMs: number;
  lastActivity: string;
  /** The lab id of the cluster the scenario was set up on (a new cluster needs a new set-up). */
  clusterId?: string;
  lastCheck?: LastCheck;
  /** The lesson's attack, last seen working and last seen failing (the debrief compares them). */
  attack?: { succeeded?: AttackRecord; failed?: AttackRecord };
}

/** One run of a lesson's attack, in a line (secret values already redacted). */
export interface AttackRecord { at: string; summary: string }

/** One check's outcome in the last recorded run (status as the runner reports it). */
export interface CheckRecord {
  id: string;
  status: 'passed' | 'failed' | 'unreachable' | 'skipped' | 'error';
  message: string;
}

/**
 * The last recorded check run of a lesson. `failed` (ids) is what version-1 files always had and is
 * still written; `checks` (every check's status and message) was added later and is optional, so
 * older files load unchanged — they just have no per-check messages.
 */
export interface LastCheck {
  at: string;
  passed: boolean;
  failed: string[];
  checks?: CheckRecord[];
}

/** Messages are kept short: the progress file is copied around and exported. */
const MAX_MESSAGE = 500;

/** The record of a check run, as kept in the progress file. */
export function lastCheckRecord(result: { passed: boolean; checks: { id: string; status: CheckRecord['status']; message: string }[] }, at = new Date()): LastCheck {
  return {
    at: at.toISOString(),
    passed: result.passed,
    failed: result.checks.filter((c) => c.status === 'failed').map((c) => c.id),
    checks: result.checks.map((c) => ({ id: c.id, status: c.status, message: c.message.length > MAX_MESSAGE ? c.message.slice(0, MAX_MESSAGE - 1) + '…' : c.message })),
  };
}

export interface ProgressData {
  version: typeof PROGRESS_VERSION;
  learner?: { name?: string; id?: string };
  current?: string;
  lessons: Record<string, LessonProgress>;
}

const MAX_GAP_MS = 5 * 60_000;

function fresh(): ProgressData { return { version: PROGRESS_VERSION, lessons: {} }; }

function valid(d: unknown): d is ProgressData {
  const x = d as ProgressData;
  return !!x && typeof x === 'object' && x.version === PROGRESS_VERSION && typeof x.lessons === 'object' && x.lessons !== null;
}

/**
 * The learner's progress: one versioned JSON file, written atomically. A corrupt or unknown file is
 * moved aside (progress.json.corrupt-<time>) and a fresh one started, with a warning — nothing lost.
 * Every update re-reads the file first, so the TUI and a CLI in another terminal do not clobber each other.
 */
export class ProgressStore {
  warnings: string[] = [];
  constructor(readonly path: string) {}

  async load(): Promise<ProgressData> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fresh();
      throw e;
    }
    try {
      const d = JSON.parse(text);
      if (valid(d)) return d;
      throw new Error(`unknown format (version ${JSON.stringify((d as { version?: unknown })?.version)})`);
    } catch (e) {
      const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.path, aside).catch(() => {});
      const w = `progress file was unreadable (${(e as Error).message.split('\n')[0]}); kept it as ${aside} and started fresh`;
      if (!this.warnings.includes(w)) this.warnings.push(w);
      return fresh();
    }
  }

  async update(fn: (d: ProgressData) => void): Promise<ProgressData> {
    const d = await this.load();
    fn(d);
    await writeFileAtomic(this.path, JSON.stringify(d, null, 2) + '\n');
    return d;
  }

  /** Record activity on a lesson (creating its entry) and return it for further changes. */
  static touch(d: ProgressData, id: string, now = new Date()): LessonProgress {
    const iso = now.toISOString();
    let p = d.lessons[id];
    if (!p) {
      p = d.lessons[id] = { status: 'started', startedAt: iso, attempts: 0, hintsUsed: 0, solutionViewed: false, timeSpentMs: 0, lastActivity: iso };
    } else {
      const gap = now.getTime() - new Date(p.lastActivity).getTime();
      if (p.status !== 'done' && gap > 0) p.timeSpentMs += Math.min(gap, MAX_GAP_MS);
      p.lastActivity = iso;
    }
    return p;
  }
}
