import { readFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../fsutil.js';
import { UserError } from '../errors.js';

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
export interface AttackRecord {
  at: string;
  summary: string;
}

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
export function lastCheckRecord(
  result: { passed: boolean; checks: { id: string; status: CheckRecord['status']; message: string }[] },
  at = new Date(),
): LastCheck {
  return {
    at: at.toISOString(),
    passed: result.passed,
    failed: result.checks.filter((c) => c.status === 'failed').map((c) => c.id),
    checks: result.checks.map((c) => ({
      id: c.id,
      status: c.status,
      message: c.message.length > MAX_MESSAGE ? c.message.slice(0, MAX_MESSAGE - 1) + '…' : c.message,
    })),
  };
}

export interface ProgressData {
  version: typeof PROGRESS_VERSION;
  learner?: { name?: string; id?: string };
  current?: string;
  lessons: Record<string, LessonProgress>;
}

const MAX_GAP_MS = 5 * 60_000;

function fresh(): ProgressData {
  return { version: PROGRESS_VERSION, lessons: {} };
}

const iso = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'not a date');
const count = z.number().int().min(0);
const checkStatus = z.enum(['passed', 'failed', 'unreachable', 'skipped', 'error']);
const attackRecord = z.object({ at: iso, summary: z.string() });

/**
 * What a progress file must hold, field by field: a file with the right JSON but wrong types (a
 * status of 42, attempts "many") is as unreadable as broken JSON. Unknown fields (a newer lab's) are kept.
 */
export const progressSchema = z
  .object({
    version: z.literal(PROGRESS_VERSION),
    learner: z.object({ name: z.string().optional(), id: z.string().optional() }).passthrough().optional(),
    current: z.string().optional(),
    lessons: z.record(
      z.string(),
      z
        .object({
          status: z.enum(['started', 'done']),
          startedAt: iso,
          completedAt: iso.optional(),
          attempts: count,
          hintsUsed: count,
          solutionViewed: z.boolean(),
          timeSpentMs: z.number().min(0),
          lastActivity: iso,
          clusterId: z.string().optional(),
          lastCheck: z
            .object({
              at: iso,
              passed: z.boolean(),
              failed: z.array(z.string()),
              checks: z.array(z.object({ id: z.string(), status: checkStatus, message: z.string() }).passthrough()).optional(),
            })
            .passthrough()
            .optional(),
          attack: z.object({ succeeded: attackRecord.optional(), failed: attackRecord.optional() }).passthrough().optional(),
        })
        .passthrough(),
    ),
  })
  .passthrough();

/** Why a parsed progress file cannot be used, in one line ("lessons.rbac.attempts: expected number"), or undefined. */
function invalid(d: unknown): string | undefined {
  const version = (d as { version?: unknown })?.version;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return 'not a JSON object';
  if (version !== PROGRESS_VERSION) return `unknown format (version ${JSON.stringify(version)})`;
  const r = progressSchema.safeParse(d);
  if (r.success) return undefined;
  const is = r.error.issues[0];
  return `${is.path.join('.') || 'the file'}: ${is.message}`;
}

/**
 * The learner's progress: one versioned JSON file, written atomically. A corrupt or unknown file is
 * moved aside (progress.json.corrupt-<time>) and a fresh one started, with a warning — nothing lost.
 * Every update re-reads the file first, so the TUI and a CLI in another terminal do not clobber each other.
 */
export class ProgressStore {
  warnings: string[] = [];
  /** Set when the file could not be read nor moved aside: updates are refused, so nothing is overwritten. */
  private blocked?: string;
  constructor(readonly path: string) {}

  async load(): Promise<ProgressData> {
    let why: string;
    try {
      const d = JSON.parse(await readFile(this.path, 'utf8'));
      const bad = invalid(d);
      if (!bad) return d as ProgressData;
      why = bad;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return fresh();
      why = code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' || code === 'EPERM' ? 'no permission to read it' : (e as Error).message.split('\n')[0];
    }
    // Nothing is lost: the unusable file is kept beside, under a name that says when.
    const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const kept = await this.moveAside(this.path, aside).then(
      () => `kept it as ${aside}`,
      (e) => {
        this.blocked = `${this.path} is unreadable (${why}) and could not be moved aside (${(e as NodeJS.ErrnoException).code ?? e})`;
        return 'could not move it aside, so progress is not saved until it is fixed';
      },
    );
    const w = `progress file was unreadable (${why}); ${kept} and started fresh`;
    if (!this.warnings.includes(w)) this.warnings.push(w);
    return fresh();
  }

  /** Keep an unusable file beside the fresh one (a rename, so it is kept byte for byte). */
  protected moveAside(from: string, to: string): Promise<void> {
    return rename(from, to);
  }

  async update(fn: (d: ProgressData) => void): Promise<ProgressData> {
    const d = await this.load();
    // Never write over a file that could not be read nor kept aside.
    if (this.blocked) throw new UserError(this.blocked, `fix or remove it (e.g. \`chmod u+rw ${this.path}\`), then try again`);
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
