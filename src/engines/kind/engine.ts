import type { NodeNames } from '../../core/lessons/placeholders.js';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, readFile, writeFile } from 'node:fs/promises';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import type { CoreV1Api } from '@kubernetes/client-node';
import {
  COMPONENTS,
  samePodManifest,
  silentReporter,
  type Component,
  type ComponentHealth,
  type ControlPlaneAccess,
  type Engine,
  type EngineStatus,
  type NodeAccess,
  type NodeAuditHost,
  type Requirement,
  type TaskReporter,
} from '../../core/engine/index.js';
import { readyz, type TlsIdentity } from '../common/https.js';
import { adminCore, markAsLab, restoreBaseline, waitApiReady } from '../common/lifecycle.js';
import { kindConfigYaml, controlPlanePatches, publishedAddresses, KIND_CLUSTER_LABEL } from './config.js';
import { kindPreflight, run, findKind, type ToolResult } from './tools.js';
import { FreshRead } from './fresh-read.js';
import { kubeRouterPods } from './kubeRouter.js';
import { imageCatalogue, syncImages } from './images.js';
import { writeFileAtomic, readJson, sleep } from '../../core/fsutil.js';
import { LAB_REGISTRY } from '../../core/builds.js';
import { UserError, ClusterUnreachableError } from '../../core/errors.js';
import { packageRoot, type LabPaths } from '../../core/paths.js';

/** engines/kind/config.json: written once the kind cluster exists. */
export interface KindEngineConfig {
  version: 1;
  /** `creating` until kind created the cluster and the lab kept its baseline manifests. */
  phase?: 'creating' | 'ready';
  labId: string;
  clusterName: string;
  image?: string;
  createdAt: string;
}

interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt?: number };
  state: string;
  createdAt: string;
}

const MANIFESTS = '/etc/kubernetes/manifests';
const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';
const ETCDCTL_TLS = [
  '--cacert=/etc/kubernetes/pki/etcd/ca.crt',
  '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt',
  '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
];

/**
 * The kind engine: one kind cluster (a single control-plane node in Docker) with a real kubelet,
 * container runtime and pod network. The lab writes its own kind config (API server and every
 * port mapping on 127.0.0.1) and keeps its kubeconfig in its own file; node access (manifests,
 * node files, etcd) goes through `docker exec` on the node container.
 */
export class KindEngine implements Engine, ControlPlaneAccess, NodeAccess {
  readonly name = 'kind' as const;
  readonly kubeconfigPath: string;
  /** The control-plane node is the node container, reached through `docker exec`. */
  readonly controlPlane: ControlPlaneAccess = this;
  /** Pods run on that node, with a real kubelet and container runtime. */
  readonly node: NodeAccess = this;
  readonly clusterName: string;
  /** The control-plane node: its container name and its Kubernetes node name. */
  readonly nodeName: string;
  private readonly dir: string;

  constructor(
    private readonly paths: LabPaths,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.kubeconfigPath = paths.kubeconfig;
    this.clusterName = paths.clusterName;
    this.nodeName = `${this.clusterName}-control-plane`;
    this.dir = paths.engineDir('kind');
  }

  supports(_req: Requirement): boolean {
    return true;
  }

  private get configPath() {
    return join(this.dir, 'config.json');
  }
  private config(): KindEngineConfig | undefined {
    try {
      return JSON.parse(readFileSync(this.configPath, 'utf8')) as KindEngineConfig;
    } catch {
      return undefined;
    }
  }
  async labId(): Promise<string | undefined> {
    return this.config()?.labId;
  }

  /** The node image: --image / KUBE_SECLAB_KIND_IMAGE, else kind's own default. */
  private image(): string | undefined {
    return this.env.KUBE_SECLAB_KIND_IMAGE || undefined;
  }

  nodeNames(): NodeNames {
    return { node: this.nodeName, shell: `docker exec -it ${this.nodeName} bash`, root: '' };
  }

  nodeAccessHint(): string {
    return `open a shell on the control-plane node with \`docker exec -it ${this.nodeName} bash\` (static-pod manifests: ${MANIFESTS})`;
  }

  // --- docker plumbing ---------------------------------------------------------------------------

  private docker(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ToolResult> {
    return run('docker', args, opts);
  }

  /** Run a command on the control-plane node. */
  async nodeExec(cmd: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ToolResult> {
    return this.docker(['exec', ...(opts.input !== undefined ? ['-i'] : []), this.nodeName, ...cmd], opts);
  }

  /** What kube-router has in force on the node (see kubeRouter.ts); `undefined` for another plugin (kindnetd) or an unreadable table. */
  policyEnforcedPods(): Promise<Map<string, Set<string>> | undefined> {
    return this.enforced.get();
  }

  /**
   * Probes and attacks wait for the plugin side by side (a reading starts up to ten pods at once), each
   * polling every 150 ms: one `docker exec` of iptables-save at a time serves all of them, at most
   * every 150 ms (one waiter's old pace), instead of a stream of execs per waiter.
   */
  private readonly enforced = new FreshRead(async () => {
    const r = await this.nodeExec(['iptables-save', '-t', 'filter'], { timeoutMs: 15_000 });
    return r.ok ? kubeRouterPods(r.stdout) : undefined;
  }, 150);

  private async nodeExecOk(cmd: string[], what: string, opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.nodeExec(cmd, opts);
    if (!r.ok) {
      const st = await this.containerState();
      if (st !== 'running') throw new ClusterUnreachableError(`the kind node ${this.nodeName} is ${st ?? 'gone'} (${what})`);
      throw new UserError(`${what} failed on the node: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
    }
    return r.stdout;
  }

  /** "running", "exited", … or undefined when the node container does not exist. */
  private async containerState(): Promise<string | undefined> {
    const r = await this.docker(['inspect', '--format', '{{.State.Status}}', this.nodeName], { timeoutMs: 15_000 });
    return r.ok ? r.stdout.trim() : undefined;
  }

  private async inspectPorts(): Promise<Record<string, { HostIp?: string; HostPort?: string }[] | null> | undefined> {
    const r = await this.docker(['inspect', '--format', '{{json .NetworkSettings.Ports}}', this.nodeName], { timeoutMs: 15_000 });
    if (!r.ok) return undefined;
    try {
      return JSON.parse(r.stdout) ?? {};
    } catch {
      return undefined;
    }
  }

  private async crictlContainers(name?: string): Promise<CriContainer[]> {
    const r = await this.nodeExec(['crictl', 'ps', '-a', ...(name ? ['--name', `^${name}$`] : []), '-o', 'json'], { timeoutMs: 20_000 });
    if (!r.ok) return [];
    try {
      return (JSON.parse(r.stdout) as { containers?: CriContainer[] }).containers ?? [];
    } catch {
      return [];
    }
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  async up(r: TaskReporter = silentReporter, signal?: AbortSignal): Promise<void> {
    const { kind, version } = await r.task('Check Docker and kind', async () => kindPreflight(this.env, this.paths.cache));
    let cfg = this.config();
    const state = await this.containerState();
    if (cfg?.phase !== 'creating' && cfg && state) {
      if (state !== 'running') {
        await r.task(`Start the node container ${this.nodeName}`, async () => {
          const s = await this.docker(['start', this.nodeName], { timeoutMs: 120_000 });
          if (!s.ok)
            throw new UserError(
              `docker could not start ${this.nodeName}: ${s.stderr.trim().split('\n').pop()}`,
              '`kube-seclab down` then `kube-seclab up` recreates it',
            );
        });
      } else {
        r.info(`reusing the kind cluster ${this.clusterName}`);
      }
      await r.task('Wait for the API server', async () => {
        await this.waitApiReady(180_000, signal);
      });
      await this.saveBaseline(); // a cluster made by an earlier version may lack some
    } else {
      const leftovers = state ? [this.nodeName] : await this.clusterContainers();
      if (leftovers.length) {
        // Only a cluster this lab started creating is removed; a same-named one it has no record of is not the lab's to delete.
        if (!cfg) {
          throw new UserError(
            `a kind cluster named ${this.clusterName} already exists, and this lab did not create it`,
            `if it is a leftover of kube-seclab: \`kind delete cluster --name ${this.clusterName}\`; or give this lab another name with --name`,
          );
        }
        await r.task(`Remove the unfinished kind cluster ${this.clusterName}`, async () => {
          await this.kindDelete(kind);
        });
      }
      await rm(join(this.dir, 'baseline'), { recursive: true, force: true }); // a new cluster's originals only
      await mkdir(this.dir, { recursive: true });
      const cfgFile = join(this.dir, 'kind-config.yaml');
      const patchesDir = join(this.dir, 'kubeadm-patches');
      await rm(patchesDir, { recursive: true, force: true });
      await mkdir(patchesDir, { recursive: true });
      for (const [name, content] of Object.entries(controlPlanePatches())) await writeFile(join(patchesDir, name), content);
      await writeFile(cfgFile, kindConfigYaml({ clusterName: this.clusterName, patchesDir }));
      const image = this.image();
      cfg = { version: 1, phase: 'creating', labId: randomUUID(), clusterName: this.clusterName, image, createdAt: new Date().toISOString() };
      await writeFileAtomic(this.configPath, JSON.stringify(cfg, null, 2));
      await r.task(`Create the kind cluster ${this.clusterName} (kind ${version}${image ? `, image ${image}` : ''})`, async (update) => {
        const args = [
          'create',
          'cluster',
          '--name',
          this.clusterName,
          '--config',
          cfgFile,
          '--kubeconfig',
          this.kubeconfigPath,
          ...(image ? ['--image', image] : []),
        ];
        const sub = execa(kind, args, { reject: false, all: true, cancelSignal: signal, env: { KUBECONFIG: this.kubeconfigPath } });
        let tail: string[] = [];
        sub.all?.on('data', (d: Buffer) => {
          for (const line of d.toString().split(/\r?\n/)) {
            const l = line
              .replace(/\x1b\[[0-9;]*[a-zA-Z]/g, '')
              .replace(/^[\s•✓✗]+/u, '')
              .trim();
            if (!l) continue;
            tail = [...tail.slice(-19), l];
            update(l.slice(0, 100));
          }
        });
        const res = await sub;
        if (res.exitCode !== 0) {
          const why = tail.filter((l) => /error|fail/i.test(l)).pop() ?? tail.pop() ?? 'no output';
          throw new UserError(
            `kind could not create the cluster: ${why}`,
            `\`kube-seclab doctor\` checks Docker, kind, memory and inotify limits; \`kube-seclab up\` again retries from scratch`,
          );
        }
      });
      await r.task("Keep the node's original control-plane manifests (for lesson resets)", async () => {
        await this.saveBaseline();
      });
      cfg = { ...cfg, phase: 'ready' };
      await writeFileAtomic(this.configPath, JSON.stringify(cfg, null, 2));
    }
    await r.task("Mark the cluster as the lab's", async () => {
      await this.bootstrap(cfg!);
    });
    await r.task('Wait for the node and the pod network to be Ready', async (update) => {
      await this.waitSettled(240_000, update, signal);
    });
    // The lab's workload images are built and loaded per lesson, when it is set up (prepareImages).
  }

  async prepareImages(names: string[]): Promise<void> {
    const images = (await imageCatalogue(packageRoot)).filter((i) => names.includes(i.name));
    if (!images.length) return;
    await syncImages({ images, load: (refs) => this.loadImages(refs), nodeIds: await this.nodeImages(), update: () => {} });
  }

  /**
   * Each build gets its own tag (`:src-<hash of its sources>`), so a rebuild never moves a tag a
   * running pod was created from, and the same sources are loaded once (see loadImages).
   */
  async buildImage(o: { name: string; context: string; sourceHash: string; update: (s: string) => void }): Promise<{ digest: string }> {
    const ref = `${LAB_REGISTRY}/${o.name}:src-${o.sourceHash.slice(0, 16)}`;
    o.update(`docker build ${o.context}`);
    const b = await this.docker(['build', '-q', '--label', `dev.kube-seclab.source=${o.sourceHash.slice(0, 16)}`, '-t', ref, o.context], {
      timeoutMs: 900_000,
    });
    if (!b.ok) {
      const why =
        (b.stderr || b.stdout)
          .trim()
          .split('\n')
          .filter((l) => l && !/DEPRECATED|buildx|BuildKit|docs\.docker\.com/.test(l))
          .pop() ?? 'docker build failed';
      throw new UserError(
        `docker build of ${o.name} failed: ${why}`,
        `fix the Dockerfile or the sources in ${o.context} and build again (\`docker build ${o.context}\` shows every step)`,
      );
    }
    let digest = (await this.nodeImageDigests()).get(ref);
    if (!digest) {
      o.update(`load ${ref} into the node`);
      await this.loadImages([ref]);
      digest = (await this.nodeImageDigests()).get(ref)!;
    }
    return { digest };
  }

  /**
   * `docker save REFS | ctr -n k8s.io images import -` on the node: the images under their own names
   * only (no `import-<date>` names as `kind load` adds: the CRI can resolve an image through one of
   * those after a later import and then fail to create containers from it). Each is also named
   * `<repo>@sha256:<digest>`, so a pod that pins its image by digest — as the image-provenance
   * lesson teaches — runs from what is on the node, like after a registry pull.
   */
  private async loadImages(refs: string[]): Promise<void> {
    try {
      await execa('docker', ['save', ...refs], { timeout: 900_000, buffer: { stdout: false } }).pipe(
        'docker',
        ['exec', '-i', this.nodeName, 'ctr', '-n', 'k8s.io', 'images', 'import', '--all-platforms', '-'],
        { timeout: 900_000 },
      );
    } catch (e) {
      const st = await this.containerState();
      if (st !== 'running') throw new ClusterUnreachableError(`the kind node ${this.nodeName} is ${st ?? 'gone'} (loading images)`);
      const why = String((e as { stderr?: string }).stderr || (e as Error).message)
        .trim()
        .split('\n')
        .pop();
      throw new UserError(`could not load ${refs.join(', ')} into the node: ${why}`, '`kube-seclab status`; free disk space for Docker is the usual suspect');
    }
    const digests = await this.nodeImageDigests();
    const script: string[] = [];
    for (const ref of refs) {
      const digest = digests.get(ref);
      if (!digest) throw new UserError(`the node does not list ${ref} after loading it`, '`kube-seclab status`, then try again');
      const byDigest = `${ref.replace(/:[^:/]+$/, '')}@${digest}`;
      if (digests.get(byDigest) !== digest) script.push(`ctr -n k8s.io images tag --force ${ref} ${byDigest} >/dev/null`);
    }
    if (script.length) await this.nodeExecOk(['sh', '-c', script.join(' && ')], 'naming the lab images by digest', { timeoutMs: 120_000 });
  }

  async nodeImageId(ref: string): Promise<string | undefined> {
    const r = await this.nodeExec(['crictl', 'inspecti', '-o', 'json', ref], { timeoutMs: 30_000 });
    if (!r.ok) return undefined;
    try {
      return (JSON.parse(r.stdout) as { status?: { id?: string } }).status?.id;
    } catch {
      return undefined;
    }
  }

  /** Every image name containerd on the node holds, and the digest it holds it at (`ctr images ls`). */
  private async nodeImageDigests(): Promise<Map<string, string>> {
    const r = await this.nodeExec(['ctr', '-n', 'k8s.io', 'images', 'ls'], { timeoutMs: 30_000 });
    const out = new Map<string, string>();
    if (r.ok)
      for (const f of r.stdout
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/)))
        if (f[0] && f[2]?.startsWith('sha256:')) out.set(f[0], f[2]);
    return out;
  }

  /** The node's image references and their ids. */
  private async nodeImages(): Promise<Map<string, string>> {
    const r = await this.nodeExec(['crictl', 'images', '-o', 'json'], { timeoutMs: 30_000 });
    const out = new Map<string, string>();
    if (!r.ok) return out;
    try {
      for (const i of (JSON.parse(r.stdout) as { images?: { id: string; repoTags?: string[] }[] }).images ?? [])
        for (const t of i.repoTags ?? []) out.set(t, i.id);
    } catch {
      /* none */
    }
    return out;
  }

  private async clusterContainers(): Promise<string[]> {
    const r = await this.docker(['ps', '-a', '--filter', `label=${KIND_CLUSTER_LABEL}=${this.clusterName}`, '--format', '{{.Names}}'], { timeoutMs: 15_000 });
    return r.ok
      ? r.stdout
          .split('\n')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  }

  private async kindDelete(kind: string): Promise<void> {
    await run(kind, ['delete', 'cluster', '--name', this.clusterName, '--kubeconfig', this.kubeconfigPath], { timeoutMs: 180_000 });
    const left = await this.clusterContainers();
    if (left.length) await this.docker(['rm', '-f', '-v', ...left], { timeoutMs: 120_000 });
  }

  private baselinePath(c: Component) {
    return join(this.dir, 'baseline', `${c}.yaml`);
  }

  /** Keep the node's original control-plane manifests and kubelet config (only those not kept yet). */
  private async saveBaseline(): Promise<void> {
    await mkdir(join(this.dir, 'baseline'), { recursive: true });
    for (const c of COMPONENTS) if (!existsSync(this.baselinePath(c))) await writeFile(this.baselinePath(c), await this.readManifest(c));
    const kubelet = join(this.dir, 'baseline', 'kubelet-config.yaml');
    if (!existsSync(kubelet)) await writeFile(kubelet, await this.nodeExecOk(['cat', KUBELET_CONFIG], `reading ${KUBELET_CONFIG}`));
  }

  async restartKubelet(): Promise<void> {
    await this.nodeExecOk(['systemctl', 'restart', 'kubelet'], 'restarting the kubelet', { timeoutMs: 60_000 });
    const end = Date.now() + 90_000;
    let last = '';
    while (Date.now() < end) {
      // Any HTTP answer on :10250 means the kubelet serves again (its status code depends on the config under test).
      const r = await this.nodeExec(['curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', 'https://127.0.0.1:10250/healthz'], {
        timeoutMs: 10_000,
      });
      if (r.stdout.trim() && r.stdout.trim() !== '000') return;
      const st = await this.nodeExec(['systemctl', 'is-active', 'kubelet'], { timeoutMs: 10_000 });
      last = st.stdout.trim();
      if (last === 'failed') break;
      await sleep(500);
    }
    const log = await this.nodeExec(['sh', '-c', 'journalctl -u kubelet --no-pager -n 30 | grep -iE "error|fail" | tail -1'], { timeoutMs: 15_000 });
    throw new UserError(
      `the kubelet did not come back after a restart (${last || 'unknown'}): ${log.stdout.trim().slice(0, 300) || 'no error in its log'}`,
      `fix ${KUBELET_CONFIG} on the node (\`docker exec -it ${this.nodeName} bash\`), or \`kube-seclab reset\` the lesson`,
    );
  }

  async restoreKubeletConfig(): Promise<boolean> {
    const base = await readFile(join(this.dir, 'baseline', 'kubelet-config.yaml'), 'utf8');
    const cur = await this.readNodeFile(KUBELET_CONFIG);
    return restoreBaseline(base, cur ?? '', async (text) => {
      await this.writeNodeFile(KUBELET_CONFIG, text);
      await this.restartKubelet();
    });
  }

  private adminTls(): { server: string; tls: TlsIdentity } {
    const kc = parse(readFileSync(this.kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const b = (s: string) => Buffer.from(s, 'base64').toString();
    return {
      server: kc.clusters[0].cluster.server,
      tls: {
        ca: b(kc.clusters[0].cluster['certificate-authority-data']),
        cert: b(kc.users[0].user['client-certificate-data']),
        key: b(kc.users[0].user['client-key-data']),
      },
    };
  }

  private async apiReady(): Promise<{ ok: boolean; detail: string }> {
    if (!existsSync(this.kubeconfigPath)) return { ok: false, detail: 'no kubeconfig' };
    try {
      const { server, tls } = this.adminTls();
      return await readyz(server, tls, 3000);
    } catch (e) {
      return { ok: false, detail: `the lab kubeconfig is unreadable: ${(e as Error).message}` };
    }
  }

  private async waitApiReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await waitApiReady(() => this.apiReady(), { timeoutMs, signal, firstDelayMs: 500, maxDelayMs: 500 });
  }

  private core(): CoreV1Api {
    return adminCore(this.kubeconfigPath);
  }

  private async bootstrap(cfg: KindEngineConfig): Promise<void> {
    await markAsLab(this.core(), cfg.labId);
  }

  private async waitSettled(timeoutMs: number, update: (s: string) => void, signal?: AbortSignal): Promise<void> {
    const core = this.core();
    const end = Date.now() + timeoutMs;
    let why = '';
    while (Date.now() < end) {
      signal?.throwIfAborted();
      try {
        const node = await core.readNode({ name: this.nodeName });
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(
          () => true,
          () => false,
        );
        const dns = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.some((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        if (ready?.status === 'True' && sa && dns) return;
        why =
          ready?.status !== 'True'
            ? `the node is not Ready yet${ready?.message ? ` (${ready.message})` : ''}`
            : !sa
              ? 'the default ServiceAccount does not exist yet'
              : 'CoreDNS is not Ready yet';
        update(why);
      } catch (e) {
        why = (e as Error).message;
      }
      await sleep(1000);
    }
    throw new UserError(
      `the kind cluster did not settle in ${timeoutMs / 1000}s: ${why}`,
      `look inside with \`docker exec ${this.nodeName} crictl ps -a\`; \`kube-seclab down && kube-seclab up\` recreates it`,
    );
  }

  async down(r: TaskReporter = silentReporter): Promise<void> {
    const known = !!this.config() || (await this.clusterContainers()).length > 0;
    if (!known) {
      r.info('no kind cluster to remove');
      await rm(this.dir, { recursive: true, force: true });
      return;
    }
    await r.task(`Delete the kind cluster ${this.clusterName}`, async () => {
      const kind = findKind(this.env, this.paths.cache);
      if (kind) await this.kindDelete(kind);
      else {
        const left = await this.clusterContainers();
        if (left.length) await this.docker(['rm', '-f', '-v', ...left], { timeoutMs: 120_000 });
      }
      const left = await this.clusterContainers();
      if (left.length) throw new UserError(`containers still there after down: ${left.join(', ')}`, `remove them with: docker rm -f ${left.join(' ')}`);
    });
    await r.task("Remove the cluster's state and the lab kubeconfig", async () => {
      await rm(this.dir, { recursive: true, force: true });
      await rm(this.kubeconfigPath, { force: true });
    });
  }

  async status(): Promise<EngineStatus> {
    const cfg = this.config();
    const base: EngineStatus = {
      engine: 'kind',
      exists: !!cfg,
      running: false,
      healthy: false,
      kubeconfig: this.kubeconfigPath,
      endpoints: {},
      components: [],
      problems: [],
    };
    if (!cfg) {
      base.problems.push('no kind cluster: run `kube-seclab up --engine kind`');
      return base;
    }
    if (cfg.phase === 'creating') {
      base.problems.push('creating the kind cluster did not finish: `kube-seclab up` starts it over');
      return base;
    }
    const state = await this.containerState();
    if (!state) {
      base.problems.push(`the kind node container ${this.nodeName} is gone: \`kube-seclab up\` recreates the cluster`);
      return base;
    }
    base.running = state === 'running';
    if (!base.running) {
      base.problems.push(`the kind node container ${this.nodeName} is ${state}: \`kube-seclab up\` starts it`);
      return base;
    }
    try {
      base.endpoints.apiserver = this.adminTls().server;
    } catch {
      /* no kubeconfig */
    }
    base.endpoints.node = `docker exec -it ${this.nodeName} bash`;
    const api = await this.apiReady();
    const containers = await this.crictlContainers();
    const comps: ComponentHealth[] = [];
    for (const c of COMPONENTS) {
      const mine = containers.filter((x) => x.metadata.name === c).sort((a, b) => Number(BigInt(b.createdAt) - BigInt(a.createdAt)));
      const latest = mine[0];
      const running = latest?.state === 'CONTAINER_RUNNING';
      comps.push({
        name: c,
        phase: !latest ? 'missing' : running ? 'running' : latest.state.replace('CONTAINER_', '').toLowerCase(),
        healthy: running && (c !== 'kube-apiserver' || api.ok),
        restarts: latest?.metadata.attempt ?? 0,
        warnings: [],
        error: running ? undefined : latest ? await this.lastLogLine(latest.id) : undefined,
      });
    }
    base.components = comps;
    base.healthy = api.ok && comps.every((c) => c.healthy);
    if (!api.ok) base.problems.push(`the API server is not ready (${api.detail})`);
    for (const c of comps) if (!c.healthy) base.problems.push(`${c.name} is ${c.phase}${c.error ? `: ${c.error}` : ''}`);
    return base;
  }

  private async lastLogLine(containerId: string): Promise<string | undefined> {
    const r = await this.nodeExec(['crictl', 'logs', '--tail', '20', containerId], { timeoutMs: 15_000 });
    const lines = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return (lines.filter((l) => /^E\d{4}|error|fatal|invalid|unknown flag|failed/i.test(l)).pop() ?? lines.pop())?.slice(0, 300);
  }

  // --- node access -------------------------------------------------------------------------------

  async readManifest(c: Component): Promise<string> {
    return this.nodeExecOk(['cat', `${MANIFESTS}/${c}.yaml`], `reading ${MANIFESTS}/${c}.yaml`);
  }

  async writeManifest(c: Component, yaml: string, opts: { timeoutMs?: number; wait?: boolean } = {}): Promise<void> {
    const before = await this.readManifest(c).catch(() => '');
    const seen = new Set((await this.crictlContainers(c)).map((x) => x.id));
    // Written beside the manifests folder and renamed in: the kubelet never reads half a file.
    await this.nodeExecOk(
      ['sh', '-c', `cat > /etc/kubernetes/.kube-seclab-${c}.yaml && mv /etc/kubernetes/.kube-seclab-${c}.yaml ${MANIFESTS}/${c}.yaml`],
      `writing ${MANIFESTS}/${c}.yaml`,
      { input: yaml },
    );
    if (opts.wait === false || samePodManifest(before, yaml)) return;
    await this.waitComponent(c, seen, opts.timeoutMs ?? 180_000);
  }

  /** Wait until the kubelet runs `c` in a new container (not one of `seen`) and it is healthy. */
  private async waitComponent(c: Component, seen: Set<string>, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    let started = false;
    while (Date.now() < end) {
      const fresh = (await this.crictlContainers(c)).filter((x) => !seen.has(x.id)).sort((a, b) => Number(BigInt(b.createdAt) - BigInt(a.createdAt)));
      const latest = fresh[0];
      if (latest) {
        started = true;
        if (latest.state === 'CONTAINER_RUNNING') {
          if (c === 'kube-controller-manager' || c === 'kube-scheduler') return;
          if (c === 'etcd') {
            // etcd is judged by its own health (as the local engine does); the API server then
            // reconnects by itself — unless the new etcd settings lock it out, which is the lesson's to judge.
            const h = await this.nodeExec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', 'http://127.0.0.1:2381/readyz'], {
              timeoutMs: 10_000,
            });
            if (h.stdout.trim() === '200') {
              await this.waitApiReady(Math.min(90_000, Math.max(1000, end - Date.now()))).catch(() => {});
              return;
            }
          } else {
            const a = await this.apiReady();
            if (a.ok) return;
          }
        } else if (latest.state === 'CONTAINER_EXITED' && fresh.length >= 2) {
          const why = await this.lastLogLine(latest.id);
          throw new UserError(
            `${c} does not start from its manifest: ${why ?? 'it exits'}`,
            `fix ${MANIFESTS}/${c}.yaml on the node, or \`kube-seclab reset\` the lesson to restore it`,
          );
        }
      }
      await sleep(1000);
    }
    throw new UserError(
      `${c} did not become healthy within ${timeoutMs / 1000}s${started ? '' : ' (the kubelet did not pick up the manifest change)'}`,
      'see `kube-seclab status`',
    );
  }

  async apiServerDown(): Promise<{ state: 'starting' } | { state: 'stuck'; why: string } | undefined> {
    if ((await this.containerState()) !== 'running') return undefined;
    const newest = (name: Component) => this.crictlContainers(name).then((cs) => cs.sort((a, b) => Number(BigInt(b.createdAt) - BigInt(a.createdAt)))[0]);
    const [etcd, api] = await Promise.all([newest('etcd'), newest('kube-apiserver')]);
    // etcd refusing connections from the API server's address (127.0.0.1) for want of a client
    // certificate, lately: nothing the kubelet restarts changes that.
    if (etcd?.state === 'CONTAINER_RUNNING') {
      const lockedOut = `crictl logs --since 60s ${etcd.id} 2>&1 | grep 'rejected connection on client endpoint' | grep '"remote-addr":"127\\.0\\.0\\.1:' | grep -q certificate`;
      if ((await this.nodeExec(['sh', '-c', lockedOut], { timeoutMs: 15_000 })).ok) {
        return {
          state: 'stuck',
          why: 'etcd refuses the API server: it asks for a client certificate the API server does not show (--etcd-certfile/--etcd-keyfile)',
        };
      }
    }
    // Exited again after the kubelet restarted it more than once: its manifest does not run.
    if (api && api.state === 'CONTAINER_EXITED' && (api.metadata.attempt ?? 0) >= 2) {
      return { state: 'stuck', why: `kube-apiserver keeps exiting (restarted ${api.metadata.attempt} times): ${(await this.lastLogLine(api.id)) ?? 'no log'}` };
    }
    return { state: 'starting' };
  }

  async restoreManifest(c: Component, opts: { timeoutMs?: number; unlessSameAfter?: (manifest: string) => string } = {}): Promise<boolean> {
    const base = await readFile(this.baselinePath(c), 'utf8');
    const cur = await this.readManifest(c).catch(() => '');
    return restoreBaseline(base, cur, (text) => this.writeManifest(c, text, { timeoutMs: opts.timeoutMs }), opts.unlessSameAfter);
  }

  async readNodeFile(path: string): Promise<string | undefined> {
    const r = await this.nodeExec(['cat', path]);
    return r.ok ? r.stdout : undefined;
  }

  async writeNodeFile(path: string, content: string): Promise<void> {
    if (!path.startsWith('/')) throw new UserError(`node paths are absolute (got ${path})`);
    await this.nodeExecOk(
      [
        'sh',
        '-c',
        'mkdir -p "$(dirname "$1")" && t="$(dirname "$1")/.$(basename "$1").kube-seclab" && cat > "$t" && chmod 600 "$t" && mv "$t" "$1"',
        'sh',
        path,
      ],
      `writing ${path}`,
      { input: content },
    );
  }

  async removeNodeFile(path: string): Promise<void> {
    if (!path.startsWith('/')) throw new UserError(`node paths are absolute (got ${path})`);
    await this.nodeExecOk(['rm', '-rf', path], `removing ${path}`);
  }

  async listeningAddresses(c: Component): Promise<string[]> {
    // On the learner's machine a node's component is reachable only where Docker publishes it.
    const port = c === 'kube-apiserver' ? 6443 : c === 'etcd' ? 2379 : c === 'kube-controller-manager' ? 10257 : 10259;
    return publishedAddresses(await this.inspectPorts(), port);
  }

  /** Every host address the node publishes (the api-server-exposure lesson reads all of them). */
  async publishedAddresses(): Promise<string[]> {
    return publishedAddresses(await this.inspectPorts());
  }

  async etcdGet(key: string): Promise<Buffer | undefined> {
    const etcd = (await this.crictlContainers('etcd')).find((x) => x.state === 'CONTAINER_RUNNING');
    if (!etcd) throw new ClusterUnreachableError('etcd is not running on the node');
    const r = await this.nodeExec(['crictl', 'exec', etcd.id, 'etcdctl', '--endpoints=https://127.0.0.1:2379', ...ETCDCTL_TLS, 'get', key, '-w', 'json'], {
      timeoutMs: 30_000,
    });
    if (!r.ok) throw new ClusterUnreachableError(`etcd: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
    const kv = (JSON.parse(r.stdout) as { kvs?: { value?: string }[] }).kvs?.[0];
    return kv ? Buffer.from(kv.value ?? '', 'base64') : undefined;
  }

  /**
   * kube-bench inside the control-plane node container: its process table holds only this
   * cluster's components (its own pid namespace), its files are the node's, and kubectl there
   * talks to this cluster as its admin (/etc/kubernetes/admin.conf).
   */
  async nodeAuditHost(): Promise<NodeAuditHost> {
    if ((await this.containerState()) !== 'running') throw new ClusterUnreachableError(`the kind node ${this.nodeName} is not running`);
    // Not under /tmp: a kind node's /tmp is a tmpfs, which `docker cp` cannot write into.
    const dir = `/opt/kube-seclab-audit-${randomUUID().slice(0, 8)}`;
    const running = async () =>
      (await this.crictlContainers())
        .filter((c) => c.state === 'CONTAINER_RUNNING' && (COMPONENTS as readonly string[]).includes(c.metadata.name))
        .map((c) => c.id)
        .sort()
        .join(',');
    const before = await running();
    return {
      where: `inside the node container ${this.nodeName}`,
      processId: () => undefined,
      nodePath: (p) => p,
      kubelet: true,
      stage: async (localPath, name) => {
        await this.nodeExecOk(['mkdir', '-p', dir], `creating ${dir}`);
        const r = await this.docker(['cp', localPath, `${this.nodeName}:${dir}/${name}`], { timeoutMs: 120_000 });
        if (!r.ok) throw new UserError(`docker cp ${localPath} into ${this.nodeName} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
        return `${dir}/${name}`;
      },
      exec: (argv, opts = {}) =>
        this.docker(['exec', '-e', 'KUBECONFIG=/etc/kubernetes/admin.conf', this.nodeName, ...argv], { timeoutMs: opts.timeoutMs ?? 300_000 }),
      unchanged: async () => (await running()) === before,
      dispose: async () => {
        await this.nodeExec(['rm', '-rf', dir]);
      },
    };
  }

  watchControlPlane(onChange: () => void, signal: AbortSignal): void {
    // Polled through `docker exec`: the node's files and container set, logs left out.
    const script =
      'find /etc/kubernetes -path /etc/kubernetes/pki -prune -o -type f ! -name "*.log" ! -name ".*" -printf "%p %T@ %s\\n" 2>/dev/null | sort; crictl ps -q 2>/dev/null | sort';
    let last: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      if (signal.aborted) return;
      const r = await this.nodeExec(['sh', '-c', script], { timeoutMs: 15_000 });
      if (r.ok) {
        if (last !== undefined && r.stdout !== last) onChange();
        last = r.stdout;
      }
      if (!signal.aborted) timer = setTimeout(() => void tick(), 1500);
    };
    void tick();
    signal.addEventListener(
      'abort',
      () => {
        if (timer) clearTimeout(timer);
      },
      { once: true },
    );
  }
}

/** Saved engine state without the class (status of other labs, doctor). */
export async function kindEngineConfig(dir: string): Promise<KindEngineConfig | undefined> {
  return readJson<KindEngineConfig>(join(dir, 'config.json')).catch(() => undefined);
}
