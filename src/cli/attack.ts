import type { Lab } from '../core/lab.js';
import type { AttackResult, AttackStepResult } from '../core/attacks/types.js';
import { style, symbols } from './style.js';
import { EXIT } from './exit.js';

const out = (s = '') => process.stdout.write(s + '\n');

function stepLine(s: AttackStepResult): string[] {
  const sym = s.status === 'succeeded' ? style.error('✓') : s.status === 'failed' ? style.success(symbols.fail) : s.status === 'skipped' ? style.muted(symbols.skip) : style.warning('?');
  const lines = [` ${sym} ${s.goal ? style.bold(s.title) : s.title}`, `     ${s.status === 'skipped' ? style.muted(s.message) : s.message}`];
  for (const e of s.evidence) lines.push(`     ${style.accent(e)}`);
  if (s.note) lines.push(`     ${style.muted(`${symbols.arrow} ${s.note}`)}`);
  return lines;
}

/** The stable JSON shape of `kube-seclab attack --json` (README). */
export function attackJson(r: AttackResult) {
  return {
    lesson: r.lesson, title: r.title, engine: r.engine, succeeded: r.succeeded, ...(r.skipped ? { skipped: r.skipped } : {}), summary: r.summary, durationMs: r.durationMs,
    steps: r.steps.map((s) => ({ id: s.id, title: s.title, type: s.type, goal: s.goal, status: s.status, succeeded: s.succeeded, message: s.message, evidence: s.evidence, ...(s.note ? { note: s.note } : {}), durationMs: s.durationMs })),
  };
}

/**
 * `kube-seclab attack [lesson] [--json]`: the lesson's attack against the cluster as it is now, in
 * the attacker's words. Exit 0 when it fails (the weakness is gone), 1 when it works, 2 when it could not run.
 */
export async function attackCommand(lab: Lab, args: string[], o: { json?: boolean }): Promise<number> {
  const first = !o.json;
  if (first) {
    const l = lab.lesson(args[0], await lab.progress.load());
    if (l.attack) out(`${style.bold(`Attack on ${l.id}`)} — ${l.attack.title}\n${style.muted(l.attack.story)}\n`);
  }
  const r = await lab.attack(args[0], { onStep: o.json ? undefined : (s) => { for (const line of stepLine(s)) out(line); } });
  if (o.json) { out(JSON.stringify(attackJson(r))); return r.skipped ? EXIT.usage : r.succeeded ? EXIT.failed : EXIT.ok; }
  out('');
  if (r.skipped) { out(style.warning(`The attack could not run here: ${r.skipped}`)); return EXIT.usage; }
  if (r.succeeded) out(style.error(`⇒ The attack WORKS: ${r.summary}`) + `\n  Fix the lesson, then attack again: it must fail. ${style.muted('(`kube-seclab hint` when stuck)')}`);
  else out(style.success(`⇒ The attack FAILS: ${r.summary}`));
  return r.succeeded ? EXIT.failed : EXIT.ok;
}
