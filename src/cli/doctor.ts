import { execa } from 'execa';
import semver from 'semver';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Lab } from '../core/lab.js';
import { ENGINES } from '../core/engine/index.js';
import { K8S_VERSION, localBinDir } from '../engines/index.js';

export interface DoctorItem {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  optional?: boolean;
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

/**
 * What a bug report needs: Node.js and kubectl, what every engine needs of this machine (each
 * engine's own requirements, as the TUI's preflight lists them, checked deep: versions and a
 * daemon that answers), where things live, whether the cluster answers.
 */
export async function doctor(lab: Lab): Promise<{ items: DoctorItem[] }> {
  const items: DoctorItem[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  items.push({ name: 'node', ok: major >= 20, detail: process.version, fix: 'install Node.js 20 or newer' });
  const ctx = { env: lab.env, cacheDir: lab.paths.cache, inUse: lab.engineName };
  const reqs = ENGINES.flatMap((e) => lab.engines.requirements(e, ctx));
  const [kubectl, ...results] = await Promise.all([kubectlVersion(), ...reqs.map((r) => r.check({ deep: true }))]);
  const labKubectl = join(localBinDir(lab.env).dir, 'kubectl');
  // The existing engine's server is whatever cluster it was pointed at: no pinned version to hold kubectl to.
  items.push(kubectlItem(kubectl, lab.engineName === 'existing' ? undefined : K8S_VERSION, existsSync(labKubectl) ? labKubectl : undefined));
  reqs.forEach((r, i) => items.push({ name: r.name, ...results[i] }));
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
