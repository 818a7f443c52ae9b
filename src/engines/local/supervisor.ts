/**
 * The local engine's supervisor: a small detached process that plays kubelet for the control
 * plane. It runs each static-pod manifest in node/etc/kubernetes/manifests as a process, restarts
 * a component when its manifest changes (and, with back-off, when it crashes), probes health the
 * way the manifest's livenessProbe says, and publishes everything in state.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watch, openSync, closeSync, readFileSync, existsSync, renameSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parse } from 'yaml';
import { COMPONENTS, type Component } from '../../core/engine/index.js';
import { manifestToProcess, ManifestError } from './manifests.js';
import { API_CLIENTS, localLayout, type ComponentName, type ComponentState, type LocalEngineConfig, type SupervisorState } from './layout.js';
import { httpsRequest } from '../common/https.js';
import { KWOK_FLAGS } from './kwok-stages.js';
import { writeFileAtomic, sleep } from '../../core/fsutil.js';

const ALL: ComponentName[] = [...COMPONENTS, 'kwok'];
const STOP_GRACE_MS = 8000;
/**
 * The API server drains for up to a minute on SIGTERM (in-flight long-running requests) while a
 * replacement cannot bind its port. It keeps no state of its own (etcd does), so a restart the
 * lab makes gives it one second before the kill — a control-plane lesson's restart then takes
 * seconds, not the eight of the general grace.
 */
const RESTART_GRACE_MS: Partial<Record<ComponentName, number>> = { 'kube-apiserver': 1000 };

interface Running {
  child: ChildProcess;
  hash: string;
  replaced: boolean;
}

export class Supervisor {
  private readonly L;
  private readonly cfg: LocalEngineConfig;
  private readonly running = new Map<ComponentName, Running>();
  private readonly restartTimers = new Map<ComponentName, NodeJS.Timeout>();
  private readonly healthySince = new Map<ComponentName, number>();
  private readonly state: SupervisorState;
  private stopping = false;
  private dirty = true;
  private writing = Promise.resolve();
  private readonly busy = new Map<ComponentName, Promise<void>>();
  /** Exits since the component was last healthy: the back-off grows with these, as a kubelet's resets once a container runs. */
  private readonly crashStreak = new Map<ComponentName, number>();
  /** The API server was restarted after the start: its clients get fresh processes once it serves again. */
  private reconnectClients = false;
  private started = false;

  constructor(dir: string) {
    this.L = localLayout(dir);
    this.cfg = JSON.parse(readFileSync(this.L.config, 'utf8')) as LocalEngineConfig;
    const now = new Date().toISOString();
    const components = {} as Record<ComponentName, ComponentState>;
    for (const c of ALL) components[c] = { phase: 'waiting', healthy: false, restarts: 0, warnings: [] };
    this.state = { supervisorPid: process.pid, startedAt: now, updatedAt: now, components };
  }

  private set(c: ComponentName, patch: Partial<ComponentState>): void {
    Object.assign(this.state.components[c], patch);
    this.dirty = true;
  }

  private async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    this.state.updatedAt = new Date().toISOString();
    const body = JSON.stringify(this.state, null, 2);
    this.writing = this.writing.then(() => writeFileAtomic(this.L.state, body)).catch(() => {});
    await this.writing;
  }

  async run(): Promise<void> {
    mkdirSync(this.L.logs, { recursive: true });
    mkdirSync(this.L.lastGood, { recursive: true });
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void this.shutdown());
    await this.flush();
    // Start in order; each waits (bounded) for the one before it, as kubeadm's init does.
    for (const c of ALL) {
      if (this.stopping) return;
      await this.restart(c);
      if (c === 'etcd' || c === 'kube-apiserver') await this.waitHealthy(c, 30_000);
    }
    this.started = true;
    this.watchManifests();
    while (!this.stopping) {
      await this.probeAll();
      await this.flush();
      await sleep(500);
    }
  }

  private watchManifests(): void {
    let timer: NodeJS.Timeout | undefined;
    const onChange = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        for (const c of COMPONENTS) {
          const hash = this.manifestHash(c);
          const cur = this.running.get(c)?.hash ?? this.state.components[c].manifestHash;
          if (hash !== cur) void this.restart(c);
        }
      }, 250);
    };
    try {
      watch(this.L.manifests, onChange);
    } catch {
      /* fall back to the periodic check below */
    }
    setInterval(onChange, 2000).unref();
  }

  private manifestHash(c: Component): string | undefined {
    try {
      return createHash('sha256')
        .update(readFileSync(this.L.manifest(c)))
        .digest('hex');
    } catch {
      return undefined;
    }
  }

  /** Serialises restarts of one component. */
  private restart(c: ComponentName): Promise<void> {
    const prev = this.busy.get(c) ?? Promise.resolve();
    const next = prev
      .then(() => this.doRestart(c))
      .catch((e) => {
        this.set(c, { phase: 'invalid', error: String((e as Error).message ?? e) });
      });
    this.busy.set(c, next);
    return next;
  }

  private async doRestart(c: ComponentName): Promise<void> {
    if (this.stopping) return;
    clearTimeout(this.restartTimers.get(c));
    let argv: string[];
    let hash = '';
    let warnings: string[] = [];
    if (c === 'kwok') {
      argv = ['kwok', `--kubeconfig=${join(this.L.kubeconfigs, 'kwok.conf')}`, `--config=${this.L.kwokConfig}`, ...KWOK_FLAGS];
    } else {
      const path = this.L.manifest(c);
      if (!existsSync(path)) {
        await this.stop(c);
        this.set(c, { phase: 'stopped', healthy: false, pid: undefined, manifestHash: undefined, error: `no manifest at /etc/kubernetes/manifests/${c}.yaml` });
        return;
      }
      const text = await readFile(path, 'utf8');
      hash = createHash('sha256').update(text).digest('hex');
      try {
        const spec = manifestToProcess(text, c, this.L.node);
        argv = spec.argv;
        warnings = [...spec.overrides, ...spec.warnings];
        const bin = argv[0].split('/').pop();
        if (bin !== c) throw new ManifestError(`${c}.yaml: the command must start with ${c} (found ${argv[0]})`);
      } catch (e) {
        // Like a kubelet that cannot parse a manifest: keep what runs, report the problem.
        this.set(c, { phase: 'invalid', error: (e as Error).message, manifestHash: hash });
        if (this.running.has(c)) this.running.get(c)!.hash = hash;
        return;
      }
    }
    await this.stop(c);
    if (this.started && (c === 'kube-apiserver' || c === 'etcd')) this.reconnectClients = true;
    const logPath = join(this.L.logs, `${c}.log`);
    if (existsSync(logPath)) renameSync(logPath, join(this.L.logs, `${c}.previous.log`));
    const fd = openSync(logPath, 'a');
    const child = spawn(join(this.cfg.binDir, argv[0]), argv.slice(1), { stdio: ['ignore', fd, fd], env: { ...process.env, KUBECONFIG: '' } });
    closeSync(fd);
    const run: Running = { child, hash, replaced: false };
    this.running.set(c, run);
    this.healthySince.delete(c);
    this.set(c, {
      phase: 'starting',
      pid: child.pid,
      healthy: false,
      startedAt: new Date().toISOString(),
      manifestHash: hash || undefined,
      warnings,
      error: undefined,
    });
    child.on('error', (err) => {
      this.set(c, { phase: 'crashloop', healthy: false, pid: undefined, error: `could not start ${argv[0]}: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      if (run.replaced || this.stopping) return;
      this.running.delete(c);
      const st = this.state.components[c];
      const restarts = st.restarts + 1;
      this.set(c, {
        phase: 'crashloop',
        healthy: false,
        pid: undefined,
        restarts,
        lastExit: { code, signal, at: new Date().toISOString() },
        error: `exited (${signal ?? `code ${code}`}): ${tailError(logPath)}`,
      });
      void this.flush();
      const streak = (this.crashStreak.get(c) ?? 0) + 1;
      this.crashStreak.set(c, streak);
      const backoff = Math.min(1000 * 2 ** Math.min(streak - 1, 4), 10_000);
      this.restartTimers.set(
        c,
        setTimeout(() => void this.restart(c), backoff),
      );
    });
    await this.flush();
  }

  private async stop(c: ComponentName): Promise<void> {
    const run = this.running.get(c);
    if (!run) return;
    run.replaced = true;
    this.running.delete(c);
    await killAndWait(run.child, RESTART_GRACE_MS[c] ?? STOP_GRACE_MS);
  }

  private async waitHealthy(c: ComponentName, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end && !this.stopping) {
      await this.probe(c);
      await this.flush();
      if (this.state.components[c].healthy) return;
      await sleep(200);
    }
  }

  private async probeAll(): Promise<void> {
    await Promise.all(ALL.map((c) => this.probe(c)));
  }

  private async probe(c: ComponentName): Promise<void> {
    const run = this.running.get(c);
    if (!run) {
      if (this.state.components[c].healthy) this.set(c, { healthy: false });
      return;
    }
    let healthy = false;
    let why: string | undefined;
    if (c === 'kwok') {
      healthy = run.child.exitCode === null;
    } else {
      try {
        const url = this.probeUrl(c as Component);
        const tls =
          c === 'etcd'
            ? {
                cert: readFileSync(join(this.L.pki, 'etcd', 'healthcheck-client.crt'), 'utf8'),
                key: readFileSync(join(this.L.pki, 'etcd', 'healthcheck-client.key'), 'utf8'),
              }
            : {};
        const res = await httpsRequest(url, tls, { timeoutMs: 1500 });
        healthy = res.status === 200;
        if (!healthy) why = `liveness probe ${new URL(url).pathname} returned HTTP ${res.status} (kubelet probes are anonymous)`;
      } catch {
        why = undefined; // still starting or not listening yet
      }
    }
    const st = this.state.components[c];
    if (healthy) {
      if (!this.healthySince.has(c)) this.healthySince.set(c, Date.now());
      this.crashStreak.delete(c);
      if (!st.healthy || st.phase !== 'running') {
        this.set(c, { healthy: true, phase: 'running', error: undefined });
        if (c !== 'kwok' && run.hash) this.saveLastGood(c as Component);
      }
      if (c === 'kube-apiserver' && this.reconnectClients) {
        // The controller-manager, scheduler and kwok back their watches off through an API server
        // restart (client-go: up to 30 s, doubled by jitter, reset only after two quiet minutes) —
        // after a few lesson restarts a Deployment waited up to a minute for its ReplicaSet. Fresh
        // processes list and watch at once, as a kubelet restarting them on a node would.
        this.reconnectClients = false;
        for (const client of API_CLIENTS) if (this.running.has(client) || this.state.components[client].phase === 'crashloop') void this.restart(client);
      }
    } else if (st.healthy || (why && st.error !== why)) {
      this.healthySince.delete(c);
      this.set(c, { healthy: false, error: why ?? st.error });
    }
  }

  private probeUrl(c: Component): string {
    const pod: any = parse(readFileSync(this.L.manifest(c), 'utf8'));
    const g = pod?.spec?.containers?.[0]?.livenessProbe?.httpGet;
    const port =
      g?.port ??
      {
        etcd: this.cfg.ports.etcdClient,
        'kube-apiserver': this.cfg.ports.apiserver,
        'kube-controller-manager': this.cfg.ports.controllerManager,
        'kube-scheduler': this.cfg.ports.scheduler,
      }[c];
    return `https://127.0.0.1:${port}${g?.path ?? '/healthz'}`;
  }

  private saveLastGood(c: Component): void {
    try {
      copyFileSync(this.L.manifest(c), join(this.L.lastGood, `${c}.yaml`));
    } catch {
      /* best effort */
    }
  }

  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.state.stopping = true;
    this.dirty = true;
    await this.flush();
    for (const t of this.restartTimers.values()) clearTimeout(t);
    for (const c of [...ALL].reverse()) {
      const run = this.running.get(c);
      if (run) {
        run.replaced = true;
        await killAndWait(run.child, STOP_GRACE_MS);
      }
      this.set(c, { phase: 'stopped', pid: undefined, healthy: false });
    }
    this.running.clear();
    this.state.supervisorPid = 0;
    this.dirty = true;
    await this.flush();
    process.exit(0);
  }
}

function killAndWait(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The most telling line of a component's log: its last error, or its last line. */
export function tailError(logPath: string): string {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8').slice(-16_384);
  } catch {
    return 'no log';
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const err = [...lines].reverse().find((l) => /^(Error|error|E\d{4}|F\d{4})|\berror\b|failed|invalid|unknown flag|no such file/i.test(l));
  return (err ?? lines[lines.length - 1] ?? 'no output').slice(0, 400);
}

/** Entry point: `node supervisor.js <engineDir>` (spawned detached by the local engine). */
export async function main(dir: string): Promise<void> {
  const sup = new Supervisor(dir);
  writeFileSync(join(dir, 'supervisor.pid'), String(process.pid));
  await sup.run();
}
