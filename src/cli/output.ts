import { createInterface } from 'node:readline/promises';
import { UserError } from '../core/errors.js';
import type { LessonResult } from '../core/checks/runner.js';
import { style, symbols } from './style.js';

/** What the commands print: results on stdout, warnings and notes on stderr. */
export const out = (s = '') => process.stdout.write(s + '\n');
export const err = (s: string) => process.stderr.write(s + '\n');

/** A lesson's check results, one line a check. */
export function printResult(r: LessonResult, title?: string) {
  if (title) out(`${style.bold(r.lesson)} ${style.muted('— ' + title)}`);
  const width = Math.max(...r.checks.map((c) => c.id.length));
  for (const c of r.checks) {
    const sym =
      c.status === 'passed'
        ? style.success(symbols.pass)
        : c.status === 'skipped'
          ? style.muted(symbols.skip)
          : c.status === 'unreachable'
            ? style.warning(symbols.unreachable)
            : style.error(symbols.fail);
    out(` ${sym} ${c.id.padEnd(width)}  ${c.status === 'skipped' ? style.muted(c.message) : c.message} ${style.muted(`${c.durationMs}ms`)}`);
  }
  const n = r.checks.filter((c) => c.status === 'passed').length;
  const runnable = r.checks.filter((c) => c.status !== 'skipped').length;
  if (r.unreachable) out(style.warning(`cluster unreachable — these results say nothing about your fix. Check it with \`kube-seclab status\`.`));
  else if (r.passed) out(style.success(`${symbols.pass} all ${runnable} checks pass`) + style.muted(` (${r.durationMs} ms)`));
  else out(`${n}/${runnable} checks pass ${style.muted(`(${r.durationMs} ms)`)}`);
}

/** `check --json`'s stable shape. */
export function toJson(r: LessonResult) {
  return {
    lesson: r.lesson,
    passed: r.passed,
    durationMs: r.durationMs,
    checks: r.checks.map((c) => ({
      id: c.id,
      title: c.title,
      passed: c.passed,
      message: c.message,
      durationMs: c.durationMs,
      requires: c.requires,
      status: c.status,
    })),
  };
}

/** A yes/no question on the terminal; without one, --yes is required. */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UserError(`${question} needs confirmation`, 'pass --yes to confirm without a prompt');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const a = await rl.question(`${question} [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(a.trim());
}
