/**
 * Every subcommand's usage, in one table: `kube-seclab --help` lists them all, `kube-seclab CMD
 * --help` (or `kube-seclab help CMD`) prints one. A command that is not in this table does not exist.
 */
export interface CommandUsage {
  /** The first word after `kube-seclab`. */
  name: string;
  /** Its own subcommands (`progress export`), when it has some: anything else after it is refused. */
  subs?: readonly string[];
  /** Usage lines (without `kube-seclab `) and what each does, as the overview lists them. */
  lines: readonly (readonly [usage: string, what: string])[];
  /** More about it, for `kube-seclab CMD --help` only. */
  more?: string;
}

export const COMMANDS: readonly CommandUsage[] = [
  {
    name: 'up',
    lines: [
      ['up [--engine local|kind] [--image IMAGE]', "create or start the lab's cluster (kind: --image picks the node image)"],
      [
        'up --engine existing --context CTX [--kubeconfig FILE] --namespace-prefix P',
        "a shared cluster for big classes: learner P's own namespaces and RBAC in an existing cluster (namespace-scoped lessons only; see README)",
      ],
    ],
  },
  { name: 'down', lines: [['down', "stop and delete the lab's cluster (existing: only what up created)"]] },
  { name: 'status', lines: [['status [--json]', "engine, endpoints, each component's health, the workspace folder; every lab on this host"]] },
  { name: 'list', lines: [['list [--json]', 'every lesson with its status']] },
  { name: 'start', lines: [['start <lesson>', "set up a lesson's insecure scenario and make it current"]] },
  {
    name: 'check',
    lines: [['check [<lesson>] [--json] [--watch]', "run the lesson's checks (--watch: again on every change)"]],
    more: 'With --json, one line: {"lesson","passed","durationMs","checks":[{"id","title","passed","message","durationMs","requires","status"}]}. A check\'s "status" is passed, failed, error, unreachable or skipped. A skipped check (one this engine cannot run, e.g. requires kind) reads "passed": false, "status": "skipped" and does not count against the lesson\'s "passed"; a failed one reads "status": "failed". Exit 0 all passed, 1 some check did not pass, 2 cluster unreachable or usage error.',
  },
  {
    name: 'attack',
    lines: [
      [
        'attack [<lesson>] [--json]',
        "run the lesson's attack against the cluster as it is now: watch it work, fix, watch it fail (exit 0 when it fails, 1 when it still works)",
      ],
    ],
    more: 'With --json, one line: {"lesson","title","engine","succeeded","skipped"?,"summary","durationMs","steps":[{"id","title","type","goal","status","succeeded","message","evidence","note"?,"durationMs"}]}; secret values only as their first characters and length. Exit 0 the attack fails (a defence stopped every goal step), 1 it works, 2 it could not run (the cluster stopped answering; a goal that needs kind) or usage error. It targets only the lab\'s own local or kind cluster and changes nothing: writes are dry runs, pods it starts are deleted.',
  },
  { name: 'hint', lines: [['hint [<lesson>]', 'the next hint, gentle first']] },
  {
    name: 'solution',
    lines: [['solution <lesson> [--apply]', 'show the reference solution and the commands that apply it in this lab (--apply: the lab applies it)']],
  },
  { name: 'reset', lines: [['reset [<lesson>|--all] [--yes]', 'put a lesson back to its insecure start (--all: every lesson + progress)']] },
  { name: 'doctor', lines: [['doctor [--json]', 'what is installed, versions, cluster reachable']] },
  {
    name: 'env',
    lines: [['env', "shell lines for `eval`: kubectl on the lab's cluster and this checkout's `kube-seclab` in every folder"]],
    more: 'In the kube-seclab folder: eval "$(npx kube-seclab env)" — then `kube-seclab …` works in any folder of that shell. Evaluating it again changes nothing (PATH keeps one entry). With --name, that shell keeps to that lab.',
  },
  {
    name: 'build',
    lines: [
      [
        'build [PATH] [--deploy NS/NAME[:CONTAINER]] [--json]',
        'build an app the lesson handed you (workspace folder PATH) as the image the cluster runs, and print it by digest (--deploy: also set it)',
      ],
    ],
    more: "PATH: the app's folder name in the workspace (`build logsearch`), or a path from where you stand (`build .` inside it).",
  },
  {
    name: 'sign',
    lines: [
      [
        'sign [IMAGE] [--key FILE] [--generate-key] [--json]',
        "sign an image (REPOSITORY@sha256:DIGEST) with an ed25519 key (default: the workspace's; --generate-key makes one) and store the signature in the lab",
      ],
    ],
  },
  {
    name: 'scan',
    lines: [
      [
        'scan [IMAGE|PATH] [--deploy NS/NAME] [--json]',
        'known-vulnerable npm packages in an app folder, an image the lab built, or what a Deployment runs (offline advisory snapshot; exit 1 on findings)',
      ],
    ],
  },
  {
    name: 'sbom',
    lines: [['sbom [PATH] [--out FILE]', 'a CycloneDX SBOM of an app folder, and the image (your build of it) it describes']],
    more: 'PATH as for build; --out FILE is written where you stand (relative paths are from your current folder).',
  },
  {
    name: 'images',
    subs: ['list', 'save', 'load'],
    lines: [['images list | save FILE | load FILE', 'the Docker images a kind classroom needs (node image, lab images) in one file']],
  },
  {
    name: 'progress',
    subs: ['export'],
    lines: [
      [
        'progress export [--format json|junit] [--out FILE] [--learner NAME] [--learner-id ID]',
        "every lesson's progress, for a teacher (JSON contract or JUnit XML)",
      ],
    ],
  },
  { name: 'class', subs: ['report'], lines: [['class report FILES... [--html FILE] [--json]', "merge learners' exports: completion, attempts, hints, time"]] },
  {
    name: 'dev',
    subs: ['verify', 'audit'],
    lines: [
      ['dev verify [<lesson>...] [--json]', 'prove each lesson: unsolved fails, solution and alternatives pass, shortcuts fail'],
      [
        'dev audit [<lesson>...] [--json] [--full]',
        "independent auditors (kube-score, kube-bench) on each lesson's scenario and solution, against its lesson.yaml audit: (--full: every CIS check, and list everything they raise); build them: bash tools/build-auditors.sh",
      ],
    ],
  },
  {
    name: 'exam',
    subs: ['start', 'status', 'next', 'submit'],
    lines: [
      [
        'exam [--count N] [--minutes M] [--seed S]',
        'an exam: N random lessons (same seed, same lessons), one time limit, no hints, solutions or checks until you hand a lesson in. In a terminal it opens the exam screen; with --json or in scripts use:',
      ],
      ['  exam start [--count N] [--minutes M] [--seed S] [--json]', 'set up the first lesson and start the clock'],
      ['  exam status [--json]', 'time left, the current lesson; the result once it is over'],
      ['  exam next', 'hand in this lesson (its checks run, results at the end), set up the next'],
      ['  exam submit [--json]', 'hand in this lesson and end the exam: score, checks, result file'],
    ],
  },
  { name: 'help', lines: [['help [COMMAND]', "this overview, or one command's usage"]] },
];

const OPTIONS = `Options: --name NAME (a separate lab and cluster), --engine, --json, --yes, -h/--help, --version,
         --workshop FILE (or KUBE_SECLAB_WORKSHOP): limit the lab to a workshop's lessons and rules
Exit codes: 0 all passed, 1 checks failed, 2 usage or environment error.`;

const COL = 26;
const WIDTH = 100;

/** Words wrapped to `width` columns, every line after the first indented by `indent`. */
function wrap(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    if (line && indent + line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

function formatLines(c: CommandUsage): string[] {
  const out: string[] = [];
  for (const [usage, what] of c.lines) {
    const text = wrap(what, WIDTH, COL + 2);
    if (usage.length + 2 <= COL) {
      out.push(`  ${usage.padEnd(COL)}${text[0]}`);
      out.push(...text.slice(1).map((t) => `${' '.repeat(COL + 2)}${t}`));
    } else {
      out.push(`  ${usage}`);
      out.push(...text.map((t) => `${' '.repeat(COL + 2)}${t}`));
    }
  }
  return out;
}

/** `kube-seclab --help`. */
export function overview(): string {
  return [
    'kube-seclab — learn to secure Kubernetes workloads by fixing them',
    '',
    'Usage: kube-seclab [command] [options]',
    '',
    `  ${'(no command)'.padEnd(COL)}open the lab in this terminal (the TUI)`,
    ...COMMANDS.flatMap(formatLines),
    '',
    OPTIONS,
  ].join('\n');
}

export function findCommand(name: string): CommandUsage | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** `kube-seclab CMD --help`: its usage, what it does, and the options every command takes. */
export function commandHelp(c: CommandUsage): string {
  const sentence = (what: string) => what.charAt(0).toUpperCase() + what.slice(1) + (/[.:]$/.test(what) ? '' : '.');
  const more = c.more ? ['', ...c.more.split('\n').flatMap((p) => wrap(p, WIDTH, 0))] : [];
  const body =
    c.lines.length === 1
      ? [`Usage: kube-seclab ${c.lines[0][0]}`, '', ...wrap(sentence(c.lines[0][1]), WIDTH, 0)]
      : [
          'Usage:',
          ...c.lines.flatMap(([usage, what]) => {
            const indent = usage.startsWith(' ') ? 4 : 2;
            return [`${' '.repeat(indent)}kube-seclab ${usage.trim()}`, ...wrap(sentence(what), WIDTH, indent + 4).map((t) => `${' '.repeat(indent + 4)}${t}`)];
          }),
        ];
  return [...body, ...more, '', OPTIONS].join('\n');
}
