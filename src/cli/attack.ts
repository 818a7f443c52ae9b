import type { Lab } from '../core/lab.js';
import type { AttackResult, AttackStepResult } from '../core/attacks/types.js';
import { style, symbols } from './style.js';
import { EXIT } from './exit.js';

const out = (s = '') => process.stdout.write(s + '\n');

function stepLine(s: AttackStepResult): string[] {
  const sym =
    s.status === 'succeeded'
      ? style.error('✓')
      : s.status === 'failed'
        ? style.success(symbols.fail)
        : s.status === 'skipped'
          ? style.muted(symbols.skip)
          : style.warning('?');
  const lines = [` ${sym} ${s.goal ? style.bold(s.title) : s.title}`, `     ${s.status === 'skipped' ? style.muted(s.message) : s.message}`];
  for (const e of s.evidence) lines.push(`     ${style.accent(e)}`);
  if (s.note) lines.push(`     ${style.muted(`${symbols.arrow} ${s.note}`)}`);
  return lines;
}

/** The stable JSON shape of `kube-seclab attack --json` (README). */
export function attackJson(r: AttackResult) {
  return {
    lesson: r.lesson,
    title: r.title,
    engine: r.engine,
    succeeded: r.succeeded,
    ...(r.skipped ? { skipped: r.skipped } : {}),
    summary: r.summary,
    durationMs: r.durationMs,
    steps: r.steps.map((s) => ({
      id: s.id,
      title: s.title,
      type: s.type,
      goal: s.goal,
      status: s.status,
      succeeded: s.succeeded,
      message: s.message,
      evidence: s.evidence,
      ...(s.note ? { note: s.note } : {}),
      durationMs: s.durationMs,
    })),
  };
}

/**
 * `kube-seclab attack [lesson] [--json]`: the lesson's attack against the cluster as it is now, in
 * the attacker's words. Exit 0 when it fails (the weakness is gone), 1 when it works, 2 when it could not run.
 */
export async function attackCommand(lab: Lab, args: string[], o: { json?: boolean }): Promise<number> {
  try {
    return await attack(lab, args, o);
  } finally {
    // A request the cluster never answered may still hold the process open: the command has said all it will.
    setTimeout(() => process.exit(), 1000).unref();
  }
}

async function attack(lab: Lab, args: string[], o: { json?: boolean }): Promise<number> {
  // The header comes once the lab knows the attack can run (a lesson set up, a cluster that answers): an error stays one line.
  const r = await lab.attack(
    args[0],
    o.json
      ? {}
      : {
          onStart: (a) => out(`${style.bold(`Attack on ${a.lesson}`)} — ${a.title}\n${style.muted(a.story)}\n`),
          onStep: (s) => {
            for (const line of stepLine(s)) out(line);
          },
        },
  );
  if (o.json) {
    out(JSON.stringify(attackJson(r)));
    return r.skipped ? EXIT.usage : r.succeeded ? EXIT.failed : EXIT.ok;
  }
  out('');
  if (r.skipped) {
    const down = /cluster unreachable|no answer within/i.test(r.skipped);
    out(
      `${style.warning(`⇒ The attack could not run: ${r.skipped}`)}\n  ${symbols.arrow} nothing is proved either way; ${down ? 'check the cluster with `kube-seclab status` (`kube-seclab up` starts or repairs it), then attack again' : "the lesson's checks still judge your fix (`kube-seclab check`)"}`,
    );
    return EXIT.usage;
  }
  if (r.succeeded)
    out(
      style.error(`⇒ The attack WORKS: ${r.summary}`) +
        `\n  Fix the lesson, then attack again: it must fail. ${style.muted('(`kube-seclab hint` when stuck)')}`,
    );
  else out(style.success(`⇒ The attack FAILS: ${r.summary}`));
  return r.succeeded ? EXIT.failed : EXIT.ok;
}
