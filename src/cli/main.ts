import { parseArgs } from 'node:util';
import { UserError, errorMessage } from '../core/errors.js';
import type { EngineName } from '../engines/types.js';
import { style, symbols } from './style.js';
import { EXIT } from './exit.js';
import { validateLabName } from '../core/paths.js';

export { EXIT };
const out = (s = '') => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

const HELP = `kube-seclab — learn to secure Kubernetes workloads by fixing them

Usage: kube-seclab [command] [options]

  (no command)              open the lab in this terminal (the TUI)
  up [--engine local|kind] [--image IMAGE]
                            create or start the lab's cluster (kind: --image picks the node image)
  up --engine existing --context CTX [--kubeconfig FILE] --namespace-prefix P
                            a shared cluster for big classes: learner P's own namespaces and RBAC
                            in an existing cluster (namespace-scoped lessons only; see README)
  down                      stop and delete the lab's cluster (existing: only what up created)
  status [--json]           engine, endpoints, each component's health; every lab on this host
  list [--json]             every lesson with its status
  start <lesson>            set up a lesson's insecure scenario and make it current
  check [<lesson>] [--json] [--watch]
                            run the lesson's checks (--watch: again on every change)
  attack [<lesson>] [--json] run the lesson's attack against the cluster as it is now: watch it work,
                            fix, watch it fail (exit 0 when it fails, 1 when it still works)
  hint [<lesson>]           the next hint, gentle first
  solution <lesson> [--apply]
                            show (or apply) the reference solution
  reset [<lesson>|--all] [--yes]
                            put a lesson back to its insecure start (--all: every lesson + progress)
  doctor [--json]           what is installed, versions, cluster reachable
  env                       print the export line for your own shell's kubectl
  build [PATH] [--deploy NS/NAME[:CONTAINER]] [--json]
                            build an app the lesson handed you (workspace folder PATH) as the image
                            the cluster runs, and print it by digest (--deploy: also set it)
  sign [IMAGE] [--key FILE] [--generate-key] [--json]
                            sign an image (REPOSITORY@sha256:DIGEST) with an ed25519 key (default: the
                            workspace's; --generate-key makes one) and store the signature in the lab
  scan [IMAGE|PATH] [--deploy NS/NAME] [--json]
                            known-vulnerable npm packages in an app folder, an image the lab built, or
                            what a Deployment runs (offline advisory snapshot; exit 1 on findings)
  sbom [PATH] [--out FILE]  a CycloneDX SBOM of an app folder, and the image (your build of it) it describes
  images list | save FILE | load FILE
                            the Docker images a kind classroom needs (node image, lab images) in one file
  progress export [--format json|junit] [--out FILE] [--learner NAME] [--learner-id ID]
                            every lesson's progress, for a teacher (JSON contract or JUnit XML)
  class report FILES... [--html FILE] [--json]
                            merge learners' exports: completion, attempts, hints, time
  dev verify [<lesson>...] [--json]
                            prove each lesson: unsolved fails, solution and alternatives pass, shortcuts fail
  exam [--count N] [--minutes M] [--seed S]
                            an exam: N random lessons (same seed, same lessons), one time limit,
                            no hints, solutions or checks until you hand a lesson in. In a terminal
                            it opens the exam screen; with --json or in scripts use:
    exam start [--count N] [--minutes M] [--seed S] [--json]
                            set up the first lesson and start the clock
    exam status [--json]    time left, the current lesson; the result once it is over
    exam next               hand in this lesson (its checks run, results at the end), set up the next
    exam submit [--json]    hand in this lesson and end the exam: score, checks, result file

Options: --name NAME (a separate lab and cluster), --engine, --json, --yes, -h/--help, --version,
         --workshop FILE (or KUBE_SECLAB_WORKSHOP): limit the lab to a workshop's lessons and rules
Exit codes: 0 all passed, 1 checks failed, 2 usage or environment error.`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        json: { type: 'boolean' }, watch: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, all: { type: 'boolean' },
        apply: { type: 'boolean' }, engine: { type: 'string' }, image: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
        workshop: { type: 'string' }, count: { type: 'string' }, minutes: { type: 'string' }, seed: { type: 'string' },
        format: { type: 'string' }, out: { type: 'string' }, learner: { type: 'string' }, 'learner-id': { type: 'string' }, html: { type: 'string' }, deploy: { type: 'string' },
        key: { type: 'string' }, 'generate-key': { type: 'boolean' },
        context: { type: 'string' }, kubeconfig: { type: 'string' }, 'namespace-prefix': { type: 'string' },
      },
    });
  } catch (e) {
    err(`kube-seclab: ${errorMessage(e)}\n  ${symbols.arrow} see \`kube-seclab --help\``);
    return EXIT.usage;
  }
  const { values: o, positionals } = parsed;
  const [cmd, ...args] = positionals;
  if (o.help || cmd === 'help') { out(HELP); return EXIT.ok; }
  if (o.version) { out((await import('../../package.json', { with: { type: 'json' } })).default.version); return EXIT.ok; }
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
      err('kube-seclab: the lab screen needs an interactive terminal.\n  → in scripts use the subcommands: `kube-seclab up`, `list`, `start <lesson>`, `check --json`, `hint`, `reset` (see --help)');
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
    err(`${style.error('kube-seclab:', process.stderr)} the lab's cluster stopped answering (${errorMessage(e).split('\n')[0].slice(0, 160)})\n  ${symbols.arrow} it may be restarting a component: \`kube-seclab status\` shows it; run the command again once it is healthy`);
  } else {
    err(`${style.error('kube-seclab: unexpected error:', process.stderr)} ${errorMessage(e).split('\n')[0]}\n  ${symbols.arrow} this is a bug; rerun with KUBE_SECLAB_DEBUG=1 for details and report it with \`kube-seclab doctor\``);
    if (process.env.KUBE_SECLAB_DEBUG) err(String((e as Error)?.stack ?? e));
  }
  return EXIT.usage;
}

const isMain = process.argv[1] && (process.argv[1].endsWith('kube-seclab.js') || process.argv[1].endsWith('main.js') || process.argv[1].endsWith('main.ts') || process.argv[1].endsWith('kube-seclab'));
if (isMain) {
  // `kube-seclab list | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => { process.exitCode = reportError(e); });
}
