import { join } from 'node:path';
import type { Lab } from '../../core/lab.js';
import { UserError } from '../../core/errors.js';
import type { lineReporter } from '../reporter.js';
import { style, symbols } from '../style.js';
import { EXIT } from '../exit.js';
import type { CommandOptions } from '../commands.js';
import { LAYERS, LAYER_TITLES } from '../../core/lessons/schema.js';
import { SHELL_LINE } from '../shell-line.js';
import { out, err, printResult, toJson, confirm } from '../output.js';

type Reporter = ReturnType<typeof lineReporter>;

/** `list [--json]`: the lessons by layer, with what is done. */
export async function listCommand(lab: Lab, o: CommandOptions): Promise<number> {
  const items = await lab.list();
  if (o.json) {
    out(
      JSON.stringify(
        items.map(({ id, layer, title, requires, status }) => ({ id, layer, title, requires, status })),
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  if (lab.workshop) {
    await (await import('../workshop.js')).printWorkshopList(lab, items);
    return EXIT.ok;
  }
  for (const layer of LAYERS) {
    const ls = items.filter((l) => l.layer === layer);
    if (!ls.length) continue;
    out(style.bold(`${LAYER_TITLES[layer]} (${ls.filter((l) => l.status === 'done').length}/${ls.length})`));
    for (const l of ls) {
      const mark =
        l.status === 'done'
          ? style.success(symbols.pass)
          : l.status === 'current'
            ? style.accent('▸')
            : l.status === 'unavailable'
              ? style.muted(symbols.skip)
              : ' ';
      out(` ${mark} ${l.id.padEnd(30)} ${l.title}${l.status === 'unavailable' ? style.muted(` (${l.reason ?? 'needs kind'})`) : ''}`);
    }
  }
  const note = lab.namespaceNote();
  if (note) out(style.muted(note));
  return EXIT.ok;
}

/** `start LESSON`: its insecure scenario from scratch, and what to do next. */
export async function startCommand(lab: Lab, args: string[], rep: Reporter): Promise<number> {
  if (!args[0]) throw new UserError('which lesson?', '`kube-seclab list` shows them; then `kube-seclab start <lesson>`');
  const l = await lab.start(args[0], rep);
  out(`${style.bold(l.title)}  ${style.muted(`(${l.layer} · ${l.difficulty})`)}`);
  for (const ob of l.objectives) out(` ${symbols.bullet} ${ob.text}`);
  out(`\n${SHELL_LINE} ${style.accent(lab.envCommand)}`);
  const note = lab.namespaceNote(l);
  if (note) out(style.warning(note));
  const node = lab.nodeAccessLine(l);
  if (node) out(node);
  if (l.reset.workspaceFiles.length) out(`Your files: ${l.reset.workspaceFiles.map((f) => style.accent(join(lab.workspace, f))).join(', ')}`);
  out(`Then \`kube-seclab check\` (or \`check --watch\`), \`kube-seclab hint\` when stuck.`);
  if (lab.workshop) await (await import('../workshop.js')).printWorkshopRules(lab, l.id);
  return EXIT.ok;
}

/** `check [LESSON] [--watch] [--json]`: the live cluster judged against the lesson's checks. */
export async function checkCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  if (o.watch) {
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    let code: number = EXIT.failed;
    await lab.watch(
      args[0] ?? (await lab.progress.load()).current ?? '',
      (r) => {
        if (o.json) out(JSON.stringify(toJson(r)));
        else {
          out(style.muted(`— ${new Date().toLocaleTimeString()}`));
          printResult(r);
        }
        if (r.passed) {
          code = EXIT.ok;
          ac.abort();
        }
      },
      ac.signal,
    );
    return code;
  }
  const r = await lab.check(args[0]);
  if (o.json) out(JSON.stringify(toJson(r)));
  else {
    printResult(r, lab.lesson(r.lesson).title);
    if (r.passed) out('\n' + (await lab.debrief(r.lesson)));
    else if (lab.workshop) await (await import('../workshop.js')).printTimeBox(lab, r.lesson);
  }
  return r.unreachable ? EXIT.usage : r.passed ? EXIT.ok : EXIT.failed;
}

/** `hint [LESSON]`: the next hint. */
export async function hintCommand(lab: Lab, args: string[]): Promise<number> {
  const h = await lab.hint(args[0]);
  out(`${style.accent(`Hint ${h.index + 1}/${h.total}`)} ${style.muted(`(${h.lesson})`)}\n${h.text}`);
  return EXIT.ok;
}

/** `solution LESSON [--apply]`: the reference fix, saved, and how to carry it out. */
export async function solutionCommand(lab: Lab, args: string[], o: CommandOptions, rep: Reporter): Promise<number> {
  if (!args[0]) throw new UserError('which lesson?', '`kube-seclab solution <lesson>`');
  const s = await lab.solution(args[0], { apply: o.apply, reporter: rep });
  if (s.description) out(s.description);
  for (const f of s.files) out(`${style.bold(`# ${f.path}`)}\n${f.text.trimEnd()}\n`);
  if (!o.apply) out(solutionHowTo(s, args[0]));
  return EXIT.ok;
}

/** `reset [LESSON] [--all] [--yes]`: back to the insecure start. */
export async function resetCommand(lab: Lab, args: string[], o: CommandOptions, rep: Reporter): Promise<number> {
  if (o.all) {
    if (!o.yes && !(await confirm("Remove every lesson's objects and forget all progress?"))) {
      err('nothing changed');
      return EXIT.usage;
    }
    await lab.resetAll(rep);
    return EXIT.ok;
  }
  const id = args[0] ?? (await lab.progress.load()).current;
  if (!id) throw new UserError('which lesson?', '`kube-seclab reset <lesson>`, or `reset --all`');
  if (!o.yes && process.stdin.isTTY && !(await confirm(`Reset ${id} to its insecure starting point? Your changes to it are lost.`))) {
    err('nothing changed');
    return EXIT.usage;
  }
  await lab.reset(id, rep);
  return EXIT.ok;
}

/** How to carry out a shown solution: the commands to run (as printed, in a shell `kube-seclab env` set up) and what to do by hand, in order. */
function solutionHowTo(s: { dir: string; steps: ({ run: string } | { todo: string })[] }, id: string): string {
  const lines = [
    style.bold('To carry it out in this lab'),
    style.muted(
      `(in a shell set up by \`eval "$(kube-seclab env)"\`; the files above are saved in ${s.dir}; on the lesson as \`kube-seclab reset ${id}\` sets it up)`,
    ),
    ...s.steps.map((st, i) => `  ${i + 1}. ${'run' in st ? st.run : `${style.muted('by hand:')} ${st.todo}`}`),
    style.muted(`or let the lab do it: kube-seclab solution ${id} --apply`),
  ];
  return lines.join('\n');
}
