import type { NamespaceRenamer } from '../scope/rename.js';
import type { GuardScope } from '../guard/guard.js';
import type { NodeNames } from '../lessons/placeholders.js';
import type { LabPaths } from '../paths.js';
import type { SharedPlan } from '../scope/lesson-scope.js';
import type { Component } from './component.js';
import type { EngineName, Requirement } from './names.js';
import type { TaskReporter } from './reporter.js';
import type { ExistingOptions } from './shared-options.js';

export interface ComponentHealth {
  name: string;
  phase: string;
  healthy: boolean;
  pid?: number;
  restarts: number;
  error?: string;
  warnings: string[];
}

export interface EngineStatus {
  engine: EngineName;
  /** A lab cluster has been created (it may be stopped). */
  exists: boolean;
  /** Its processes / containers are up. */
  running: boolean;
  /** The API server answers and every component is healthy. */
  healthy: boolean;
  kubeconfig: string;
  endpoints: Record<string, string>;
  components: ComponentHealth[];
  /** One line each: what is wrong, with the next step. */
  problems: string[];
}

/**
 * Where a node-level auditor runs against the cluster's control-plane node: the processes of
 * etcd, kube-apiserver, kube-controller-manager and kube-scheduler, and the node's files.
 */
export interface NodeAuditHost {
  /** Where it runs, in a few words ("this machine, by pid", "inside node container X"). */
  readonly where: string;
  /**
   * THIS cluster's process id of a component, as `exec` sees it (0: not running). Undefined: `ps`
   * where `exec` runs sees only this cluster's processes (a kind node), so an auditor's own process
   * lookup is right as it is; otherwise (the local engine: other labs' kube-apiservers may run on
   * the same machine) auditors must read the process by this id.
   */
  processId(c: Component): number | undefined;
  /** A node path (/etc/kubernetes/pki) as `exec` sees it (local: inside the engine's data folder). */
  nodePath(p: string): string;
  /** A kubelet runs on this node (the CIS worker-node checks mean something). */
  readonly kubelet: boolean;
  /** Make a local file or folder available where `exec` runs; its path there. */
  stage(localPath: string, name: string): Promise<string>;
  /** Run a command there (with a kubectl that talks only to this cluster). Never throws for an exit code. */
  exec(argv: string[], opts?: { timeoutMs?: number }): Promise<{ ok: boolean; stdout: string; stderr: string; exitCode?: number }>;
  /** Whether the processes `processCommand` named are still the ones running (no restart meanwhile). */
  unchanged(): Promise<boolean>;
  /** Remove what `stage` put there. */
  dispose(): Promise<void>;
}

/** An engine that owns its control-plane node (local, kind): its manifests, node files, etcd, listeners. */
export interface ControlPlaneAccess {
  /** kubeadm-style static-pod manifest of a control-plane component, as on the node. */
  readManifest(c: Component): Promise<string>;
  /**
   * Write it and (unless `wait: false`) wait until the component runs healthy from it — throws with
   * the component's own error. `wait: false` is for a shortcut that breaks the component on purpose.
   */
  writeManifest(c: Component, yaml: string, opts?: { timeoutMs?: number; wait?: boolean }): Promise<void>;
  /**
   * Put back the manifest the cluster was created with (lesson reset). Returns whether anything changed.
   * `unlessSameAfter`: an edit about to be made to the component (a reset's scenario step); when it
   * turns the current manifest into the same pod as it turns the baseline into, nothing is written —
   * the edit alone then gives the same result with one restart instead of two.
   */
  restoreManifest(c: Component, opts?: { timeoutMs?: number; unlessSameAfter?: (manifest: string) => string }): Promise<boolean>;
  /** Files on the control-plane node (absolute node paths, e.g. /etc/kubernetes/enc/enc.yaml). */
  readNodeFile(path: string): Promise<string | undefined>;
  writeNodeFile(path: string, content: string): Promise<void>;
  removeNodeFile(path: string): Promise<void>;
  /**
   * Where a control-plane component really accepts TCP connections on the learner's machine, as the
   * operating system reports it (not as its manifest says): "127.0.0.1:6443", "[::1]:6443",
   * "0.0.0.0:6443". Empty when it is not running. (kind: the host side of the node's port mappings.)
   */
  listeningAddresses(c: Component): Promise<string[]>;
  /** Raw bytes etcd stores under a key (e.g. /registry/secrets/ns/name), undefined if absent. */
  etcdGet(key: string): Promise<Buffer | undefined>;
  /**
   * While the API server does not answer: whether it is on its way back (`starting`: a component
   * restarts) or will not come back by itself (`stuck`, and why: etcd refuses it for want of a
   * client certificate, it keeps exiting). Undefined: the engine cannot tell. Absent: never asked.
   */
  apiServerDown?(): Promise<{ state: 'starting' } | { state: 'stuck'; why: string } | undefined>;
  /** Call `onChange` when control-plane state changes (a manifest or node file edited, a component restarted). */
  watchControlPlane(onChange: () => void, signal: AbortSignal): void;
  /**
   * This lab's control-plane node as lesson text names it (`{{node}}`, `{{nodeShell}}`,
   * `{{nodeRoot}}`: src/core/lessons/placeholders.ts).
   */
  nodeNames(): NodeNames;
  /** Where a node auditor (kube-bench) runs against this cluster's control-plane processes and node files. `dispose()` it when done. */
  nodeAuditHost(): Promise<NodeAuditHost>;
}

/** An engine whose pods really run on a real node with a kubelet (kind). */
export interface NodeAccess {
  /**
   * Make sure the node holds the lab's workload images of these names (scenarios/images/images.yaml),
   * building and loading what is missing or changed.
   */
  prepareImages(names: string[]): Promise<void>;
  /**
   * Build an image of the lab's registry (`registry.kube-seclab.local/<name>`) from a folder and make
   * the node hold it; the digest the node knows it by, so a pod can reference it `@sha256:…`.
   */
  buildImage(o: { name: string; context: string; sourceHash: string; update: (s: string) => void }): Promise<{ digest: string }>;
  /** The id (config digest) of the image the node holds under a reference, if it does. */
  nodeImageId(ref: string): Promise<string | undefined>;
  /**
   * The pods the node's NetworkPolicy enforcement holds rules for now (`namespace/name` → the
   * addresses it holds them at), as its last sync saw them; `undefined` when this node's network
   * plugin shows nothing to observe. Probes wait until every pod of the node is in with its current
   * address (src/core/checks/policySync.ts).
   */
  policyEnforcedPods(): Promise<Map<string, Set<string>> | undefined>;
  /** Restart the kubelet after its config changed, and wait until it serves again. */
  restartKubelet(): Promise<void>;
  /** Put back the kubelet config the node was created with (restarting the kubelet); whether anything changed. */
  restoreKubeletConfig(): Promise<boolean>;
}

/** A shared cluster (existing): the learner's namespaces and what the guard allows there. */
export interface SharedScope {
  /** The learner's namespace prefix. */
  readonly namespacePrefix: string | undefined;
  /** Once up: how the lab's namespaces are named there, and what the guard allows. */
  scope(): { rename: NamespaceRenamer; guard: GuardScope } | undefined;
}

/**
 * What core asks of an engine: its lifecycle and identity, and the capabilities it has. A
 * capability an engine lacks is absent — never stubbed — and callers say so (./capabilities.ts).
 */
export interface Engine {
  readonly name: EngineName;
  readonly kubeconfigPath: string;
  supports(req: Requirement): boolean;
  /** Create or start the cluster (reusing a healthy one), write the lab kubeconfig, mark it as the lab's. */
  up(reporter?: TaskReporter, signal?: AbortSignal): Promise<void>;
  /** Stop and remove the cluster; leaves no process or container behind. */
  down(reporter?: TaskReporter): Promise<void>;
  status(): Promise<EngineStatus>;
  /** The lab id the cluster was created with (the ownership marker's value), if it exists. */
  labId(): Promise<string | undefined>;
  /** Where the learner edits node files from their own shell (local: a folder; kind: a docker exec hint; existing: none). */
  nodeAccessHint(): string;
  /** Engines that own their control-plane node (local, kind). */
  readonly controlPlane?: ControlPlaneAccess;
  /** Engines whose pods really run on a node with a kubelet (kind). */
  readonly node?: NodeAccess;
  /** A shared cluster (existing). */
  readonly shared?: SharedScope;
}

/** One thing an engine needs of this machine, checked without starting anything. */
export interface HostRequirement {
  name: string;
  /** Files and PATH only (the TUI's preflight); `deep`: also ask the tools themselves (versions, a daemon: `doctor`). */
  check(o?: { deep?: boolean }): Promise<RequirementResult>;
}
export interface RequirementResult {
  ok: boolean;
  detail: string;
  fix?: string;
  /** Not needed for the engine in use (a warning, not a failure). */
  optional?: boolean;
}

/** Where requirements are checked: the lab's environment and cache, and which engine is in use. */
export interface RequirementContext {
  env: NodeJS.ProcessEnv;
  cacheDir: string;
  /** The engine the lab uses now. */
  inUse: EngineName;
}

/**
 * Engines, made for core by the one module that knows them (the engines module, index.ts): the CLI and the
 * TUI hand it to `Lab.open`, so core never imports an engine.
 */
export interface EngineFactory {
  create(name: EngineName, paths: LabPaths, env?: NodeJS.ProcessEnv, existing?: ExistingOptions & { plan?: SharedPlan }): Engine;
  /** The engine a lab gets when nobody chose one, and why (for `up` to say). */
  defaultEngine(env: NodeJS.ProcessEnv, cacheDir: string): Promise<{ name: EngineName; why: string }>;
  /** What an engine needs of this machine: the TUI's preflight and `doctor` both list these. */
  requirements(name: EngineName, ctx: RequirementContext): HostRequirement[];
}
