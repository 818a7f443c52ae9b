/**
 * The subcommands: one module per group under commands/ (lesson, cluster, apps, progress, dev; exam,
 * attack and workshop beside this file), each formatting what its Lab calls return. This file only
 * opens the lab, says what loading it found, and dispatches.
 */
import { Lab } from '../core/lab.js';
import { formatProblem } from '../core/lessons/loader.js';
import type { EngineName, ExistingOptions } from '../core/engine/index.js';
import { engines } from '../engines/index.js';
import { lineReporter } from './reporter.js';
import { style, symbols } from './style.js';
import { EXIT } from './exit.js';
import { err } from './output.js';
import { listCommand, startCommand, checkCommand, hintCommand, solutionCommand, resetCommand } from './commands/lesson.js';
import { upCommand, downCommand, statusCommand, doctorCommand, envCommand, imagesCommand } from './commands/cluster.js';
import { buildCommand, scanCommand, sbomCommand, signCommand } from './commands/apps.js';
import { progressCommand, classCommand } from './commands/progress.js';
import { devCommand } from './commands/dev.js';

export { appArg } from './commands/apps.js';

export interface CommandOptions {
  json?: boolean;
  watch?: boolean;
  yes?: boolean;
  all?: boolean;
  apply?: boolean;
  format?: string;
  out?: string;
  learner?: string;
  'learner-id'?: string;
  html?: string;
  count?: string;
  minutes?: string;
  seed?: string;
  deploy?: string;
  key?: string;
  'generate-key'?: boolean;
  full?: boolean;
}

/** Every subcommand; loaded only when one is asked for, so the TUI starts without it. */
export async function runCommand(
  cmd: string,
  args: string[],
  o: CommandOptions,
  env: NodeJS.ProcessEnv,
  engine: EngineName | undefined,
  existing?: ExistingOptions,
): Promise<number> {
  const lab = await Lab.open({ engines, env, engine, existing });
  for (const p of lab.catalogue.problems) err(style.warning(`warning: lesson not loaded: ${formatProblem(p)}`, process.stderr));
  await lab.progress.load(); // a corrupt file is set aside here, with a warning below
  for (const w of lab.progress.warnings) err(style.warning(`warning: ${w}`, process.stderr));
  const rep = lineReporter();
  // A timed-out exam is graded on the next command, whichever it is.
  if (!['down', 'env', 'doctor', 'dev', 'class', 'exam'].includes(cmd))
    await (await import('./exam.js')).settleExam(lab, rep, (m) => err(style.warning(m, process.stderr)));

  switch (cmd) {
    case 'up':
      return upCommand(lab, rep);
    case 'down':
      return downCommand(lab, rep);
    case 'status':
      return statusCommand(lab, env, o);
    case 'list':
      return listCommand(lab, o);
    case 'start':
      return startCommand(lab, args, rep);
    case 'check':
      return checkCommand(lab, args, o);
    case 'hint':
      return hintCommand(lab, args);
    case 'solution':
      return solutionCommand(lab, args, o, rep);
    case 'reset':
      return resetCommand(lab, args, o, rep);
    case 'doctor':
      return doctorCommand(lab, o);
    case 'env':
      return envCommand(lab);
    case 'images':
      return imagesCommand(lab, args, rep);
    case 'build':
      return buildCommand(lab, args, o, rep);
    case 'scan':
      return scanCommand(lab, args, o);
    case 'sbom':
      return sbomCommand(lab, args, o);
    case 'sign':
      return signCommand(lab, args, o);
    case 'progress':
      return progressCommand(lab, args, o);
    case 'class':
      return classCommand(args, o);
    case 'dev':
      return devCommand(lab, args, o);
    case 'exam':
      return (await import('./exam.js')).examCommand(lab, args, o, rep);
    case 'attack':
      return (await import('./attack.js')).attackCommand(lab, args, o);
    default:
      err(`kube-seclab: unknown command "${cmd}"\n  ${symbols.arrow} see \`kube-seclab --help\``);
      return EXIT.usage;
  }
}
