import type { Lab } from '../core/lab.js';
import { UserError } from '../core/errors.js';
import { examResult, formatClock, isActive, parseExamOptions, type ExamRunner, type ExamState } from '../core/exam.js';
import type { TaskReporter } from '../core/engine/index.js';
import { style, symbols } from './style.js';
import { SHELL_LINE } from './shell-line.js';
import { EXIT } from './exit.js';

const out = (s = '') => process.stdout.write(s + '\n');

export interface ExamCommandOptions {
  json?: boolean;
  count?: string;
  minutes?: string;
  seed?: string;
}

/** What `exam status --json` prints (and `exam start --json`, `exam next --json`). */
export function examStatusJson(runner: ExamRunner, s: ExamState | undefined) {
  if (!s) return { exam: null };
  const finished = s.phase === 'finished';
  return {
    exam: {
      id: s.id,
      seed: s.seed,
      minutes: s.minutes,
      phase: s.phase,
      workshop: s.workshop ?? null,
      lessons: s.lessons.map((l) => l.id),
      current: finished ? null : { index: s.index, id: s.lessons[s.index].id, title: s.lessons[s.index].title },
      startedAt: s.startedAt ?? null,
      deadline: s.deadline ?? null,
      remainingMs: finished ? 0 : Math.max(0, runner.remaining(s)),
      resultFile: s.resultFile ?? null,
      result: finished ? examResult(s) : null,
    },
  };
}

function printCurrent(lab: Lab, runner: ExamRunner, s: ExamState) {
  const l = s.lessons[s.index];
  const lesson = lab.catalogue.get(l.id) ?? lab.allLessons.get(l.id);
  out(`${style.bold(`Exam — lesson ${s.index + 1}/${s.lessons.length}:`)} ${l.title} ${style.muted(`(${l.id})`)}`);
  out(
    `${style.accent(`${formatClock(runner.remaining(s))} left`)} ${style.muted(`of ${s.minutes} min · seed ${s.seed}${s.workshop ? ` · workshop "${s.workshop}"` : ''}`)}`,
  );
  if (lesson) for (const ob of lesson.objectives) out(` ${symbols.bullet} ${ob.text}`);
  if (lesson) out(style.muted(`The lesson text: ${lesson.dir}/lesson.md`));
  out(`\n${SHELL_LINE} ${style.accent(lab.envCommand)}`);
  out(
    `No hints, solutions or checks during the exam. ${s.index + 1 < s.lessons.length ? '`kube-seclab exam next` hands this lesson in and sets up the next; ' : ''}\`kube-seclab exam submit\` hands it in and ends the exam.`,
  );
}

/** The result: score, each lesson's checks, and where the JSON result was written. */
export function printResult(s: ExamState, out: (line?: string) => void = (x = '') => process.stdout.write(x + '\n')) {
  const r = examResult(s);
  out(
    `${style.bold('Exam result')} ${style.muted(`— seed ${r.seed}, ${r.endedBy === 'timeout' ? 'time ran out' : 'handed in'}${r.workshop ? `, workshop "${r.workshop}"` : ''}`)}`,
  );
  out(`${style.bold('Score')} ${r.score.passed}/${r.score.total} ${style.muted(`(${r.score.percent}%)`)}`);
  for (const l of r.lessons) {
    const sym = l.status === 'passed' ? style.success(symbols.pass) : l.status === 'not-reached' ? style.muted(symbols.skip) : style.error(symbols.fail);
    out(` ${sym} ${l.id.padEnd(26)} ${l.title}${l.status === 'not-reached' ? style.muted(' (not reached)') : ''}`);
    for (const c of l.checks)
      out(
        `     ${c.passed ? style.success(symbols.pass) : c.status === 'skipped' ? style.muted(symbols.skip) : style.error(symbols.fail)} ${c.id}${c.passed ? '' : `  ${style.muted(c.message)}`}`,
      );
  }
  if (s.resultFile) out(`\nResult file: ${s.resultFile}`);
}

const finishedCode = (s: ExamState) => (s.outcomes.every((o) => o.status === 'passed') ? EXIT.ok : EXIT.failed);

/**
 * `kube-seclab exam start|status|next|submit` (and `exam` alone outside a terminal: start).
 * Every one of them first finishes what a killed command left half done, and grades an exam whose time is up.
 */
export async function examCommand(lab: Lab, args: string[], o: ExamCommandOptions, rep: TaskReporter): Promise<number> {
  const runner = lab.exams();
  const sub = args[0] ?? 'start';
  const opts = sub === 'start' ? parseExamOptions(o) : {};
  const before = await runner.load();
  const settled = await runner.settle(rep);
  const timedOutNow = isActive(before) && settled?.phase === 'finished';
  if (timedOutNow && sub !== 'status') {
    // The time ran out since the last command: graded now, whatever was asked.
    if (o.json) out(JSON.stringify({ ...examResult(settled), file: settled.resultFile ?? null }, null, 2));
    else {
      out(style.warning("The exam's time ran out: it is graded as it stood."));
      printResult(settled);
    }
    if (sub === 'start') throw new UserError('the previous exam was still open; it is graded above', 'run `kube-seclab exam start` again for a new one');
    return finishedCode(settled);
  }
  switch (sub) {
    case 'start': {
      const s = await runner.begin(opts, rep);
      if (o.json) out(JSON.stringify(examStatusJson(runner, s), null, 2));
      else {
        out(
          `${style.bold(`Exam started: ${s.lessons.length} lesson${s.lessons.length > 1 ? 's' : ''}, ${s.minutes} min`)} ${style.muted(`(seed ${s.seed}: the same seed gives the same lessons)`)}`,
        );
        printCurrent(lab, runner, s);
      }
      return EXIT.ok;
    }
    case 'status': {
      const s = settled;
      if (o.json) {
        out(JSON.stringify(examStatusJson(runner, s), null, 2));
        return EXIT.ok;
      }
      if (!s) {
        out('No exam yet. Start one: `kube-seclab exam start --count 3 --minutes 45` (or `kube-seclab exam` in a terminal).');
        return EXIT.ok;
      }
      if (s.phase === 'finished') {
        if (timedOutNow) out(style.warning("The exam's time ran out: it is graded as it stood."));
        printResult(s);
        return finishedCode(s);
      }
      printCurrent(lab, runner, s);
      return EXIT.ok;
    }
    case 'next': {
      const s = await runner.next(rep);
      if (s.phase === 'finished') {
        if (o.json) out(JSON.stringify({ ...examResult(s), file: s.resultFile ?? null }, null, 2));
        else printResult(s);
        return finishedCode(s);
      }
      if (o.json) out(JSON.stringify(examStatusJson(runner, s), null, 2));
      else {
        out(style.muted(`Lesson ${s.index}/${s.lessons.length} handed in; its result comes at the end.`));
        printCurrent(lab, runner, s);
      }
      return EXIT.ok;
    }
    case 'submit': {
      const s = await runner.submit(rep);
      if (o.json) out(JSON.stringify({ ...examResult(s), file: s.resultFile ?? null }, null, 2));
      else printResult(s);
      return finishedCode(s);
    }
    default:
      throw new UserError(`unknown exam command "${sub}"`, 'try `kube-seclab exam start`, `exam status`, `exam next` or `exam submit`');
  }
}

/** Before any other command: grade an exam whose time ran out (and finish a step a crash left half done). */
export async function settleExam(lab: Lab, rep: TaskReporter, warn: (s: string) => void): Promise<void> {
  const runner = lab.exams();
  const before = await runner.load().catch(() => undefined);
  if (!isActive(before)) return;
  if (before.phase === 'running' && runner.remaining(before) > 0) return;
  try {
    const s = await runner.settle(rep);
    if (s?.phase === 'finished') {
      warn("The exam's time ran out: it is graded as it stood.");
      printResult(s, (x = '') => warn(x));
    }
  } catch (e) {
    warn(`the exam could not be graded yet: ${(e as Error).message}`);
  }
}
