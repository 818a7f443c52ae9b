import { readFile } from 'node:fs/promises';
import { LAYERS } from '../lessons/schema.js';
import { EXPORT_FORMAT, EXPORT_VERSION, progressExportSchema, type ProgressExport, type ExportedLesson } from './export.js';

/** One usable export and the file it came from. */
export interface LoadedExport {
  file: string;
  data: ProgressExport;
}
/** A file that could not be used, and why (one line). */
export interface InputProblem {
  file: string;
  message: string;
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

/** Validate an export's text; throws an Error whose message is one line saying what is wrong. */
export function parseExport(text: string): ProgressExport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${firstLine((e as Error).message)})`, { cause: e });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a kube-seclab progress export (expected a JSON object)');
  const r = raw as Record<string, unknown>;
  if (r.format !== EXPORT_FORMAT) {
    const hint = 'lessons' in r && 'version' in r && !('format' in r) ? ' — this looks like a progress.json; export it with `kube-seclab progress export`' : '';
    throw new Error(`not a kube-seclab progress export (format ${JSON.stringify(r.format ?? null)}, expected "${EXPORT_FORMAT}")${hint}`);
  }
  if (r.version !== EXPORT_VERSION)
    throw new Error(`export version ${JSON.stringify(r.version ?? null)} is not supported (this kube-seclab reads version ${EXPORT_VERSION})`);
  const res = progressExportSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0];
    const path = issue.path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
    const more = res.error.issues.length > 1 ? ` (and ${res.error.issues.length - 1} more problem${res.error.issues.length > 2 ? 's' : ''})` : '';
    throw new Error(`invalid export: ${path || '(top level)'}: ${issue.message}${more}`);
  }
  return res.data;
}

/** Read every file; the usable ones in argument order, a one-line problem for each of the others. */
export async function readExports(files: string[]): Promise<{ exports: LoadedExport[]; problems: InputProblem[] }> {
  const results = await Promise.all(
    files.map(async (file): Promise<LoadedExport | InputProblem> => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const message =
          code === 'ENOENT'
            ? 'no such file'
            : code === 'EISDIR'
              ? 'is a directory, not an export file'
              : code === 'EACCES'
                ? 'permission denied'
                : firstLine((e as Error).message);
        return { file, message };
      }
      try {
        return { file, data: parseExport(text) };
      } catch (e) {
        return { file, message: (e as Error).message };
      }
    }),
  );
  return {
    exports: results.filter((r): r is LoadedExport => 'data' in r),
    problems: results.filter((r): r is InputProblem => !('data' in r)),
  };
}

/** How a learner is recognised across exports: their id when they have one, else their name. */
export function learnerKey(l: ProgressExport['learner']): string {
  return l.id ? `id:${l.id}` : `name:${l.name.trim().toLowerCase()}`;
}

export function learnerLabel(l: ProgressExport['learner']): string {
  return l.id ? `${l.name} (${l.id})` : l.name;
}

/**
 * One export per learner: when the same learner comes twice, the later export (by exportedAt; on a
 * tie, the one named later) wins, with a note saying which file was ignored.
 */
export function mergeExports(items: LoadedExport[]): { learners: LoadedExport[]; notes: string[] } {
  const byKey = new Map<string, LoadedExport>();
  const notes: string[] = [];
  for (const item of items) {
    const key = learnerKey(item.data.learner);
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, item);
      continue;
    }
    const later = Date.parse(item.data.exportedAt) >= Date.parse(prev.data.exportedAt);
    const [kept, dropped] = later ? [item, prev] : [prev, item];
    byKey.set(key, kept);
    notes.push(
      `learner ${learnerLabel(item.data.learner)} appears twice: using ${kept.file} (exported ${kept.data.exportedAt}), ignoring ${dropped.file} (exported ${dropped.data.exportedAt})`,
    );
  }
  return { learners: [...byKey.values()], notes };
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface LessonStats {
  id: string;
  layer: string;
  title: string;
  /** Learners in the report. */
  learners: number;
  started: number;
  done: number;
  /** done / learners (0..1). */
  completion: number;
  /** Started but not done: where learners are stuck. */
  stuck: number;
  /** Medians over the learners who started the lesson (null when nobody did). */
  medianAttempts: number | null;
  medianHints: number | null;
  meanHints: number | null;
  medianTimeMs: number | null;
  maxTimeMs: number | null;
  totalHints: number;
  solutionsViewed: number;
  /** The checks that failed most often in learners' last runs, most frequent first. */
  failingChecks: { id: string; learners: number }[];
}

export type CellStatus = ExportedLesson['status'];

export interface LearnerRow {
  name: string;
  id?: string;
  file: string;
  exportedAt: string;
  labVersion: string;
  engine: string;
  done: number;
  started: number;
  total: number;
  attempts: number;
  hintsUsed: number;
  solutionsViewed: number;
  timeSpentMs: number;
  /** Status per lesson id of the report (a lesson missing from this learner's export is not-started). */
  lessons: Record<string, CellStatus>;
}

export interface ClassReport {
  generatedAt: string;
  learners: LearnerRow[];
  lessons: LessonStats[];
  notes: string[];
  problems: InputProblem[];
}

/** Every lesson of any export, by layer, then in the order the exports list them. */
function lessonUnion(exports: ProgressExport[]): { id: string; layer: string; title: string }[] {
  const seen = new Map<string, { id: string; layer: string; title: string; order: number }>();
  for (const e of exports) for (const l of e.lessons) if (!seen.has(l.id)) seen.set(l.id, { id: l.id, layer: l.layer, title: l.title, order: seen.size });
  const rank = (layer: string) => {
    const i = (LAYERS as readonly string[]).indexOf(layer);
    return i < 0 ? LAYERS.length : i;
  };
  return [...seen.values()].sort((a, b) => rank(a.layer) - rank(b.layer) || a.order - b.order).map(({ id, layer, title }) => ({ id, layer, title }));
}

/** The class's figures from already merged exports (one per learner). */
export function summarize(learners: LoadedExport[], extra: { notes?: string[]; problems?: InputProblem[]; now?: Date } = {}): ClassReport {
  const lessons = lessonUnion(learners.map((l) => l.data));
  const n = learners.length;
  const lessonStats: LessonStats[] = lessons.map((meta) => {
    const entries = learners.map((x) => x.data.lessons.find((l) => l.id === meta.id)).filter((l): l is ExportedLesson => !!l && l.status !== 'not-started');
    const failing = new Map<string, number>();
    for (const e of entries) {
      if (e.done || !e.lastCheck) continue;
      for (const c of e.lastCheck.checks) if (!c.passed && c.status !== 'skipped') failing.set(c.id, (failing.get(c.id) ?? 0) + 1);
    }
    const done = entries.filter((e) => e.done).length;
    const times = entries.map((e) => e.timeSpentMs);
    return {
      ...meta,
      learners: n,
      started: entries.length,
      done,
      completion: n ? done / n : 0,
      stuck: entries.length - done,
      medianAttempts: median(entries.map((e) => e.attempts)),
      medianHints: median(entries.map((e) => e.hintsUsed)),
      meanHints: entries.length ? entries.reduce((a, e) => a + e.hintsUsed, 0) / entries.length : null,
      medianTimeMs: median(times),
      maxTimeMs: times.length ? Math.max(...times) : null,
      totalHints: entries.reduce((a, e) => a + e.hintsUsed, 0),
      solutionsViewed: entries.filter((e) => e.solutionViewed).length,
      failingChecks: [...failing].map(([id, k]) => ({ id, learners: k })).sort((a, b) => b.learners - a.learners || a.id.localeCompare(b.id)),
    };
  });
  const rows: LearnerRow[] = learners
    .map(({ file, data }) => {
      const byId = new Map(data.lessons.map((l) => [l.id, l]));
      const cells: Record<string, CellStatus> = {};
      for (const l of lessons) cells[l.id] = byId.get(l.id)?.status ?? 'not-started';
      const own = data.lessons;
      return {
        name: data.learner.name,
        ...(data.learner.id ? { id: data.learner.id } : {}),
        file,
        exportedAt: data.exportedAt,
        labVersion: data.labVersion,
        engine: data.engine,
        done: own.filter((l) => l.done).length,
        started: own.filter((l) => l.status !== 'not-started').length,
        total: lessons.length,
        attempts: own.reduce((a, l) => a + l.attempts, 0),
        hintsUsed: own.reduce((a, l) => a + l.hintsUsed, 0),
        solutionsViewed: own.filter((l) => l.solutionViewed).length,
        timeSpentMs: own.reduce((a, l) => a + l.timeSpentMs, 0),
        lessons: cells,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || (a.id ?? '').localeCompare(b.id ?? ''));
  return {
    generatedAt: (extra.now ?? new Date()).toISOString(),
    learners: rows,
    lessons: lessonStats,
    notes: extra.notes ?? [],
    problems: extra.problems ?? [],
  };
}

/** Read, merge and summarize: what `kube-seclab class report` does before it prints. */
export async function classReport(files: string[], now?: Date): Promise<ClassReport> {
  const { exports, problems } = await readExports(files);
  const { learners, notes } = mergeExports(exports);
  return summarize(learners, { notes, problems, now });
}

/** "42 s", "3 min", "1 h 05 min". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

const fmtNum = (x: number | null) => (x === null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(1));

/** Terminal characters a learner-provided string must not bring into a report line. */
export function plain(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
}

/** The terminal summary: per lesson, then one line per learner (no colours; the CLI adds them). */
export function formatReportText(r: ClassReport): string[] {
  const out: string[] = [];
  const N = r.learners.length;
  out.push(`${N} learner${N === 1 ? '' : 's'}, ${r.lessons.length} lessons`);
  out.push('');
  const w = Math.max(6, ...r.lessons.map((l) => plain(l.id).length));
  out.push(`${'lesson'.padEnd(w)}  ${'done'.padStart(7)}  ${'attempts'.padStart(8)}  ${'hints'.padStart(5)}  ${'time'.padStart(10)}  stuck on`);
  out.push(`${''.padEnd(w)}  ${'n/N'.padStart(7)}  ${'median'.padStart(8)}  ${'total'.padStart(5)}  ${'median'.padStart(10)}`);
  for (const l of r.lessons) {
    const stuck = l.failingChecks
      .slice(0, 2)
      .map((c) => `${plain(c.id)} (${c.learners})`)
      .join(', ');
    out.push(
      `${plain(l.id).padEnd(w)}  ${`${l.done}/${l.learners}`.padStart(7)}  ${fmtNum(l.medianAttempts).padStart(8)}  ${String(l.totalHints).padStart(5)}  ${formatDuration(l.medianTimeMs).padStart(10)}  ${stuck}`,
    );
  }
  out.push('');
  const nw = Math.max(7, ...r.learners.map((x) => plain(learnerLabel(x)).length));
  for (const x of r.learners) {
    out.push(
      `${plain(learnerLabel(x)).padEnd(nw)}  ${`${x.done}/${x.total} done`.padEnd(10)}  ${x.attempts} attempts, ${x.hintsUsed} hints, ${x.solutionsViewed} solutions viewed, ${formatDuration(x.timeSpentMs)}`,
    );
  }
  return out;
}
