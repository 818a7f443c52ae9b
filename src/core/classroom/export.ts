import { userInfo } from 'node:os';
import { z } from 'zod';
import { LAYERS, LAYER_TITLES, type Layer } from '../lessons/schema.js';
import type { ProgressData, LessonProgress } from '../progress/store.js';
import { xmlAttr, xmlText } from './xml.js';

/**
 * The progress export: what a learner hands to a teacher (`kube-seclab progress export`) and what
 * `kube-seclab class report` reads. This schema is the contract — documented in the README; any
 * change that is not purely additive needs a new `version`.
 */
export const EXPORT_FORMAT = 'kube-seclab-progress';
export const EXPORT_VERSION = 1;

const count = z.number().int().nonnegative();

export const exportedCheckSchema = z.object({
  id: z.string().min(1),
  passed: z.boolean(),
  /** passed | failed | error | unreachable | skipped (as the check runner reported it). */
  status: z.string(),
  /** The check's one-line explanation; absent for runs recorded before messages were kept. */
  message: z.string().optional(),
});

export const exportedLessonSchema = z.object({
  id: z.string().min(1),
  layer: z.string(),
  title: z.string(),
  status: z.enum(['not-started', 'started', 'done']),
  done: z.boolean(),
  attempts: count,
  hintsUsed: count,
  solutionViewed: z.boolean(),
  timeSpentMs: count,
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  /** The last recorded check run, or null when the lesson was never checked. */
  lastCheck: z.object({ at: z.string(), passed: z.boolean(), checks: z.array(exportedCheckSchema) }).nullable(),
});

export const progressExportSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exportedAt: z.iso.datetime({ offset: true }),
  /** kube-seclab's version (package.json) that wrote the export. */
  labVersion: z.string(),
  /** The lab's name (`--name`; "default" without it). */
  labName: z.string(),
  engine: z.string(),
  learner: z.object({ name: z.string().min(1), id: z.string().optional() }),
  /** Every lesson of the catalogue, in catalogue order, started or not. */
  lessons: z.array(exportedLessonSchema),
});

export type ProgressExport = z.infer<typeof progressExportSchema>;
export type ExportedLesson = z.infer<typeof exportedLessonSchema>;
export type ExportedCheck = z.infer<typeof exportedCheckSchema>;

/** The parts of a catalogue lesson an export needs. */
export interface CatalogueLesson {
  id: string;
  layer: Layer | string;
  title: string;
  checks: { id: string }[];
}

export interface LearnerFlags {
  name?: string;
  id?: string;
}

/** Flags first, then the progress file's learner, then the OS user name. */
export function resolveLearner(flags: LearnerFlags, progress: ProgressData, env: NodeJS.ProcessEnv = process.env): { name: string; id?: string } {
  const name = nonEmpty(flags.name) ?? nonEmpty(progress.learner?.name) ?? osUser(env);
  const id = nonEmpty(flags.id) ?? nonEmpty(progress.learner?.id);
  return id ? { name, id } : { name };
}

function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

function osUser(env: NodeJS.ProcessEnv): string {
  try {
    const u = userInfo().username;
    if (u) return u;
  } catch {
    /* no passwd entry (containers) */
  }
  return env.USER || env.LOGNAME || env.USERNAME || 'unknown';
}

function exportLesson(l: CatalogueLesson, p: LessonProgress | undefined): ExportedLesson {
  if (!p) {
    return {
      id: l.id,
      layer: l.layer,
      title: l.title,
      status: 'not-started',
      done: false,
      attempts: 0,
      hintsUsed: 0,
      solutionViewed: false,
      timeSpentMs: 0,
      lastCheck: null,
    };
  }
  let lastCheck: ExportedLesson['lastCheck'] = null;
  if (p.lastCheck) {
    const lc = p.lastCheck;
    const checks: ExportedCheck[] = lc.checks
      ? lc.checks.map((c) => ({ id: c.id, passed: c.status === 'passed', status: c.status, message: c.message }))
      : // A file from before per-check results were kept: only the failed ids are known (no messages).
        // In a run that passed, every other check of the lesson passed; in one that failed they are unknown.
        lc.passed
        ? l.checks.map((c) => ({ id: c.id, passed: true, status: 'passed' }))
        : lc.failed.map((id) => ({ id, passed: false, status: 'failed' }));
    lastCheck = { at: lc.at, passed: lc.passed, checks };
  }
  const done = p.status === 'done';
  return {
    id: l.id,
    layer: l.layer,
    title: l.title,
    status: done ? 'done' : 'started',
    done,
    attempts: p.attempts ?? 0,
    hintsUsed: p.hintsUsed ?? 0,
    solutionViewed: !!p.solutionViewed,
    timeSpentMs: Math.max(0, Math.round(p.timeSpentMs ?? 0)),
    ...(p.startedAt ? { startedAt: p.startedAt } : {}),
    ...(p.completedAt ? { completedAt: p.completedAt } : {}),
    lastCheck,
  };
}

export interface BuildExportInput {
  lessons: CatalogueLesson[];
  progress: ProgressData;
  learner: { name: string; id?: string };
  labVersion: string;
  labName: string;
  engine: string;
  now?: Date;
}

/** The export of one learner's progress: every catalogue lesson, started or not. */
export function buildExport(input: BuildExportInput): ProgressExport {
  const exp: ProgressExport = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: (input.now ?? new Date()).toISOString(),
    labVersion: input.labVersion,
    labName: input.labName,
    engine: input.engine,
    learner: input.learner.id ? { name: input.learner.name, id: input.learner.id } : { name: input.learner.name },
    lessons: input.lessons.map((l) => exportLesson(l, input.progress.lessons[l.id])),
  };
  return progressExportSchema.parse(exp);
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** What a failed (not done) lesson says in JUnit: the failed checks and their messages. */
function failureOf(l: ExportedLesson): { message: string; body: string } {
  if (!l.lastCheck) return { message: 'started, never checked', body: `${l.id}: started, no check run yet` };
  const bad = l.lastCheck.checks.filter((c) => !c.passed && c.status !== 'skipped');
  if (!bad.length) return { message: 'not completed', body: `${l.id}: the last check run did not pass` };
  return {
    message: `${bad.length} of ${l.lastCheck.checks.filter((c) => c.status !== 'skipped').length} checks failed`,
    body: bad.map((c) => `${c.id} (${c.status})${c.message ? `: ${c.message}` : ''}`).join('\n'),
  };
}

/**
 * JUnit XML (the common schema: testsuites > testsuite > testcase, with tests/failures/errors/
 * skipped/time): one testsuite per layer, one testcase per lesson — passed when done, a <failure>
 * listing the failed checks when started but not done, <skipped> when never started.
 */
export function toJunit(exp: ProgressExport): string {
  const who = exp.learner.id ? `${exp.learner.name} (${exp.learner.id})` : exp.learner.name;
  const layers = [...(LAYERS as readonly string[]), ...exp.lessons.map((l) => l.layer).filter((x) => !(LAYERS as readonly string[]).includes(x))];
  const suites = [...new Set(layers)].map((layer) => ({ layer, lessons: exp.lessons.filter((l) => l.layer === layer) })).filter((s) => s.lessons.length);
  const stats = (ls: ExportedLesson[]) => ({
    tests: ls.length,
    failures: ls.filter((l) => l.status === 'started').length,
    skipped: ls.filter((l) => l.status === 'not-started').length,
    time: seconds(ls.reduce((a, l) => a + l.timeSpentMs, 0)),
  });
  const all = stats(exp.lessons);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${xmlAttr(`kube-seclab: ${who}`)}" tests="${all.tests}" failures="${all.failures}" errors="0" skipped="${all.skipped}" time="${all.time}">`,
  );
  suites.forEach((s, i) => {
    const st = stats(s.lessons);
    const title = LAYER_TITLES[s.layer as Layer] ?? s.layer;
    out.push(
      `  <testsuite name="${xmlAttr(`${title} — ${who}`)}" id="${i}" package="kube-seclab.${xmlAttr(s.layer)}" tests="${st.tests}" failures="${st.failures}" errors="0" skipped="${st.skipped}" time="${st.time}" timestamp="${xmlAttr(exp.exportedAt.replace(/(\.\d+)?Z$/, ''))}">`,
    );
    out.push('    <properties>');
    const props: [string, string | undefined][] = [
      ['learner', exp.learner.name],
      ['learner.id', exp.learner.id],
      ['lab.name', exp.labName],
      ['lab.version', exp.labVersion],
      ['engine', exp.engine],
      ['exportedAt', exp.exportedAt],
    ];
    for (const [k, v] of props) if (v !== undefined) out.push(`      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`);
    out.push('    </properties>');
    for (const l of s.lessons) {
      const open = `    <testcase name="${xmlAttr(l.id)}" classname="kube-seclab.${xmlAttr(s.layer)}" time="${seconds(l.timeSpentMs)}"`;
      if (l.status === 'done') {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      if (l.status === 'not-started') out.push('      <skipped message="not started"/>');
      else {
        const f = failureOf(l);
        out.push(`      <failure message="${xmlAttr(f.message)}" type="checks">${xmlText(f.body)}</failure>`);
      }
      const info = `${l.title}\nattempts: ${l.attempts}, hints used: ${l.hintsUsed}, solution viewed: ${l.solutionViewed ? 'yes' : 'no'}`;
      out.push(`      <system-out>${xmlText(info)}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  });
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
