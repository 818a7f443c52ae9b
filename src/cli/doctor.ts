import { execa } from 'execa';
import { existsSync } from 'node:fs';
import type { Lab } from '../core/lab.js';
import { missingBinaries, cacheBinDir } from '../engines/local/binaries.js';
import { K8S_VERSION } from '../engines/local/versions.js';

export interface DoctorItem { name: string; ok: boolean; detail: string; fix?: string; optional?: boolean }

async function version(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await execa(cmd, args, { timeout: 5000, reject: false });
    return r.exitCode === 0 ? (r.stdout || r.stderr).split('\n')[0].trim() : undefined;
  } catch { return undefined; }
}

/** What a bug report needs: tools and versions, where things live, whether the cluster answers. */
export async function doctor(lab: Lab): Promise<{ items: DoctorItem[] }> {
  const items: DoctorItem[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  items.push({ name: 'node', ok: major >= 20, detail: process.version, fix: 'install Node.js 20 or newer' });
  const [go, docker, kind, kubectl] = await Promise.all([
    version('go', ['version']), version('docker', ['version', '--format', '{{.Server.Version}}']), version('kind', ['version']), version('kubectl', ['version', '--client']),
  ]);
  items.push({ name: 'kubectl', ok: !!kubectl, detail: kubectl ?? 'not found', fix: 'install kubectl to work on the lessons from your shell', optional: true });
  items.push({ name: 'docker', ok: !!docker, detail: docker ? `server ${docker}` : 'no Docker daemon reachable', fix: 'the kind engine needs Docker; the local engine does not', optional: true });
  items.push({ name: 'kind', ok: !!kind, detail: kind ?? 'not found', fix: 'needed only for the kind engine', optional: true });
  items.push({ name: 'go', ok: !!go, detail: go ?? 'not found', fix: 'lets the lab build the Kubernetes binaries when it cannot download them', optional: true });
  const binDir = lab.env.KUBE_SECLAB_BIN_DIR || lab.env.KUBEBUILDER_ASSETS || cacheBinDir(lab.env);
  const missing = existsSync(binDir) ? await missingBinaries(binDir) : ['all'];
  items.push({ name: `binaries ${K8S_VERSION}`, ok: missing.length === 0, detail: missing.length ? `missing in ${binDir}: ${missing.join(', ')}` : binDir, fix: '`kube-seclab up --engine local` downloads or builds them' });
  items.push({ name: 'lab data', ok: true, detail: lab.paths.data });
  items.push({ name: 'progress file', ok: true, detail: lab.paths.progress });
  items.push({ name: 'lessons', ok: lab.catalogue.problems.length === 0, detail: `${lab.catalogue.lessons.length} loaded${lab.catalogue.problems.length ? `, ${lab.catalogue.problems.length} with problems` : ''}` });
  const st = await lab.engine.status();
  items.push({ name: `cluster (${st.engine})`, ok: st.healthy, detail: st.healthy ? `healthy at ${st.endpoints.apiserver}` : st.problems[0] ?? 'not healthy', fix: '`kube-seclab up`' });
  return { items };
}
