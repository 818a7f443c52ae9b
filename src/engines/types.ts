import type { Component } from './local/manifests.js';
import type { NamespaceRenamer } from '../core/scope/rename.js';
import type { GuardScope } from '../core/guard/guard.js';
import type { NodeNames } from '../core/lessons/placeholders.js';

/** local and kind make a cluster of their own; existing confines a learner to namespaces of a shared cluster. */
export type EngineName = 'local' | 'kind' | 'existing';
export const ENGINES: readonly EngineName[] = ['local', 'kind', 'existing'];
/** What a lesson or a check needs: `api` runs on every engine, `kind` needs a real node and network. */
export type Requirement = 'api' | 'kind';

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

/** Long work reported step by step (CLI prints lines, the TUI renders a task list). */
export interface TaskReporter {
  task<T>(title: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T>;
  info(message: string): void;
}

export const silentReporter: TaskReporter = {
  task: (_t, fn) => fn(() => {}),
  info: () => {},
};

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
  /** kubeadm-style static-pod manifest of a control-plane component, as on the node. */
  readManifest(c: Component): Promise<string>;
  /**
   * Write it and (unless `wait: false`) wait until the component runs healthy from it — throws with
   * the component's own error. `wait: false` is for a shortcut that breaks the component on purpose.
   */
  writeManifest(c: Component, yaml: string, opts?: { timeoutMs?: number; wait?: boolean }): Promise<void>;
  /** Put back the manifest the cluster was created with (lesson reset). Returns whether anything changed. */
  restoreManifest(c: Component, opts?: { timeoutMs?: number }): Promise<boolean>;
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
   * client certificate, it keeps exiting). Undefined: the engine cannot tell.
   */
  apiServerDown?(): Promise<{ state: 'starting' } | { state: 'stuck'; why: string } | undefined>;
  /** Call `onChange` when control-plane state changes (a manifest or node file edited, a component restarted). */
  watchControlPlane(onChange: () => void, signal: AbortSignal): void;
  /** Where the learner edits node files from their own shell (local: a folder; kind: a docker exec hint). */
  nodeAccessHint(): string;
  /**
   * This lab's control-plane node as lesson text names it (`{{node}}`, `{{nodeShell}}`,
   * `{{nodeRoot}}`: src/core/lessons/placeholders.ts); undefined where the engine gives no node access.
   */
  nodeNames(): NodeNames | undefined;
  /**
   * Engines whose pods really run (kind): make sure the node holds the lab's workload images of these
   * names (scenarios/images/images.yaml), building and loading what is missing or changed.
   */
  prepareImages?(names: string[]): Promise<void>;
  /**
   * Engines whose pods really run (kind): build an image of the lab's registry
   * (`registry.kube-seclab.local/<name>`) from a folder and make the node hold it; the digest the
   * node knows it by, so a pod can reference it `@sha256:…`. Without it, nothing is built.
   */
  buildImage?(o: { name: string; context: string; sourceHash: string; update: (s: string) => void }): Promise<{ digest: string }>;
  /** Engines whose pods really run (kind): the id (config digest) of the image the node holds under a reference, if it does. */
  nodeImageId?(ref: string): Promise<string | undefined>;
  /**
   * Engines whose pods really run (kind): the pods the node's NetworkPolicy enforcement holds rules for
   * now (`namespace/name` → the addresses it holds them at), as its last sync saw them; `undefined`
   * when this node's network plugin shows nothing to observe. Probes wait until every pod of the node
   * is in with its current address (src/core/checks/policySync.ts).
   */
  policyEnforcedPods?(): Promise<Map<string, Set<string>> | undefined>;
  /** Engines with a real kubelet (kind): restart it after its config changed, and wait until it serves again. */
  restartKubelet?(): Promise<void>;
  /** Put back the kubelet config the node was created with (restarting the kubelet); whether anything changed. */
  restoreKubeletConfig?(): Promise<boolean>;
  /**
   * Engines that own their control-plane node (local, kind): where a node auditor (kube-bench)
   * runs against this cluster's control-plane processes and node files. `dispose()` it when done.
   */
  nodeAuditHost?(): Promise<NodeAuditHost>;
  /** A shared cluster (existing): the learner's namespace prefix. */
  readonly namespacePrefix?: string;
  /** A shared cluster, once up: how the lab's namespaces are named there, and what the guard allows. */
  shared?(): { rename: NamespaceRenamer; guard: GuardScope } | undefined;
}
