import { mkdir, mkdtemp, readdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { NodeAuditHost } from '../engine/index.js';
import { UserError } from '../errors.js';
import { CIS_BENCHMARK } from './tools.js';
import type { AuditFinding } from './types.js';

/**
 * kube-bench (CIS Kubernetes Benchmark 1.12) against the lab's own cluster.
 *
 * The node targets (master, etcd, controlplane; node where a kubelet runs) run where the engine
 * says its control-plane node is (Engine.nodeAuditHost). kube-bench finds a component's flags with
 * `ps -ef | grep $apiserverbin`, and on the local engine this machine may run other labs'
 * kube-apiservers (other tests, other kind clusters' nodes): so the benchmark's YAML is copied and
 * every such process lookup is replaced by a read of THIS cluster's process (/proc/PID/cmdline of
 * the pid its engine recorded; and /proc/PID/environ for etcd's env-var tests, where kube-bench
 * would otherwise read `ps -C etcd`'s, any etcd's), and every node path (/etc/kubernetes/…,
 * /var/lib/etcd…) is mapped to where the node's files really are. The copy is what runs; the
 * cache keeps the original.
 *
 * The policies target (RBAC, pod security: kubectl and jq only) runs on this machine with the lab's
 * kubeconfig. Its checks are cluster-wide; their per-object lines are split into one finding per
 * object so a lesson can be judged on its own namespaces and objects.
 */

const COMPONENT_BINS = { apiserver: 'kube-apiserver', controllermanager: 'kube-controller-manager', scheduler: 'kube-scheduler', etcd: 'etcd' } as const;

/** Where kube-bench's process lookups are (`ps -ef | grep $apiserverbin | grep -v grep`, `/bin/` prefixes or not). */
const PS_LOOKUP = /(?:\/bin\/)?ps -ef \| (?:\/bin\/)?grep \$(apiserver|controllermanager|scheduler|etcd|kubelet)bin(?: \| (?:\/bin\/)?grep -v grep)?/g;
/** Node paths the benchmark's audit commands name directly. */
const NODE_PATHS_IN_AUDITS = /(?<![\w/.-])\/(?:etc\/kubernetes|var\/lib\/cni|var\/lib\/etcd|var\/lib\/kubelet|var\/log\/apiserver)(?=[/'"\s]|$)/g;
/** Every absolute path in config.yaml names a node file (`bins` are names, not paths). */
const NODE_PATHS_IN_CONFIG = /(?<=^|[\s"'[,])\/(?=(?:etc|var|lib|usr|home|system|opt|run)\/)/gm;
/** Characters a mapped path may have: it goes into shell commands inside YAML strings. */
const SAFE_PATH = /^[A-Za-z0-9._/+-]+$/;

export type AuditHostView = Pick<NodeAuditHost, 'processId' | 'nodePath' | 'kubelet'>;

function mapping(host: AuditHostView): ((p: string) => string) | undefined {
  if (host.nodePath('/etc/kubernetes') === '/etc/kubernetes') return undefined;
  return (p: string) => {
    const m = host.nodePath(p);
    if (!SAFE_PATH.test(m))
      throw new UserError(
        `the lab's node folder ${m} has characters kube-bench's shell commands cannot take`,
        'use a data folder without spaces or quotes (KUBE_SECLAB_DATA)',
      );
    return m;
  };
}

/** The command line of a process, its arguments space-separated (what `ps -ef` shows of it). */
const cmdlineOf = (pid: number) => (pid ? `xargs -0 echo < /proc/${pid}/cmdline` : 'true');
/**
 * Its ETCD_* variables, one VAR=value a line: what etcd's env-var tests read (kube-bench's own
 * audit_env reads `ps -C etcd`'s — any etcd's). Only those: a local component inherits the user's
 * environment, which has no business in an audit report.
 */
const environOf = (pid: number) => (pid ? `{ xargs -0 -n1 < /proc/${pid}/environ | grep -a ^ETCD_ || true; }` : 'true');

/** etcd's single-line process lookup: its checks also test ETCD_* variables, read from the same process (audit_env). */
const ETCD_AUDIT_LINE = /^(\s+)audit: "((?:\/bin\/)?ps -ef \| (?:\/bin\/)?grep \$(etcd)bin \| (?:\/bin\/)?grep -v grep)"\s*$/gm;

/** A benchmark YAML as it must run on this host: process lookups by pid, node paths mapped. */
export function rewriteBenchmark(text: string, host: AuditHostView): string {
  const pid = (comp: keyof typeof COMPONENT_BINS) => host.processId(COMPONENT_BINS[comp]);
  let out = text.replace(ETCD_AUDIT_LINE, (whole, indent: string, _lookup: string, comp: keyof typeof COMPONENT_BINS) => {
    const p = pid(comp);
    if (p === undefined) return whole;
    return `${indent}audit: "${cmdlineOf(p)}"\n${indent}audit_env: "${environOf(p)}"`;
  });
  out = out.replace(PS_LOOKUP, (whole, comp: keyof typeof COMPONENT_BINS | 'kubelet') => {
    if (comp === 'kubelet') return host.kubelet ? whole : 'true';
    const p = pid(comp);
    return p === undefined ? whole : cmdlineOf(p);
  });
  const map = mapping(host);
  if (map) out = out.replace(NODE_PATHS_IN_AUDITS, (p) => map(p));
  return out;
}

/** config.yaml with every node path mapped (the manifests, kubeconfigs, etcd's data folder kube-bench stats). */
export function rewriteConfig(text: string, host: AuditHostView): string {
  const map = mapping(host);
  if (!map) return text;
  return text.replace(NODE_PATHS_IN_CONFIG, () => map('/').replace(/\/?$/, '/'));
}

/** The shell lines of every audit, audit_config and audit_env of a benchmark file (inline or block scalars). */
export function auditCommands(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:-\s+)?(audit|audit_config|audit_env):\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    if (!/^[|>][-+]?\s*$/.test(m[3])) {
      out.push(m[3]);
      continue;
    }
    while (i + 1 < lines.length && (lines[i + 1].trim() === '' || lines[i + 1].search(/\S/) > m[1].length)) out.push(lines[++i].trim());
  }
  return out.filter(Boolean);
}

/** The benchmark files run where the control plane is (node.yaml only where a kubelet runs). */
const NODE_TARGET_FILES = ['master.yaml', 'etcd.yaml', 'controlplane.yaml'];

/**
 * Where processes are read by pid, a rewritten benchmark file must not look any process up another
 * way: no `ps` left, and every check testing an environment variable has its own audit_env (else
 * kube-bench generates one from `ps -C <bin>`: any process of that name). A new kube-bench version
 * with a lookup this file does not know is refused, never run against another lab's processes.
 */
export function assertPinned(text: string, file: string): void {
  const line = auditCommands(text).find((l) => /\b(?:ps\s+-|pgrep|pidof)\b/.test(l));
  if (line)
    throw new UserError(
      `kube-bench's ${file} looks up a process in a way kube-seclab cannot pin to this lab: ${line.trim()}`,
      'kube-seclab supports the kube-bench version tools/build-auditors.sh builds; rebuild it',
    );
  const entries = text.split(/^\s+- id: /m).slice(1);
  for (const e of entries) {
    if (/^\s+env: /m.test(e) && !/^\s+audit_env: /m.test(e))
      throw new UserError(
        `kube-bench's ${file}: check ${e.split('\n')[0].trim()} tests an environment variable of a process it would find by name`,
        'kube-seclab supports the kube-bench version tools/build-auditors.sh builds; rebuild it',
      );
  }
}

/** A copy of kube-bench's cfg/ (config.yaml and the benchmark's folder) rewritten for this host. */
export async function writeBenchConfig(cfgDir: string, host: AuditHostView, outDir: string): Promise<void> {
  await mkdir(join(outDir, CIS_BENCHMARK), { recursive: true });
  await writeFile(join(outDir, 'config.yaml'), rewriteConfig(await readFile(join(cfgDir, 'config.yaml'), 'utf8'), host));
  const byPid = host.processId('kube-apiserver') !== undefined;
  for (const f of await readdir(join(cfgDir, CIS_BENCHMARK))) {
    const src = join(cfgDir, CIS_BENCHMARK, f);
    if (!f.endsWith('.yaml')) {
      await copyFile(src, join(outDir, CIS_BENCHMARK, f));
      continue;
    }
    const text = rewriteBenchmark(await readFile(src, 'utf8'), host);
    if (byPid && NODE_TARGET_FILES.includes(f)) assertPinned(text, `${CIS_BENCHMARK}/${f}`);
    await writeFile(join(outDir, CIS_BENCHMARK, f), text);
  }
}

interface BenchCheck {
  test_number: string;
  test_desc: string;
  type: string;
  status: string;
  actual_value?: string;
  scored: boolean;
  IsMultiple?: boolean;
  reason?: string;
  expected_result?: string;
}
interface BenchOutput {
  Controls?: { id: string; node_type: string; tests: { section: string; results: BenchCheck[] | null }[] | null }[];
}

const STATUSES = new Set(['PASS', 'FAIL', 'WARN', 'INFO']);

/**
 * One offending line of a policies check ("**pod_name: x pod_namespace: y … is_compliant: false")
 * → the object it names: "y/x", "ClusterRole x", or the namespace alone.
 */
export function offendingObject(line: string): string | undefined {
  const field = (k: string) => new RegExp(`(?:^|[\\s*,])${k}:\\s*([^\\s,]+)`).exec(line)?.[1];
  const ns = field('pod_namespace') ?? field('role_namespace') ?? field('namespace');
  const name = field('pod_name') ?? field('role_name') ?? field('name');
  if (field('clusterrole_name')) return `ClusterRole ${field('clusterrole_name')}`;
  if (ns && name) return `${ns}/${name}`;
  if (ns) return ns;
  if (field('role_name') && field('role_binding')) return `ClusterRoleBinding ${field('role_name')}`;
  return name;
}

/** The per-object lines of a multi-value policies check, and whether each says it is not compliant. */
export function objectLines(actual: string): { line: string; offending: boolean }[] {
  return actual
    .split('\n')
    .map((l) => l.trim().replace(/^\*+/, ''))
    .filter((l) => /(?:^|\s|_)is_compliant:\s*\w+/.test(l) || /\bautomountServiceAccountToken:\s*\w+/.test(l))
    .map((line) => ({ line, offending: /(?:^|\s|_)is_compliant:\s*false\b/.test(line) || /\bautomountServiceAccountToken:\s*(?:notset|true)\b/.test(line) }));
}

/** kube-bench `--json` → one finding per check (per object, for multi-value policies checks). */
export function parseKubeBench(json: string): AuditFinding[] {
  let doc: BenchOutput;
  try {
    doc = JSON.parse(json) as BenchOutput;
  } catch (e) {
    throw new UserError(`kube-bench printed no JSON (${(e as Error).message})`, 'run it by hand with --json to see why');
  }
  const out: AuditFinding[] = [];
  for (const control of doc.Controls ?? []) {
    for (const group of control.tests ?? []) {
      for (const c of group.results ?? []) {
        const status = (STATUSES.has(c.status) ? c.status : 'WARN') as AuditFinding['status'];
        const manual = c.type === 'manual';
        const detail = (c.reason || (status === 'PASS' ? c.expected_result : c.actual_value) || c.test_desc || '').trim().split('\n')[0].slice(0, 240);
        const failed = status === 'FAIL' || (status === 'WARN' && !manual);
        if (control.node_type === 'policies' && c.IsMultiple) {
          // One verdict per object the check printed a line for (compliant ones too: "judged, fine").
          const lines = objectLines(c.actual_value ?? '');
          for (const l of lines)
            out.push({
              tool: 'kube-bench',
              id: c.test_number,
              object: offendingObject(l.line),
              status: l.offending ? status : 'PASS',
              raised: l.offending && failed,
              detail: l.line.slice(0, 240),
            });
          if (!lines.length)
            out.push({
              tool: 'kube-bench',
              id: c.test_number,
              status,
              raised: false,
              detail: `no object named (kube-bench ${status}: ${detail || 'no output'})`,
            });
          continue;
        }
        out.push({ tool: 'kube-bench', id: c.test_number, status, ...(manual ? { manual } : {}), raised: failed, detail });
      }
    }
  }
  return out;
}

const BENCH_FLAGS = (cfg: string, checks?: readonly string[]) => [
  '--benchmark',
  CIS_BENCHMARK,
  '--config-dir',
  cfg,
  '--config',
  `${cfg}/config.yaml`,
  '--json',
  '--logtostderr',
  '--noremediations',
  ...(checks ? ['--check', checks.join(',')] : []),
];

function benchError(where: string, r: { stdout: string; stderr: string; exitCode?: number }): UserError {
  const why =
    (r.stderr || r.stdout)
      .trim()
      .split('\n')
      .filter((l) => l && !/^Warning: Kubernetes version/.test(l))
      .pop() ?? `exit ${r.exitCode}`;
  return new UserError(`kube-bench failed ${where}: ${why}`, 'run `kube-seclab status`; rerun with KUBE_SECLAB_DEBUG=1 for the full output');
}

/** The node targets on the engine's control-plane node, this cluster's processes only. */
export async function runKubeBenchNode(tools: { binary: string; cfgDir: string }, host: NodeAuditHost, checks?: readonly string[]): Promise<AuditFinding[]> {
  const local = await mkdtemp(join(tmpdir(), 'kube-seclab-bench-'));
  try {
    await writeBenchConfig(tools.cfgDir, host, join(local, 'cfg'));
    const bin = await host.stage(tools.binary, 'kube-bench');
    const cfg = await host.stage(join(local, 'cfg'), 'cfg');
    const targets = ['master', 'etcd', 'controlplane', ...(host.kubelet ? ['node'] : [])];
    const r = await host.exec([bin, 'run', '--targets', targets.join(','), ...BENCH_FLAGS(cfg, checks)], { timeoutMs: 600_000 });
    if (!r.stdout.trim().startsWith('{')) throw benchError(host.where, r);
    if (!(await host.unchanged()))
      throw new UserError(
        `a control-plane component restarted while kube-bench read it (${host.where})`,
        'run `kube-seclab dev audit` again once `kube-seclab status` is healthy',
      );
    return parseKubeBench(r.stdout);
  } finally {
    await rm(local, { recursive: true, force: true });
  }
}

/** The policies target on this machine, through the lab's kubeconfig (kubectl and jq on PATH). */
export async function runKubeBenchPolicies(
  tools: { binary: string; cfgDir: string },
  kubeconfig: string,
  env: NodeJS.ProcessEnv = process.env,
  checks?: readonly string[],
): Promise<AuditFinding[]> {
  const r = await execa(tools.binary, ['run', '--targets', 'policies', ...BENCH_FLAGS(tools.cfgDir, checks)], {
    env: { ...env, KUBECONFIG: kubeconfig },
    extendEnv: false,
    reject: false,
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const res = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode };
  if (!res.stdout.trim().startsWith('{')) throw benchError('on the policies target', res);
  return parseKubeBench(res.stdout);
}
