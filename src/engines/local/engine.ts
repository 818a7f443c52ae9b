import type { NodeNames } from '../../core/lessons/placeholders.js';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { createServer } from 'node:net';
import { randomUUID, createHash } from 'node:crypto';
import { mkdir, readFile, writeFile, rm, readdir } from 'node:fs/promises';
import { openSync, closeSync, existsSync, readFileSync, readlinkSync, watch, type FSWatcher } from 'node:fs';
import { join, dirname, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import {
  COMPONENTS,
  silentReporter,
  type Component,
  type ControlPlaneAccess,
  type Engine,
  type EngineStatus,
  type NodeAuditHost,
  type Requirement,
  type TaskReporter,
} from '../../core/engine/index.js';
import { defaultManifests, type Ports } from './manifests.js';
import { API_CLIENTS, localLayout, type LocalEngineConfig, type SupervisorState, type ComponentName } from './layout.js';
import type { KeyPairPem } from './pki.js';
import { KWOK_CONFIG, KWOK_NODE_ANNOTATION } from './kwok-stages.js';
import { httpsRequest, readyz } from '../common/https.js';
import { MANAGED_BY, adminCore, createIfAbsent, markAsLab, restoreBaseline, waitApiReady } from '../common/lifecycle.js';
import { writeFileAtomic, readJson, sleep } from '../../core/fsutil.js';
import { UserError, ClusterUnreachableError } from '../../core/errors.js';
import { packageRoot, type LabPaths } from '../../core/paths.js';

export const LOCAL_NODE_NAME = 'kube-seclab-node';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Our processes are the ones whose command line mentions this engine's directory. */
async function ownProcesses(dir: string): Promise<number[]> {
  if (process.platform !== 'linux') return [];
  const out: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(dir + '/') || cmd.endsWith(dir + '\0')) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** "0100007F:1A0B" (a /proc/net/tcp{,6} address: hex, each 32-bit word in host byte order) → "127.0.0.1:6667", "[::1]:6443". */
export function procNetAddress(hex: string): string {
  const [ip, port] = hex.split(':');
  const bytes: number[] = [];
  for (let w = 0; w < ip.length; w += 8) {
    const word = ip
      .slice(w, w + 8)
      .match(/../g)!
      .map((b) => parseInt(b, 16));
    bytes.push(...(LITTLE_ENDIAN ? word.reverse() : word));
  }
  const p = parseInt(port, 16);
  if (bytes.length === 4) return `${bytes.join('.')}:${p}`;
  const v4mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4mapped) return `[::ffff:${bytes.slice(12).join('.')}]:${p}`;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return `${new URL(`http://[${groups.join(':')}]/`).hostname}:${p}`; // URL compresses it: [::1]
}
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The LISTEN rows (state 0A) of /proc/net/tcp{,6} text whose socket inode is one of `inodes`. */
export function procNetListening(text: string, inodes: Set<string>): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length > 9 && c[3] === '0A' && inodes.has(c[9]))
    .map((c) => procNetAddress(c[1]));
}

export function kubeconfigYaml(server: string, caPem: string, user: string, id: KeyPairPem, context = 'kube-seclab'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(id.cert), 'client-key-data': b64(id.key) } }],
    contexts: [{ name: context, context: { cluster: context, user } }],
    'current-context': context,
  });
}

/**
 * The Docker-free engine: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
 * (one fake node) as processes on 127.0.0.1, supervised by a small detached process that treats
 * node/etc/kubernetes/manifests like a kubelet does.
 */
/** The longest pause between two readiness polls while a cluster is brought up (they start at 150-200 ms). */
const PROVISIONING_POLL_MAX_MS = 1000;

export class LocalEngine implements Engine, ControlPlaneAccess {
  readonly name = 'local' as const;
  readonly kubeconfigPath: string;
  readonly L;
  /** The control-plane node is a folder and processes on this machine. */
  readonly controlPlane: ControlPlaneAccess = this;

  constructor(
    paths: LabPaths,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.kubeconfigPath = paths.kubeconfig;
    this.L = localLayout(paths.engineDir('local'));
  }

  supports(req: Requirement): boolean {
    return req === 'api';
  }

  private config(): LocalEngineConfig | undefined {
    try {
      return JSON.parse(readFileSync(this.L.config, 'utf8')) as LocalEngineConfig;
    } catch {
      return undefined;
    }
  }
  private async state(): Promise<SupervisorState | undefined> {
    return readJson<SupervisorState>(this.L.state).catch(() => undefined);
  }

  async labId(): Promise<string | undefined> {
    return this.config()?.labId;
  }

  watchControlPlane(onChange: () => void, signal: AbortSignal): void {
    const watchers: FSWatcher[] = [];
    const add = (dir: string, recursive: boolean) => {
      // Logs (an audit log kept under /etc/kubernetes) change all the time and say nothing about the set-up.
      try {
        watchers.push(
          watch(dir, { recursive }, (_e, file) => {
            if (!String(file ?? '').endsWith('.log')) onChange();
          }),
        );
      } catch {
        /* not there (yet) */
      }
    };
    add(join(this.L.node, 'etc', 'kubernetes'), true); // manifests, encryption/audit configs
    add(this.L.dir, false); // state.json: the supervisor restarted or re-probed a component
    signal.addEventListener(
      'abort',
      () => {
        for (const w of watchers) w.close();
      },
      { once: true },
    );
  }

  nodeNames(): NodeNames {
    return { node: LOCAL_NODE_NAME, shell: `cd ${this.L.node}`, root: this.L.node };
  }

  nodeAccessHint(): string {
    return `the control-plane node's files are under ${this.L.node} (its /etc/kubernetes is ${join(this.L.node, 'etc', 'kubernetes')})`;
  }

  private nodePath(p: string): string {
    if (!p.startsWith('/')) throw new UserError(`node paths are absolute (got ${p})`);
    return join(this.L.node, posix.normalize(p));
  }

  async up(r: TaskReporter = silentReporter, signal?: AbortSignal): Promise<void> {
    let cfg = this.config();
    if (cfg) {
      const st = await this.status();
      if (st.healthy) {
        r.info(`reusing the running local cluster (${st.endpoints.apiserver})`);
        // An earlier `up` may have been interrupted before it marked the cluster: finish that, idempotently.
        await this.bootstrap(cfg);
        return;
      }
      if (!pidAlive((await this.state())?.supervisorPid)) {
        await r.task('Clean up what a previous run left behind', async () => {
          await this.killOwn();
        });
        await r.task('Start the control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)', async () => {
          await this.startSupervisor();
        });
      }
    } else {
      // Loaded only when a cluster is created: downloads, builds and certificates cost memory the lab does not need later.
      const { resolveBinaries } = await import('./binaries.js');
      const bins = await r.task('Find the Kubernetes binaries', async (update) =>
        resolveBinaries({ env: this.env, onProgress: update, onInfo: (m) => r.info(m) }),
      );
      signal?.throwIfAborted();
      cfg = await r.task('Generate certificates, kubeconfigs and static-pod manifests', async () => this.create(bins.dir));
      signal?.throwIfAborted();
      await r.task('Start the control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)', async () => {
        await this.startSupervisor();
      });
    }
    // While provisioning the polls back off to once a second: each is a TLS handshake or three in the
    // process that draws the screen (the TUI's CPU while waiting, bench:tui); ready is seen <= 1 s late.
    await r.task('Wait for the API server', async () => {
      await this.waitApiReady(60_000, signal, PROVISIONING_POLL_MAX_MS);
    });
    await r.task("Mark the cluster as the lab's and register the fake node", async () => {
      await this.bootstrap(cfg!);
    });
    await r.task('Wait for the node and the controllers', async () => {
      await this.waitSettled(60_000, signal);
    });
  }

  private async create(binDir: string): Promise<LocalEngineConfig> {
    await rm(this.L.dir, { recursive: true, force: true });
    await mkdir(this.L.manifests, { recursive: true });
    await mkdir(this.L.baseline, { recursive: true });
    await mkdir(this.L.logs, { recursive: true });
    await mkdir(join(this.L.node, 'var', 'lib', 'etcd'), { recursive: true, mode: 0o700 });
    await mkdir(join(this.L.node, 'etc', 'ssl', 'certs'), { recursive: true });
    const used = new Set<number>();
    const port = async () => {
      let p;
      do {
        p = await freePort();
      } while (used.has(p));
      used.add(p);
      return p;
    };
    const ports: Ports = {
      etcdClient: await port(),
      etcdPeer: await port(),
      apiserver: await port(),
      controllerManager: await port(),
      scheduler: await port(),
    };
    const { generatePki, writePki } = await import('./pki.js');
    const pki = await generatePki();
    await writePki(this.L.pki, pki);
    const server = `https://127.0.0.1:${ports.apiserver}`;
    const kc = this.L.kubeconfigs;
    await writeFile(join(kc, 'admin.conf'), kubeconfigYaml(server, pki.caCert, 'kubernetes-admin', pki.admin), { mode: 0o600 });
    await writeFile(join(kc, 'controller-manager.conf'), kubeconfigYaml(server, pki.caCert, 'system:kube-controller-manager', pki.controllerManager), {
      mode: 0o600,
    });
    await writeFile(join(kc, 'scheduler.conf'), kubeconfigYaml(server, pki.caCert, 'system:kube-scheduler', pki.scheduler), { mode: 0o600 });
    await writeFile(join(kc, 'kwok.conf'), kubeconfigYaml(server, pki.caCert, 'kwok', pki.kwok), { mode: 0o600 });
    await writeFile(this.L.kwokConfig, KWOK_CONFIG);
    for (const [c, text] of Object.entries(defaultManifests(ports))) {
      await writeFile(join(this.L.baseline, `${c}.yaml`), text);
      await writeFile(join(this.L.manifests, `${c}.yaml`), text);
    }
    await writeFileAtomic(this.kubeconfigPath, kubeconfigYaml(server, pki.caCert, 'kube-seclab-admin', pki.admin), 0o600);
    const cfg: LocalEngineConfig = { version: 1, labId: randomUUID(), binDir, ports, createdAt: new Date().toISOString() };
    await writeFileAtomic(this.L.config, JSON.stringify(cfg, null, 2));
    return cfg;
  }

  private async startSupervisor(): Promise<void> {
    await rm(this.L.state, { force: true });
    await mkdir(this.L.logs, { recursive: true });
    const here = fileURLToPath(import.meta.url);
    const ts = here.endsWith('.ts');
    // From the bundle (dist/bundle) or tsc output (dist/engines/local) alike, the supervisor is tsc's file.
    const entry = ts ? join(dirname(here), 'supervisor-main.ts') : join(packageRoot, 'dist', 'engines', 'local', 'supervisor-main.js');
    // From sources (tests, `npx tsx`), run the supervisor through tsx, resolved from the package root.
    const args = ts ? ['--import', 'tsx', entry, this.L.dir] : [entry, this.L.dir];
    const fd = openSync(this.L.supervisorLog, 'a');
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], cwd: ts ? packageRoot : this.L.dir });
    closeSync(fd);
    child.unref();
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      if ((await this.state())?.supervisorPid === child.pid) return;
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    throw new UserError(
      `the local engine's supervisor did not start (see ${this.L.supervisorLog})`,
      'run `kube-seclab doctor` and include that log in a bug report',
    );
  }

  private adminTls() {
    const kc = readFileSync(join(this.L.pki, 'ca.crt'), 'utf8');
    const kubeconfig = readFileSync(join(this.L.kubeconfigs, 'admin.conf'), 'utf8');
    const get = (k: string) => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(kubeconfig)![1], 'base64').toString();
    return { ca: kc, cert: get('client-certificate-data'), key: get('client-key-data') };
  }

  private async apiReady(): Promise<{ ok: boolean; detail: string }> {
    const cfg = this.config();
    if (!cfg) return { ok: false, detail: 'no cluster' };
    let tls;
    try {
      tls = this.adminTls();
    } catch (e) {
      return { ok: false, detail: `the cluster's certificates are unreadable: ${(e as Error).message}` };
    }
    return readyz(`https://127.0.0.1:${cfg.ports.apiserver}`, tls, 2000);
  }

  private async waitApiReady(timeoutMs: number, signal?: AbortSignal, pollMaxMs = 150): Promise<void> {
    await waitApiReady(() => this.apiReady(), {
      timeoutMs,
      signal,
      firstDelayMs: 150,
      maxDelayMs: pollMaxMs,
      // A component that keeps failing says why better than readyz; a supervisor gone ends the wait.
      whileDown: async (detail) => {
        const st = await this.state();
        const broken =
          st &&
          (['etcd', 'kube-apiserver'] as const).map((c) => st.components[c]).find((c) => (c.phase === 'crashloop' && c.restarts >= 2) || c.phase === 'invalid');
        if (st && !pidAlive(st.supervisorPid)) throw new UserError(`the local engine's supervisor exited (see ${this.L.supervisorLog})`);
        return broken ? (broken.error ?? detail) : detail;
      },
    });
  }

  /** The lab's ownership marker and the fake node, created with the admin identity on a cluster we just made. */
  private async bootstrap(cfg: LocalEngineConfig): Promise<void> {
    const core = adminCore(this.kubeconfigPath);
    await markAsLab(core, cfg.labId);
    const node = {
      metadata: {
        name: LOCAL_NODE_NAME,
        labels: { 'kubernetes.io/hostname': LOCAL_NODE_NAME, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok', ...MANAGED_BY },
        annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      },
      spec: {},
    };
    await createIfAbsent(() => core.createNode({ body: node }));
  }

  private async waitSettled(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const core = adminCore(this.kubeconfigPath);
    const end = Date.now() + timeoutMs;
    let why = '';
    let delay = 200;
    while (Date.now() < end) {
      signal?.throwIfAborted();
      try {
        const node = await core.readNode({ name: LOCAL_NODE_NAME });
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        // The ServiceAccount controller must be up, or pods cannot be created in new namespaces.
        const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(
          () => true,
          () => false,
        );
        if (ready && sa && (await this.status()).healthy) return;
        why = !ready
          ? 'the fake node is not Ready yet (kwok)'
          : !sa
            ? 'the default ServiceAccount does not exist yet (controller-manager)'
            : ((await this.status()).problems[0] ?? 'a component is not healthy yet');
      } catch (e) {
        why = (e as Error).message;
      }
      await sleep(delay);
      delay = Math.min(PROVISIONING_POLL_MAX_MS, Math.round(delay * 1.25));
    }
    throw new UserError(`the cluster did not settle in ${timeoutMs / 1000}s: ${why}`, 'see `kube-seclab status` for each component');
  }

  private async killOwn(): Promise<void> {
    const st = await this.state();
    const pids = new Set<number>(await ownProcesses(this.L.dir));
    if (st) {
      if (pidAlive(st.supervisorPid)) pids.add(st.supervisorPid);
      for (const c of Object.values(st.components)) if (c.pid && pidAlive(c.pid)) pids.add(c.pid);
    }
    for (const p of pids) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    const end = Date.now() + 10_000;
    while (Date.now() < end && [...pids].some(pidAlive)) await sleep(100);
    for (const p of pids)
      if (pidAlive(p)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    while ([...pids].some(pidAlive) && Date.now() < end + 5000) await sleep(50);
  }

  async down(r: TaskReporter = silentReporter): Promise<void> {
    if (!existsSync(this.L.dir)) {
      r.info('no local cluster to remove');
      return;
    }
    await r.task('Stop the control plane', async () => {
      const st = await this.state();
      if (st && pidAlive(st.supervisorPid)) {
        process.kill(st.supervisorPid, 'SIGTERM');
        const end = Date.now() + 30_000;
        while (Date.now() < end && pidAlive(st.supervisorPid)) await sleep(100);
      }
      await this.killOwn();
      const left = await ownProcesses(this.L.dir);
      if (left.length) throw new UserError(`processes still running after down: ${left.join(', ')}`, `kill them with: kill -9 ${left.join(' ')}`);
    });
    await r.task("Remove the cluster's state and the lab kubeconfig", async () => {
      await rm(this.L.dir, { recursive: true, force: true });
      await rm(this.kubeconfigPath, { force: true });
    });
  }

  async status(): Promise<EngineStatus> {
    const cfg = this.config();
    const base: EngineStatus = {
      engine: 'local',
      exists: !!cfg,
      running: false,
      healthy: false,
      kubeconfig: this.kubeconfigPath,
      endpoints: {},
      components: [],
      problems: [],
    };
    if (!cfg) {
      base.problems.push('no local cluster: run `kube-seclab up --engine local`');
      return base;
    }
    base.endpoints = { apiserver: `https://127.0.0.1:${cfg.ports.apiserver}`, etcd: `https://127.0.0.1:${cfg.ports.etcdClient}` };
    const st = await this.state();
    const supAlive = pidAlive(st?.supervisorPid);
    const names: ComponentName[] = [...COMPONENTS, 'kwok'];
    for (const n of names) {
      const c = st?.components[n];
      const alive = pidAlive(c?.pid);
      base.components.push({
        name: n,
        phase: !supAlive ? (alive ? 'orphaned' : 'stopped') : (c?.phase ?? 'unknown'),
        healthy: supAlive && !!c?.healthy && alive,
        pid: alive ? c?.pid : undefined,
        restarts: c?.restarts ?? 0,
        error: c?.error,
        warnings: c?.warnings ?? [],
      });
    }
    base.running = supAlive;
    const api = await this.apiReady();
    base.healthy = supAlive && api.ok && base.components.every((c) => c.healthy);
    if (!supAlive) base.problems.push('the local cluster is stopped (its supervisor is not running): `kube-seclab up` starts it again');
    else {
      if (!api.ok) base.problems.push(`the API server is not ready (${api.detail})`);
      for (const c of base.components) if (!c.healthy) base.problems.push(`${c.name} is ${c.phase}${c.error ? `: ${c.error}` : ''}`);
    }
    return base;
  }

  async readManifest(c: Component): Promise<string> {
    return readFile(this.L.manifest(c), 'utf8');
  }

  async writeManifest(c: Component, yaml: string, opts: { timeoutMs?: number; wait?: boolean } = {}): Promise<void> {
    await writeFileAtomic(this.L.manifest(c), yaml);
    if (opts.wait === false) return;
    await this.waitComponent(c, createHash('sha256').update(yaml).digest('hex'), opts.timeoutMs ?? 90_000);
  }

  /** Wait until the supervisor runs `c` from the manifest with this hash and it is healthy. */
  async waitComponent(c: Component, hash: string, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    let seen = false;
    while (Date.now() < end) {
      const st = await this.state();
      const s = st?.components[c];
      if (!st || !pidAlive(st.supervisorPid)) throw new UserError('the local cluster is not running', 'run `kube-seclab up`');
      if (s?.manifestHash === hash) {
        seen = true;
        if (s.healthy && s.phase === 'running') {
          if (c === 'kube-apiserver') await this.waitApiReady(Math.max(1000, end - Date.now()));
          if (c === 'kube-apiserver' || c === 'etcd') await this.waitClientsBack(s.startedAt, Math.min(30_000, Math.max(0, end - Date.now())));
          return;
        }
        if (s.phase === 'invalid' || (s.phase === 'crashloop' && s.restarts > 0)) {
          throw new UserError(
            `${c} does not start from its manifest: ${s.error ?? 'unknown error'}`,
            `fix /etc/kubernetes/manifests/${c}.yaml, or \`kube-seclab reset\` the lesson to restore it`,
          );
        }
      }
      await sleep(100);
    }
    throw new UserError(
      `${c} did not become healthy within ${timeoutMs / 1000}s${seen ? '' : ' (the manifest change was not picked up)'}`,
      'see `kube-seclab status`',
    );
  }

  /**
   * After a restart of the API server (or etcd) the supervisor starts the controller-manager, the
   * scheduler and kwok afresh once the API server serves (their watches would back off for up to a
   * minute). Wait — bounded, never failing — until those it runs are healthy again, so that what
   * follows (a Deployment to roll out, a status that reads healthy) does not race their restart.
   */
  private async waitClientsBack(since: string | undefined, timeoutMs: number): Promise<void> {
    const from = since ? Date.parse(since) : 0;
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const st = await this.state();
      if (!st) return;
      const pending = API_CLIENTS.filter((n) => {
        const x = st.components[n];
        if (!x || x.phase === 'stopped' || x.phase === 'invalid') return false;
        return !(x.healthy && x.phase === 'running' && x.startedAt && Date.parse(x.startedAt) >= from);
      });
      if (!pending.length) return;
      await sleep(100);
    }
  }

  async restoreManifest(c: Component, opts: { timeoutMs?: number; unlessSameAfter?: (manifest: string) => string } = {}): Promise<boolean> {
    const base = await readFile(join(this.L.baseline, `${c}.yaml`), 'utf8');
    const cur = await readFile(this.L.manifest(c), 'utf8').catch(() => '');
    return restoreBaseline(
      base,
      cur,
      async (text) => {
        await this.writeManifest(c, text, { timeoutMs: opts.timeoutMs });
        await rm(join(this.L.node, '.not-mounted-into-the-pod'), { recursive: true, force: true }); // what a misconfigured flag wrote
      },
      opts.unlessSameAfter,
    );
  }

  async readNodeFile(p: string): Promise<string | undefined> {
    try {
      return await readFile(this.nodePath(p), 'utf8');
    } catch {
      return undefined;
    }
  }
  async writeNodeFile(p: string, content: string): Promise<void> {
    await writeFileAtomic(this.nodePath(p), content, 0o600);
  }
  async removeNodeFile(p: string): Promise<void> {
    await rm(this.nodePath(p), { force: true, recursive: true });
  }

  async listeningAddresses(c: Component): Promise<string[]> {
    const pid = (await this.state())?.components[c]?.pid;
    if (!pid || !pidAlive(pid)) return [];
    if (process.platform !== 'linux') {
      // macOS and others: lsof prints "TCP 127.0.0.1:6443 (LISTEN)" lines for the process.
      const out = await new Promise<string>((resolve) => {
        const p = spawn('lsof', ['-nP', '-a', '-p', String(pid), '-iTCP', '-sTCP:LISTEN', '-Fn']);
        let text = '';
        p.stdout.on('data', (d) => {
          text += d;
        });
        p.on('error', () => resolve(''));
        p.on('close', () => resolve(text));
      });
      return [
        ...new Set(
          out
            .split('\n')
            .filter((l) => l.startsWith('n'))
            .map((l) => l.slice(1).replace(/^\*:/, '0.0.0.0:')),
        ),
      ];
    }
    const inodes = new Set<string>();
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        /* closed meanwhile */
      }
    }
    const out: string[] = [];
    for (const f of ['tcp', 'tcp6']) out.push(...procNetListening(await readFile(`/proc/${pid}/net/${f}`, 'utf8').catch(() => ''), inodes));
    return [...new Set(out)];
  }

  /**
   * kube-bench on this machine, where other local labs (or tests) may run their own kube-apiserver
   * beside this one: every process lookup reads THIS lab's process by the pid its supervisor
   * recorded (/proc/PID/cmdline), and node paths map into the engine's node folder. Its kubectl
   * is the lab's (the cache's binaries first on PATH) and talks only through the lab's kubeconfig.
   */
  async nodeAuditHost(): Promise<NodeAuditHost> {
    const cfg = this.config();
    const st = await this.state();
    if (!cfg || !st || !pidAlive(st.supervisorPid)) throw new UserError('the local cluster is not running', 'run `kube-seclab up --engine local`');
    if (process.platform !== 'linux')
      throw new UserError(
        "kube-bench reads the control plane's processes through /proc: only on Linux",
        'run `kube-seclab dev audit` on Linux, or with `--engine kind`',
      );
    const pids = Object.fromEntries(COMPONENTS.map((c) => [c, st.components[c]?.pid])) as Record<Component, number | undefined>;
    const env = { ...process.env, KUBECONFIG: this.kubeconfigPath, PATH: `${cfg.binDir}:${process.env.PATH ?? ''}` };
    return {
      where: `this machine, the lab's processes by pid (${COMPONENTS.map((c) => `${c} ${pids[c] ?? 'not running'}`).join(', ')})`,
      processId: (c) => {
        const pid = pids[c];
        return pid && pidAlive(pid) ? pid : 0;
      },
      nodePath: (p) => this.nodePath(p),
      kubelet: false,
      stage: async (localPath) => localPath,
      exec: async (argv, opts = {}) => {
        const r = await execa(argv[0], argv.slice(1), {
          env,
          extendEnv: false,
          reject: false,
          timeout: opts.timeoutMs ?? 300_000,
          maxBuffer: 64 * 1024 * 1024,
        });
        return { ok: r.exitCode === 0, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode };
      },
      unchanged: async () => {
        const now = await this.state();
        return COMPONENTS.every((c) => now?.components[c]?.pid === pids[c]);
      },
      dispose: async () => {},
    };
  }

  async etcdGet(key: string): Promise<Buffer | undefined> {
    const cfg = this.config();
    if (!cfg) throw new UserError('no local cluster', 'run `kube-seclab up --engine local`');
    const tls = {
      ca: readFileSync(join(this.L.pki, 'etcd', 'ca.crt'), 'utf8'),
      cert: readFileSync(join(this.L.pki, 'apiserver-etcd-client.crt'), 'utf8'),
      key: readFileSync(join(this.L.pki, 'apiserver-etcd-client.key'), 'utf8'),
    };
    let res;
    try {
      res = await httpsRequest(`https://127.0.0.1:${cfg.ports.etcdClient}/v3/kv/range`, tls, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from(key).toString('base64') }),
      });
    } catch (e) {
      throw new ClusterUnreachableError(`etcd: ${(e as Error).message}`);
    }
    if (res.status !== 200) throw new ClusterUnreachableError(`etcd answered HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    const kv = (JSON.parse(res.body) as { kvs?: { value?: string }[] }).kvs?.[0];
    return kv ? Buffer.from(kv.value ?? '', 'base64') : undefined;
  }
}
