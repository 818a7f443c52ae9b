import type { Lab } from '../../core/lab.js';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import { buildExport, resolveLearner, toJunit } from '../../core/classroom/export.js';
import { classReport, formatReportText } from '../../core/classroom/report.js';
import { renderHtml } from '../../core/classroom/html.js';
import { style, symbols } from '../style.js';
import { EXIT } from '../exit.js';
import { out, err } from '../output.js';
import type { CommandOptions } from '../commands.js';

/** `progress export`: this learner's progress as the documented JSON contract or JUnit XML. */
export async function progressCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  if (args[0] !== 'export')
    throw new UserError(`unknown progress command ${args[0] ?? ''}`.trim(), 'try `kube-seclab progress export [--format json|junit] [--out FILE]`');
  if (args.length > 1)
    throw new UserError(
      `unexpected argument ${args[1]}`,
      '`kube-seclab progress export [--format json|junit] [--out FILE] [--learner NAME] [--learner-id ID]`',
    );
  const format = o.format ?? 'json';
  if (format !== 'json' && format !== 'junit') throw new UserError(`unknown export format "${format}"`, 'use --format json or --format junit');
  const flags = { name: o.learner, id: o['learner-id'] };
  for (const [k, v] of [
    ['--learner', flags.name],
    ['--learner-id', flags.id],
  ] as const)
    if (v !== undefined && !v.trim()) throw new UserError(`${k} is empty`);
  // Flags are remembered, so the next export (and the teacher's report) keeps the same name.
  const progress =
    flags.name !== undefined || flags.id !== undefined
      ? await lab.progress.update((d) => {
          d.learner = { ...d.learner, ...(flags.name ? { name: flags.name.trim() } : {}), ...(flags.id ? { id: flags.id.trim() } : {}) };
        })
      : await lab.progress.load();
  const { version } = (await import('../../../package.json', { with: { type: 'json' } })).default;
  const exp = buildExport({
    lessons: lab.catalogue.lessons,
    progress,
    learner: resolveLearner(flags, progress, lab.env),
    labVersion: version,
    labName: lab.paths.name,
    engine: lab.engineName,
  });
  const text = format === 'json' ? JSON.stringify(exp, null, 2) + '\n' : toJunit(exp);
  if (o.out) {
    await writeFileAtomic(o.out, text);
    err(
      `${style.success(symbols.pass, process.stderr)} wrote ${o.out}: ${exp.learner.name}, ${exp.lessons.filter((l) => l.done).length}/${exp.lessons.length} lessons done (${format})`,
    );
  } else process.stdout.write(text);
  return EXIT.ok;
}

/** `class report FILES...`: merge learners' exports; a summary here, the page with --html. */
export async function classCommand(args: string[], o: CommandOptions): Promise<number> {
  if (args[0] !== 'report')
    throw new UserError(`unknown class command ${args[0] ?? ''}`.trim(), 'try `kube-seclab class report FILES... [--html report.html] [--json]`');
  const files = args.slice(1);
  if (!files.length)
    throw new UserError('which exports?', 'each learner runs `kube-seclab progress export --out NAME.json`; then `kube-seclab class report *.json`');
  const r = await classReport(files);
  for (const p of r.problems) err(`${style.error('kube-seclab: skipped', process.stderr)} ${p.file}: ${p.message}`);
  if (!r.learners.length) {
    err(
      `${style.error('kube-seclab:', process.stderr)} ${files.length === 1 ? 'the file is not' : `none of the ${files.length} files is`} a usable progress export\n  ${symbols.arrow} each learner runs \`kube-seclab progress export --out NAME.json\``,
    );
    return EXIT.usage;
  }
  for (const n of r.notes) err(style.warning(`note: ${n}`, process.stderr));
  if (o.html) {
    await writeFileAtomic(o.html, renderHtml(r));
    err(`${style.success(symbols.pass, process.stderr)} wrote ${o.html} (${r.learners.length} learner${r.learners.length === 1 ? '' : 's'})`);
  }
  if (o.json) out(JSON.stringify(r, null, 2));
  else for (const line of formatReportText(r)) out(line);
  return EXIT.ok;
}
