import { parseArgs } from 'node:util';
import { UserError, errorMessage } from '../core/errors.js';
import type { EngineName } from '../core/engine/index.js';
import { style, symbols } from './style.js';
import { EXIT } from './exit.js';
import { validateLabName } from '../core/paths.js';
import { commandHelp, findCommand, overview } from './usage.js';

export { EXIT };
const out = (s = '') => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

/** The options every subcommand accepts (`parseArgs`, strict): whatever a lesson prints must parse with these. */
export const OPTIONS = {
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  all: { type: 'boolean' },
  apply: { type: 'boolean' },
  engine: { type: 'string' },
  image: { type: 'string' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  workshop: { type: 'string' },
  count: { type: 'string' },
  minutes: { type: 'string' },
  seed: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  learner: { type: 'string' },
  'learner-id': { type: 'string' },
  html: { type: 'string' },
  deploy: { type: 'string' },
  key: { type: 'string' },
  'generate-key': { type: 'boolean' },
  full: { type: 'boolean' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  'namespace-prefix': { type: 'string' },
} as const;

/** `--help` / `help [CMD]`: the overview, or one command's usage; an unknown command is a usage error. */
function help(cmd: string | undefined, sub: string | undefined): number {
  if (!cmd) {
    out(overview());
    return EXIT.ok;
  }
  const c = findCommand(cmd);
  if (!c) {
    err(`kube-seclab: unknown command "${cmd}"\n  ${symbols.arrow} see \`kube-seclab --help\``);
    return EXIT.usage;
  }
  if (c.subs && sub !== undefined && !c.subs.includes(sub)) {
    err(`kube-seclab: unknown ${cmd} command "${sub}"\n  ${symbols.arrow} ${c.subs.map((s) => `\`kube-seclab ${cmd} ${s}\``).join(', ')}`);
    return EXIT.usage;
  }
  out(commandHelp(c));
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
    });
  } catch (e) {
    err(`kube-seclab: ${errorMessage(e)}\n  ${symbols.arrow} see \`kube-seclab --help\``);
    return EXIT.usage;
  }
  const { values: o, positionals } = parsed;
  const [cmd, ...args] = positionals;
  if (cmd === 'help') return help(args[0], args[1]);
  if (o.help) return help(cmd, args[0]);
  if (o.version) {
    out((await import('../../package.json', { with: { type: 'json' } })).default.version);
    return EXIT.ok;
  }
  const env = { ...process.env };
  if (o.name) {
    validateLabName(o.name);
    env.KUBE_SECLAB_NAME = o.name;
  }
  if (o.image) env.KUBE_SECLAB_KIND_IMAGE = o.image;
  const engine = o.engine as EngineName | undefined;
  const existing = { context: o.context, kubeconfig: o.kubeconfig, prefix: o['namespace-prefix'] };
  if (o.workshop !== undefined) env.KUBE_SECLAB_WORKSHOP = o.workshop;
  const examTui = cmd === 'exam' && args.length === 0 && !o.json && !!process.stdout.isTTY && !!process.stdin.isTTY;

  if (!cmd || examTui) {
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      err(
        'kube-seclab: the lab screen needs an interactive terminal.\n  → in scripts use the subcommands: `kube-seclab up`, `list`, `start <lesson>`, `check --json`, `hint`, `reset` (see --help)',
      );
      return EXIT.usage;
    }
    // A broken workshop file is reported like a broken lesson (file:line: field), before the screen opens.
    if (env.KUBE_SECLAB_WORKSHOP) await (await import('../core/workshop.js')).validateWorkshopFile(env.KUBE_SECLAB_WORKSHOP);
    const { runTui } = await import('../ui/run.js');
    if (examTui) {
      const { parseExamOptions } = await import('../core/exam.js');
      return runTui({ env, engine, existing, exam: parseExamOptions(o) });
    }
    return runTui({ env, engine, existing });
  }

  if (!findCommand(cmd)) return help(cmd, undefined);
  const { runCommand } = await import('./commands.js');
  return runCommand(cmd, args, o, env, engine, existing);
}

/** A network-level failure talking to the cluster (refused, reset, timed out), as opposed to a bug. */
function isClusterTrouble(e: unknown): boolean {
  const x = e as { code?: unknown; message?: string; cause?: { code?: string } } | undefined;
  const text = `${typeof x?.code === 'string' ? x.code : ''} ${x?.cause?.code ?? ''} ${x?.message ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|socket hang up|fetch failed/i.test(text);
}

export function reportError(e: unknown): number {
  if (e instanceof UserError) {
    err(`${style.error('kube-seclab:', process.stderr)} ${e.message}${e.hint ? `\n  ${symbols.arrow} ${e.hint}` : ''}`);
  } else if (isClusterTrouble(e)) {
    // The API server went away mid-command (a component restarting, the cluster stopped): not a bug.
    err(
      `${style.error('kube-seclab:', process.stderr)} the lab's cluster stopped answering (${errorMessage(e).split('\n')[0].slice(0, 160)})\n  ${symbols.arrow} it may be restarting a component: \`kube-seclab status\` shows it; run the command again once it is healthy`,
    );
  } else {
    err(
      `${style.error('kube-seclab: unexpected error:', process.stderr)} ${errorMessage(e).split('\n')[0]}\n  ${symbols.arrow} this is a bug; rerun with KUBE_SECLAB_DEBUG=1 for details and report it with \`kube-seclab doctor\``,
    );
    if (process.env.KUBE_SECLAB_DEBUG) err(String((e as Error)?.stack ?? e));
  }
  return EXIT.usage;
}

const isMain =
  process.argv[1] &&
  (process.argv[1].endsWith('kube-seclab.js') ||
    process.argv[1].endsWith('main.js') ||
    process.argv[1].endsWith('main.ts') ||
    process.argv[1].endsWith('kube-seclab'));
if (isMain) {
  // `kube-seclab list | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.exitCode = reportError(e);
    },
  );
}
