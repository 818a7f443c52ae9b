import type { Lab } from '../../core/lab.js';
import { UserError } from '../../core/errors.js';
import { verifyLesson, type VerifyResult } from '../../core/verify.js';
import { style, symbols } from '../style.js';
import { EXIT } from '../exit.js';
import { out } from '../output.js';
import type { CommandOptions } from '../commands.js';

/** `dev verify [LESSON…]` and `dev audit [LESSON…]`: the lessons' own proofs, for their authors. */
export async function devCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  if (args[0] === 'audit') return devAudit(lab, args.slice(1), o);
  if (args[0] !== 'verify') throw new UserError(`unknown dev command ${args[0] ?? ''}`, 'try `kube-seclab dev verify` or `kube-seclab dev audit`');
  const ids = args.length > 1 ? args.slice(1) : lab.catalogue.lessons.map((l) => l.id);
  const results: VerifyResult[] = [];
  for (const id of ids) {
    if (!o.json) out(style.bold(id));
    const r = await verifyLesson(lab, id, {
      onStep: o.json
        ? undefined
        : (s) =>
            out(
              ` ${s.ok ? style.success(symbols.pass) : style.error(symbols.fail)} ${s.name} ${style.muted(`${s.durationMs}ms`)}  ${s.ok ? style.muted(s.detail) : s.detail}`,
            ),
    });
    if (r.skipped && !o.json) out(style.muted(` ${symbols.skip} skipped: ${r.skipped}`));
    results.push(r);
  }
  if (o.json) out(JSON.stringify(results, null, 2));
  else out(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length} failed`);
  return results.every((r) => r.ok) && lab.catalogue.problems.length === 0 ? EXIT.ok : EXIT.failed;
}

/**
 * `dev audit [lesson…] [--json] [--full]`: independent auditors (kube-score, kube-bench) on each
 * lesson's scenario and solved state, against what its lesson.yaml `audit:` declares. One line per
 * lesson; each declaration that does not hold gets a line naming where it is written. Exit 1 on a
 * failure, 2 when an auditor is not installed.
 */
async function devAudit(lab: Lab, ids: string[], o: CommandOptions): Promise<number> {
  const { auditLesson } = await import('../../core/audit/audit.js');
  const { findAuditors } = await import('../../core/audit/tools.js');
  const tools = findAuditors(lab.env); // missing → UserError → exit 2 with how to build it
  await lab.cluster(); // no cluster → UserError → exit 2 with `up`
  const list = ids.length ? ids.map((id) => lab.lesson(id).id) : lab.catalogue.lessons.map((l) => l.id);
  const t0 = Date.now();
  const results = [];
  for (const id of list) {
    const r = await auditLesson(lab, id, { tools, full: o.full });
    results.push(r);
    if (o.json) continue;
    const secs = style.muted(`${(r.durationMs / 1000).toFixed(1)} s, auditors ${(r.auditorsMs / 1000).toFixed(1)} s`);
    if (r.skipped) {
      out(` ${style.muted(symbols.skip)} ${id}  ${style.muted(`skipped: ${r.skipped}`)}`);
      continue;
    }
    const said =
      r.errors.length && !r.verdicts.length
        ? 'could not run'
        : [
            r.raised.length ? `raised ${r.raised.join(', ')}` : 'raises nothing declared',
            r.cleared.length ? `cleared ${r.cleared.join(', ')}` : 'clears nothing declared',
          ].join('; ');
    out(` ${r.ok ? style.success(symbols.pass) : style.error(symbols.fail)} ${id}  ${r.ok ? style.muted(said) : said} ${secs}`);
    for (const e of r.errors) out(`     ${style.error(symbols.fail)} ${e}`);
    for (const v of r.verdicts.filter((x) => !x.ok)) out(`     ${style.error(symbols.fail)} ${v.where} ${v.tool} ${v.id}: ${v.detail}`);
    for (const n of r.notes) out(style.muted(`     note: ${n}`));
    if (o.full) {
      const line = (label: string, fs: { tool: string; id: string; object?: string }[] | undefined) =>
        out(
          style.muted(`     ${label}: ${[...new Set((fs ?? []).map((f) => `${f.tool} ${f.id}${f.object ? ` (${f.object})` : ''}`))].join(', ') || 'nothing'}`),
        );
      line('scenario raises', r.scenario);
      line('solved state raises', r.solved);
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (o.json) out(JSON.stringify(results, null, 2));
  else
    out(
      `${results.filter((r) => r.ok && !r.skipped).length} passed, ${failed} failed, ${results.filter((r) => r.skipped).length} skipped ${style.muted(`(${secs} s; the auditors themselves ${(results.reduce((n, r) => n + r.auditorsMs, 0) / 1000).toFixed(0)} s)`)}`,
    );
  return failed === 0 && lab.catalogue.problems.length === 0 ? EXIT.ok : EXIT.failed;
}
