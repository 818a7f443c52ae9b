import { execa } from 'execa';
import semver from 'semver';
import { dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { arch, freemem, totalmem } from 'node:os';
import { findKind, parseKindVersion, versionAtLeast, KIND_MIN_VERSION, KIND_VERSION } from '../engines/kind/tools.js';
import type { Lab } from '../core/lab.js';
import { missingBinaries, cacheBinDir } from '../engines/local/binaries.js';
import { K8S_VERSION } from '../engines/local/versions.js';

export interface DoctorItem {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  optional?: boolean;
}

async function version(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await execa(cmd, args, { timeout: 5000, reject: false });
    return r.exitCode === 0 ? (r.stdout || r.stderr).split('\n')[0].trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The kubectl on PATH: its client version (`v1.32.0`), or undefined when there is none. */
async function kubectlVersion(): Promise<string | undefined> {
  try {
    const r = await execa('kubectl', ['version', '--client', '-o', 'json'], { timeout: 5000, reject: false });
    if (r.exitCode !== 0) return undefined;
    return (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? 'unknown version';
  } catch {
    return undefined;
  }
}

/**
 * kubectl against the lab's API server: Kubernetes supports a kubectl one minor version older or
 * newer than the server; beyond that, commands a lesson gives may fail or quietly do less (fields
 * dropped, flags unknown). A warning with the fix: the matching release, or the lab's own kubectl.
 */
export function kubectlItem(client: string | undefined, server: string | undefined, labKubectl?: string): DoctorItem {
  const own = labKubectl ? `, or the lab's own: export PATH="${dirname(labKubectl)}:$PATH"` : '';
  if (!client) {
    return {
      name: 'kubectl',
      ok: false,
      optional: true,
      detail: 'not found',
      fix: `install kubectl${server ? ` ${server.replace(/\.\d+$/, '')}` : ''} to work on the lessons from your shell${own}`,
    };
  }
  const c = semver.coerce(client);
  const s = server ? semver.coerce(server) : null;
  if (!c || !s) return { name: 'kubectl', ok: true, detail: client };
  const skew = c.major === s.major ? c.minor - s.minor : Infinity * Math.sign(c.major - s.major);
  if (Math.abs(skew) <= 1) return { name: 'kubectl', ok: true, detail: `${client} (the lab's API server is ${server})` };
  const by = Number.isFinite(skew) ? `${Math.abs(skew)} minor versions` : 'a major version';
  return {
    name: 'kubectl',
    ok: false,
    optional: true,
    detail: `${client} is ${by} ${skew < 0 ? 'older' : 'newer'} than the lab's API server ${server}: beyond the supported skew of one minor version, lesson commands may fail or do less`,
    fix: `install kubectl v${s.major}.${s.minor} (https://kubernetes.io/releases/download/)${own}`,
  };
}

/** What a bug report needs: tools and versions, where things live, whether the cluster answers. */
export async function doctor(lab: Lab): Promise<{ items: DoctorItem[] }> {
  const items: DoctorItem[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  items.push({ name: 'node', ok: major >= 20, detail: process.version, fix: 'install Node.js 20 or newer' });
  const [go, docker, kind, kubectl] = await Promise.all([
    version('go', ['version']),
    version('docker', ['version', '--format', '{{.Server.Version}}']),
    (async () => {
      const k = findKind(lab.env, lab.paths.cache);
      return k ? version(k, ['version']) : undefined;
    })(),
    kubectlVersion(),
  ]);
  const kindVersion = kind ? parseKindVersion(kind) : undefined;
  const labKubectl = join(lab.env.KUBE_SECLAB_BIN_DIR || lab.env.KUBEBUILDER_ASSETS || cacheBinDir(lab.env), 'kubectl');
  // The existing engine's server is whatever cluster it was pointed at: no pinned version to hold kubectl to.
  items.push(kubectlItem(kubectl, lab.engineName === 'existing' ? undefined : K8S_VERSION, existsSync(labKubectl) ? labKubectl : undefined));
  items.push({
    name: 'docker',
    ok: !!docker,
    detail: docker ? `server ${docker}` : 'no Docker daemon reachable',
    fix: 'the kind engine needs Docker; the local engine does not',
    optional: true,
  });
  items.push({
    name: 'kind',
    ok: !!kindVersion && versionAtLeast(kindVersion, KIND_MIN_VERSION),
    optional: true,
    detail: kind ?? 'not found',
    fix: kind
      ? `kind ${KIND_MIN_VERSION} or newer enforces NetworkPolicy: upgrade to ${KIND_VERSION}`
      : `needed only for the kind engine: install kind ${KIND_VERSION}`,
  });
  if (lab.engineName === 'kind' || docker) items.push(...kindHostChecks());
  items.push({
    name: 'go',
    ok: !!go,
    detail: go ?? 'not found',
    fix: 'lets the lab build the Kubernetes binaries when it cannot download them',
    optional: true,
  });
  const binDir = lab.env.KUBE_SECLAB_BIN_DIR || lab.env.KUBEBUILDER_ASSETS || cacheBinDir(lab.env);
  const missing = existsSync(binDir) ? await missingBinaries(binDir) : ['all'];
  items.push({
    name: `binaries ${K8S_VERSION}`,
    ok: missing.length === 0,
    detail: missing.length ? `missing in ${binDir}: ${missing.join(', ')}` : binDir,
    fix: '`kube-seclab up --engine local` downloads or builds them',
    optional: lab.engineName === 'existing',
  });
  items.push({ name: 'lab data', ok: true, detail: lab.paths.data });
  items.push({ name: 'progress file', ok: true, detail: lab.paths.progress });
  items.push({
    name: 'lessons',
    ok: lab.catalogue.problems.length === 0,
    detail: `${lab.catalogue.lessons.length} loaded${lab.catalogue.problems.length ? `, ${lab.catalogue.problems.length} with problems` : ''}`,
  });
  const st = await lab.status();
  items.push({
    name: `cluster (${st.engine})`,
    ok: st.healthy,
    detail: st.healthy ? `healthy at ${st.endpoints.apiserver}` : (st.problems[0] ?? 'not healthy'),
    fix: '`kube-seclab up`',
  });
  return { items };
}

function readNumber(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** What a kind cluster needs of the host (kind's known issues: architecture, inotify limits, memory). */
export function kindHostChecks(o: { arch?: string; watches?: number; instances?: number; freeBytes?: number; totalBytes?: number } = {}): DoctorItem[] {
  const a = o.arch ?? arch();
  const watches = o.watches ?? readNumber('/proc/sys/fs/inotify/max_user_watches');
  const instances = o.instances ?? readNumber('/proc/sys/fs/inotify/max_user_instances');
  const free = o.freeBytes ?? freemem();
  const total = o.totalBytes ?? totalmem();
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const items: DoctorItem[] = [];
  items.push({
    name: 'cpu architecture',
    ok: a === 'x64' || a === 'arm64',
    detail: a,
    fix: 'kind node images exist for amd64 and arm64 only; use --engine local',
    optional: true,
  });
  if (watches !== undefined || instances !== undefined) {
    const ok = (watches ?? Infinity) >= 524288 && (instances ?? Infinity) >= 512;
    items.push({
      name: 'inotify limits',
      ok,
      optional: true,
      detail: `max_user_watches=${watches ?? '?'} max_user_instances=${instances ?? '?'}`,
      fix: 'kind needs more (pods fail with "too many open files"): sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512',
    });
  }
  items.push({
    name: 'memory',
    ok: free >= 2 * 2 ** 30,
    optional: true,
    detail: `${gib(free)} free of ${gib(total)}`,
    fix: 'a kind cluster needs about 2 GiB: close other programs or give Docker Desktop more memory',
  });
  return items;
}
